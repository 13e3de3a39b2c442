"""Exceptions the engine raises to its callers."""

from __future__ import annotations

from pathlib import Path


class ClipDecodeError(Exception):
    """The clip cannot be scored because it is not decodable video: the caller records a failed generation.

    `reason` is a human sentence saying what is wrong and why, e.g.
    "no video stream (the file holds only audio)".
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(f"{Path(self.path).name}: {reason}" if self.path else reason)


class ClipTimeoutError(ClipDecodeError):
    """Probing or decoding the clip took longer than the allowed time."""
