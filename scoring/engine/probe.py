"""`probe_clip`: a bounded PyAV check that a file is decodable video, and what its streams are."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av

from .errors import ClipDecodeError, ClipTimeoutError

MIN_IO_TIMEOUT_S = 1.0
# Demuxers FFmpeg uses for single images: such a file "decodes" but is not a clip.
_IMAGE_FORMATS = ("image2", "_pipe", "gif", "apng", "webp")


@dataclass(frozen=True)
class ClipProbe:
    """What a clip holds, read from its container and the first decoded frames."""

    path: str
    container_format: str
    duration_s: float
    video_codec: str
    width: int
    height: int
    fps: float
    frame_count: int  # from the container when it says, else duration * fps
    has_audio: bool
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_av_error(exc: BaseException) -> str:
    """A short human description of a PyAV/FFmpeg error (its strerror without the file path)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).strip()


def open_container(path: str | Path, timeout_s: float) -> av.container.InputContainer:
    """Open a clip for reading, turning every failure into a ClipDecodeError with its reason."""
    p = Path(path)
    if not p.exists():
        raise ClipDecodeError("the file does not exist", p)
    if not p.is_file():
        raise ClipDecodeError("the path is not a regular file", p)
    if p.stat().st_size == 0:
        raise ClipDecodeError("the file is empty (0 bytes)", p)
    started = time.monotonic()
    try:
        # `timeout` bounds FFmpeg's blocking reads (open and read), e.g. on a stalled network mount;
        # FFmpeg needs a sane minimum, the caller's (possibly tighter) budget is checked on the clock.
        container = av.open(str(p), mode="r", timeout=max(timeout_s, MIN_IO_TIMEOUT_S))
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ClipDecodeError(
            f"not a decodable media file: FFmpeg could not read a container from it ({describe_av_error(exc)})", p
        ) from exc
    if time.monotonic() - started > timeout_s:
        container.close()
        raise ClipTimeoutError(f"opening took longer than {timeout_s:g} s", p)
    return container


def probe_clip(path: str | Path, *, timeout_s: float = 10.0, check_frames: int = 3) -> ClipProbe:
    """Read the container and decode at most `check_frames` video frames to prove the clip decodes.

    Raises ClipDecodeError (reason says what and why) when the file is not decodable media, is a still
    image, has no video stream or its video stream yields no frame; ClipTimeoutError past `timeout_s`.
    """
    p = Path(path)
    started = time.monotonic()
    container = open_container(p, timeout_s)
    with container:
        format_name = container.format.name if container.format else "unknown"
        if not container.streams.video:
            kinds: list[str] = sorted({s.type for s in container.streams}) or ["no streams at all"]
            raise ClipDecodeError(f"no video stream (the file holds: {', '.join(kinds)})", p)
        if any(marker in format_name for marker in _IMAGE_FORMATS):
            raise ClipDecodeError(f"a still image ({format_name}), not a video clip", p)
        vstream = container.streams.video[0]
        decoded = 0
        width = height = 0
        try:
            for packet in container.demux(vstream):
                if time.monotonic() - started > timeout_s:
                    raise ClipTimeoutError(f"probing took longer than {timeout_s:g} s", p)
                for frame in packet.decode():
                    decoded += 1
                    width, height = frame.width, frame.height
                if decoded >= check_frames:
                    break
        except av.FFmpegError as exc:
            raise ClipDecodeError(f"the video stream does not decode ({describe_av_error(exc)})", p) from exc
        if decoded == 0:
            raise ClipDecodeError("the video stream holds no decodable frame", p)

        rate = vstream.average_rate or vstream.guessed_rate or vstream.base_rate
        fps = float(rate) if rate else 0.0
        if container.duration is not None and container.duration > 0:
            duration_s = container.duration / av.time_base
        elif vstream.duration is not None and vstream.time_base is not None:
            duration_s = float(vstream.duration * vstream.time_base)
        else:
            duration_s = 0.0
        frame_count = int(vstream.frames) if vstream.frames else int(round(duration_s * fps))

        astream = container.streams.audio[0] if container.streams.audio else None
        return ClipProbe(
            path=str(p),
            container_format=format_name,
            duration_s=round(duration_s, 6),
            video_codec=vstream.codec_context.name,
            width=width or vstream.codec_context.width,
            height=height or vstream.codec_context.height,
            fps=round(fps, 6),
            frame_count=frame_count,
            has_audio=astream is not None,
            audio_codec=astream.codec_context.name if astream is not None else None,
            sample_rate=int(astream.codec_context.sample_rate) if astream is not None else None,
            channels=int(astream.codec_context.channels) if astream is not None else None,
        )
