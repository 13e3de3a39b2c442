"""Fixtures of the public-leaderboard tests: an imported demo suite (4 prompts) and a clean cache per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import import_demo_suite


@pytest.fixture(autouse=True)
def _clean_cache(settings):  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from leaderboard.cache import local_clear

    cache.clear()
    local_clear()
    yield
    cache.clear()
    local_clear()


@pytest.fixture
def suite(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return import_demo_suite(demo_dir)


@pytest.fixture
def prompt_ids(suite) -> list[str]:  # type: ignore[no-untyped-def]
    return list(suite.prompts.order_by("position").values_list("prompt_id", flat=True))
