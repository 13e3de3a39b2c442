"""Fixtures of the ranking tests: a scored suite with known true model qualities."""

from __future__ import annotations

import pytest

from tests.ranking.builders import ScoredSuite, scored_suite

TRUTH = {"alpha": 0.9, "bravo": 0.75, "charlie": 0.6, "delta": 0.45, "echo": 0.3}


@pytest.fixture
def scored(db: None) -> ScoredSuite:
    return scored_suite(truth=TRUTH, prompts=6)


@pytest.fixture
def few_rounds(settings) -> None:  # type: ignore[no-untyped-def]
    """Fewer bootstrap rounds: these tests check plumbing, not interval accuracy."""
    settings.MSAV_RANKING_BOOTSTRAP_ROUNDS = 100


@pytest.fixture
def settings_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh MEDIA_ROOT the live server serves clips from."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root
