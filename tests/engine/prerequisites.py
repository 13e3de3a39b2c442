"""Optional parts of the engine (the `models` extra, the fetched real footage): a test that needs a missing one
skips on a developer's machine, but fails under CI (CI=true), where everything is installed."""

from __future__ import annotations

import os

import pytest


def need(available: bool, reason: str) -> None:
    if not available:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
