"""Shot-structure metrics from the segmentation and its alignment to the script: count, completion, timing, kind."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..script import GRADUAL_TRANSITIONS, PromptScript
from ..segmentation import SegmentationResult
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured, rounded

SHOT_METRICS = ("shot_count_match", "shot_completion", "shot_boundary_timing", "shot_transition_type")
TIMING_ZERO_S = 1.0  # a boundary 1 s (or more) away from its scripted time scores 0
TOOL = "pyav+numpy:hist-motion-segmenter"


def expected_kind(transition_in: str) -> str | None:
    """'cut' or 'gradual' for a scripted transition; None for 'none' (no expectation)."""
    if transition_in == "hard-cut":
        return "cut"
    if transition_in in GRADUAL_TRANSITIONS:
        return "gradual"
    return None


def matched_boundaries(seg: SegmentationResult, script: PromptScript) -> list[dict[str, Any]]:
    """Scripted boundaries (start of scripted shot i >= 2) whose shot is matched to a detected shot that
    itself starts at a detected boundary, with the timing error and both transition kinds."""
    pairs = []
    for i, j in enumerate(seg.alignment):
        if i == 0 or j is None or j == 0:
            continue
        boundary = seg.boundaries[j - 1]
        scripted = script.shots[i]
        pairs.append(
            {
                "scripted_shot": i + 1,
                "scripted_s": scripted.start_s,
                "detected_s": round(boundary.time_s, 4),
                "error_s": round(abs(boundary.time_s - scripted.start_s), 4),
                "scripted_transition": scripted.transition_in,
                "expected_kind": expected_kind(scripted.transition_in),
                "detected_kind": boundary.kind,
            }
        )
    return pairs


def shot_metrics(seg: SegmentationResult, script: PromptScript | None) -> dict[str, MetricValue]:
    version = tool_versions("av", "numpy", "scipy")
    if script is None or seg.scripted_count is None:
        reason = "no prompt script to compare the shots with"
        return {name: not_measured(name, reason, TOOL, version) for name in SHOT_METRICS}
    scripted = seg.scripted_count
    detected = seg.detected_count
    valid = seg.valid_shot_count
    metrics: dict[str, MetricValue] = {
        "shot_count_match": measured(
            "shot_count_match",
            max(0.0, 1.0 - abs(detected - scripted) / scripted),
            TOOL,
            version,
            {"detected": detected, "scripted": scripted},
        ),
        "shot_completion": measured(
            "shot_completion",
            min(1.0, valid / scripted),
            TOOL,
            version,
            {"valid": valid, "scripted": scripted, "detected": detected},
        ),
    }
    pairs = matched_boundaries(seg, script)
    if scripted < 2:
        reason = "the script has a single shot, so no boundary to time or classify"
        metrics["shot_boundary_timing"] = not_measured("shot_boundary_timing", reason, TOOL, version)
        metrics["shot_transition_type"] = not_measured("shot_transition_type", reason, TOOL, version)
        return metrics
    if pairs:
        errors = [p["error_s"] for p in pairs]
        timing = float(np.mean([linear_map(e, 0.0, TIMING_ZERO_S) for e in errors]))
        raw_timing: dict[str, Any] = {
            "mean_abs_error_s": rounded(float(np.mean(errors))),
            "matched": len(pairs),
            "scripted_boundaries": scripted - 1,
            "pairs": pairs,
        }
        metrics["shot_boundary_timing"] = measured("shot_boundary_timing", timing, TOOL, version, raw_timing)
    else:
        # Boundaries were asked for and none was realised: that is a measured failure, not a gap.
        metrics["shot_boundary_timing"] = measured(
            "shot_boundary_timing", 0.0, TOOL, version,
            {"matched": 0, "scripted_boundaries": scripted - 1}, "no scripted boundary was matched",
        )
    typed = [p for p in pairs if p["expected_kind"] is not None]
    if typed:
        agree = sum(1 for p in typed if p["expected_kind"] == p["detected_kind"])
        metrics["shot_transition_type"] = measured(
            "shot_transition_type", agree / len(typed), TOOL, version,
            {"agree": agree, "compared": len(typed)},
        )
    elif pairs:
        metrics["shot_transition_type"] = not_measured(
            "shot_transition_type", "the matched boundaries have no scripted transition type", TOOL, version
        )
    else:
        metrics["shot_transition_type"] = measured(
            "shot_transition_type", 0.0, TOOL, version, {"agree": 0, "compared": 0}, "no scripted boundary was matched"
        )
    return metrics
