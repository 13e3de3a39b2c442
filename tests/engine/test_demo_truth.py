"""The engine against the demo generator's ground truth: cut times within ±2 frames, offsets within ±40 ms."""

from __future__ import annotations

import json
from pathlib import Path

from scoring import engine
from scoring.engine.script import prompt_from_dict

FRAME_TOLERANCE = 2
OFFSET_TOLERANCE_MS = 40


def _scored_demo(demo_dir: Path) -> list[tuple[dict, dict, dict]]:
    """(truth of one clip, its scored result, its truth file's header) for every demo clip present."""
    prompts = {p["id"]: prompt_from_dict(p) for p in json.loads((demo_dir / "suite" / "suite.json").read_text())["prompts"]}
    scored = []
    for truth_file in sorted((demo_dir / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        for prompt_id, clip_truth in truth["clips"].items():
            if clip_truth["missing"]:
                continue
            clip = demo_dir / "clips" / truth["model"] / f"{prompt_id}.mp4"
            scored.append((clip_truth, engine.score_clip(clip, prompts[prompt_id]).to_dict(), truth))
    return scored


def test_detected_boundaries_match_the_generated_cuts_and_transitions(demo_dir: Path) -> None:
    matched = detected_total = truth_total = 0
    for clip_truth, result, header in _scored_demo(demo_dir):
        fps = header["fps"]
        truth_frames = [b["frame"] for b in clip_truth["boundaries"]]
        detected_frames = [round(t * fps) for t in result["evidence"]["shots"]["boundaries_s"]]
        remaining = list(detected_frames)
        for frame in truth_frames:
            near = [d for d in remaining if abs(d - frame) <= FRAME_TOLERANCE]
            if near:
                matched += 1
                remaining.remove(min(near, key=lambda d: abs(d - frame)))
        detected_total += len(detected_frames)
        truth_total += len(truth_frames)
    precision, recall = matched / detected_total, matched / truth_total
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.9, f"boundary F1 {f1:.3f} (precision {precision:.3f}, recall {recall:.3f})"


def test_measured_audio_offsets_match_the_generated_offsets(demo_dir: Path) -> None:
    measured = []
    for clip_truth, result, _ in _scored_demo(demo_dir):
        sync = result["evidence"]["sync"]
        if result["metrics"]["sync_offset"]["status"] == "measured":
            measured.append((clip_truth["audio_offset_ms"], sync["offset_ms"]))
    assert measured, "no clip of the demo slice had a measurable offset"
    errors = [abs(found - truth) for truth, found in measured]
    assert max(errors) <= OFFSET_TOLERANCE_MS, measured
    assert {truth for truth, _ in measured} >= {0, 400}  # both the in-sync and the late-audio model
