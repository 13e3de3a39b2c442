"""Reference fidelity (subject, voice): declared here, reported as not measured until the full engine measures it."""

from __future__ import annotations

from pathlib import Path

from ..script import PromptScript
from .base import MetricValue, not_measured

REFERENCE_METRICS = {"reference_subject_fidelity": ("subject", "scene"), "reference_voice_fidelity": ("voice",)}


def reference_metrics(script: PromptScript | None, reference_root: Path | None) -> dict[str, MetricValue]:
    """Never a made-up number: not measured, with the reason (left out of the aggregate)."""
    out = {}
    for name, kinds in REFERENCE_METRICS.items():
        refs = [r for r in (script.references if script else ()) if r.kind in kinds]
        if script is None:
            reason = "no prompt script"
        elif not refs:
            reason = f"the prompt has no {'/'.join(kinds)} reference"
        elif reference_root is None:
            reason = "no reference_root given to find the reference media"
        else:
            reason = "reference metrics arrive with the full engine (face/speaker embeddings)"
        out[name] = not_measured(name, reason)
    return out
