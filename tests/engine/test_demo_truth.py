"""The engine against the demo generator's ground truth: cut times within ±2 frames, offsets within ±40 ms."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command

from leaderboard.demo.evaluation import OFFSET_TOLERANCE_MS, check_against_truth


def test_boundaries_and_offsets_match_the_generated_truth(demo_dir: Path) -> None:
    check = check_against_truth(demo_dir)

    assert check.clips > 0
    assert check.f1 >= 0.9, check.summary()
    assert check.offsets, "no clip of the demo slice had a measurable offset"
    assert max(check.offset_errors_ms) <= OFFSET_TOLERANCE_MS, check.offsets
    assert {truth for _, _, truth, _ in check.offsets} >= {0.0, 400.0}  # the in-sync and the late-audio model


def test_evaluate_demo_command_prints_the_figures(demo_dir: Path) -> None:
    out = io.StringIO()
    call_command("evaluate_demo", str(demo_dir), stdout=out)
    assert "F1" in out.getvalue() and "offsets: measured on" in out.getvalue()
