"""Score demo clips with the engine and compare with the generator's ground truth (cuts, offsets). No Django."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoring import engine
from scoring.engine.script import prompt_from_dict

FRAME_TOLERANCE = 2
OFFSET_TOLERANCE_MS = 40.0


@dataclass
class TruthCheck:
    """How the engine's shot boundaries and audio-visual offsets compare with the demo's ground truth."""

    clips: int = 0
    truth_boundaries: int = 0
    detected_boundaries: int = 0
    matched_boundaries: int = 0
    offsets: list[tuple[str, str, float, float]] = field(default_factory=list)  # model, prompt, truth, found
    offsets_not_measured: int = 0

    @property
    def precision(self) -> float:
        return self.matched_boundaries / self.detected_boundaries if self.detected_boundaries else 0.0

    @property
    def recall(self) -> float:
        return self.matched_boundaries / self.truth_boundaries if self.truth_boundaries else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def offset_errors_ms(self) -> list[float]:
        return [abs(found - truth) for _, _, truth, found in self.offsets]

    def summary(self) -> str:
        errors = self.offset_errors_ms
        within = sum(error <= OFFSET_TOLERANCE_MS for error in errors)
        return (
            f"clips {self.clips}; boundaries: truth {self.truth_boundaries}, detected {self.detected_boundaries}, "
            f"matched ±{FRAME_TOLERANCE} frames {self.matched_boundaries}: precision {self.precision:.3f}, "
            f"recall {self.recall:.3f}, F1 {self.f1:.3f}\n"
            f"offsets: measured on {len(errors)} clips ({within} within ±{OFFSET_TOLERANCE_MS:.0f} ms, "
            f"max error {max(errors, default=0.0):.1f} ms), not measured on {self.offsets_not_measured}"
        )


def scored_demo_clips(demo_dir: Path) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any], float]]:
    """(model slug, prompt id, clip truth, engine result dict, fps) for every demo clip that exists."""
    suite = json.loads((demo_dir / "suite" / "suite.json").read_text())
    prompts = {prompt["id"]: prompt_from_dict(prompt) for prompt in suite["prompts"]}
    for truth_file in sorted((demo_dir / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        for prompt_id, clip_truth in truth["clips"].items():
            if clip_truth["missing"]:
                continue
            clip = demo_dir / "clips" / truth["model"] / f"{prompt_id}.mp4"
            result = engine.score_clip(clip, prompts[prompt_id]).to_dict()
            yield truth["model"], prompt_id, clip_truth, result, float(truth["fps"])


def check_against_truth(demo_dir: Path) -> TruthCheck:
    check = TruthCheck()
    for model, prompt_id, clip_truth, result, fps in scored_demo_clips(demo_dir):
        check.clips += 1
        truth_frames = [boundary["frame"] for boundary in clip_truth["boundaries"]]
        unmatched = [round(t * fps) for t in result["evidence"]["shots"]["boundaries_s"]]
        check.truth_boundaries += len(truth_frames)
        check.detected_boundaries += len(unmatched)
        for frame in truth_frames:
            near = [found for found in unmatched if abs(found - frame) <= FRAME_TOLERANCE]
            if near:
                check.matched_boundaries += 1
                unmatched.remove(min(near, key=lambda found: abs(found - frame)))
        if result["metrics"]["sync_offset"]["status"] == "measured":
            offset = result["evidence"]["sync"]["offset_ms"]
            check.offsets.append((model, prompt_id, float(clip_truth["audio_offset_ms"]), float(offset)))
        else:
            check.offsets_not_measured += 1
    return check
