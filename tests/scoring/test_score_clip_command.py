"""`manage.py score_clip CLIP --suite NAME --prompt ID --json`: the documented keys, and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from scoring.engine.catalog import DIMENSIONS
from tests.factories import import_demo_suite

pytestmark = pytest.mark.django_db


def test_json_output_has_overall_dimensions_metrics_and_cut_times(demo_dir: Path, media_root: Path) -> None:
    suite = import_demo_suite(demo_dir)
    truth = json.loads((demo_dir / "truth" / "aurora-av.json").read_text())["clips"]["action-001"]
    out = io.StringIO()

    call_command("score_clip", str(demo_dir / "clips" / "aurora-av" / "action-001.mp4"),
                 "--suite", suite.name, "--prompt", "action-001", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert 0 <= result["overall"] <= 1
    assert set(result["dimensions"]) == {"video", "audio", "shot", "reference", "sync"} == set(DIMENSIONS)
    for metric in result["metrics"].values():
        assert {"value", "status", "tool", "version"} <= set(metric)
        assert metric["status"] in {"measured", "not_measured", "failed"}
    cuts = result["evidence"]["shots"]["boundaries_s"]
    fps = 24
    assert [round(t * fps) for t in cuts] == pytest.approx([b["frame"] for b in truth["boundaries"]], abs=2)


def test_human_readable_output_names_each_dimension(demo_dir: Path, media_root: Path) -> None:
    suite = import_demo_suite(demo_dir)
    out = io.StringIO()

    call_command("score_clip", str(demo_dir / "clips" / "aurora-av" / "advert-002.mp4"),
                 "--suite", suite.name, "--prompt", "advert-002", stdout=out)

    text = out.getvalue()
    assert "overall" in text and all(dimension in text for dimension in DIMENSIONS)


def test_unknown_prompt_and_broken_clip_are_clear_errors(demo_dir: Path, media_root: Path, tmp_path: Path) -> None:
    suite = import_demo_suite(demo_dir)
    clip = demo_dir / "clips" / "aurora-av" / "advert-002.mp4"
    with pytest.raises(CommandError, match='has no prompt "nope"'):
        call_command("score_clip", str(clip), "--suite", suite.name, "--prompt", "nope")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    with pytest.raises(CommandError, match="does not decode"):
        call_command("score_clip", str(broken), "--suite", suite.name, "--prompt", "advert-002")
    with pytest.raises(CommandError, match="no such file"):
        call_command("score_clip", str(tmp_path / "absent.mp4"), "--suite", suite.name, "--prompt", "advert-002")
