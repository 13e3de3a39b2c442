"""generate_demo's outputs around the clips: models.json, truth files, the stamp, reruns and the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard.demo.generator import STAMP_NAME, DemoManifest, demo_is_complete, generate_demo
from leaderboard.demo.roster import PARADIGMS, TASKS

from .conftest import SLICE_MODELS, SLICE_PROMPTS

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY_FIELDS = {"name", "slug", "organisation", "url", "license", "open", "paradigm", "task", "description"}


def test_models_json_lists_the_registry_entries_best_first(demo_slice: DemoManifest) -> None:
    entries = json.loads(demo_slice.models_json.read_text())
    assert [e["slug"] for e in entries] == SLICE_MODELS
    assert [e["intended_rank"] for e in entries] == sorted(e["intended_rank"] for e in entries)
    for entry in entries:
        assert REGISTRY_FIELDS <= set(entry)
        assert entry["paradigm"] in PARADIGMS and entry["task"] in TASKS and isinstance(entry["open"], bool)
        assert "defects" in entry
    drift = next(e for e in entries if e["slug"] == "driftsync")
    assert drift["defects"]["audio_offset_ms"] == 400 and "400 ms" in drift["description"]


def test_suite_and_truth_files_match_the_requested_slice(demo_slice: DemoManifest) -> None:
    suite = json.loads(demo_slice.suite_json.read_text())
    assert suite["name"] == "msav-demo" and {p["id"] for p in suite["prompts"]} == set(SLICE_PROMPTS)
    for slug in SLICE_MODELS:
        truth = json.loads(demo_slice.truth[slug].read_text())
        assert truth["model"] == slug and set(truth["clips"]) == set(SLICE_PROMPTS)
    assert demo_is_complete(demo_slice.out_dir, models=SLICE_MODELS, prompts=SLICE_PROMPTS)
    assert not demo_is_complete(demo_slice.out_dir, models=SLICE_MODELS, prompts=SLICE_PROMPTS, seed=8)
    assert not demo_is_complete(demo_slice.out_dir)  # the full demo was not generated here


def test_stamp_notices_damage_and_a_rerun_replaces_stale_output(tmp_path: Path) -> None:
    params = {"models": ["driftsync"], "prompts": ["advert-002"]}
    manifest = generate_demo(tmp_path, workers=1, **params)  # type: ignore[arg-type]
    assert demo_is_complete(tmp_path, **params)  # type: ignore[arg-type]
    clip = manifest.clips["driftsync"][0]
    clip.write_bytes(clip.read_bytes()[:-10])
    assert not demo_is_complete(tmp_path, **params)  # type: ignore[arg-type]
    stale = tmp_path / "submissions" / "old-model.zip"
    stale.write_bytes(b"stale")
    generate_demo(tmp_path, workers=1, **params)  # type: ignore[arg-type]
    assert not stale.exists()
    assert demo_is_complete(tmp_path, **params)  # type: ignore[arg-type]
    assert (tmp_path / STAMP_NAME).is_file()


def test_unknown_names_are_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="aurora-av"):
        generate_demo(tmp_path, models=["no-such-model"])
    with pytest.raises(KeyError, match="dialogue-001"):
        generate_demo(tmp_path, prompts=["no-such-prompt"])


def test_management_command_writes_and_then_skips(tmp_path: Path) -> None:
    command = [sys.executable, "manage.py", "generate_demo", str(tmp_path), "--models", "driftsync", "--prompts", "advert-002"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    first = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "submissions" in first.stdout and (tmp_path / "submissions" / "driftsync.zip").is_file()
    second = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "up to date" in second.stdout
