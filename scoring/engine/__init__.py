"""MSAV Arena scoring engine: a pure library (no Django) that scores one clip against its prompt script.

Public API (imported lazily, so `scoring.engine.script` stays light for the suite importer):

    score_clip(path, script, *, reference_root=None, timeout_s=...) -> ClipResult
    probe_clip(path, *, timeout_s=...) -> ClipProbe
    ClipDecodeError, ClipTimeoutError, MetricValue, ClipResult, ClipProbe
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

# Bump when any metric's algorithm, mapping or weight changes: results of different versions are not comparable.
ENGINE_VERSION = "0.4.4"

# torch's CPU convolutions (oneDNN, and ideep above it) keep up to 1024 compiled primitives, one per layer and
# input shape, each holding megabytes. TransNet V2's review windows come in many shapes, so over a long clip, or
# over the many clips of one worker, that cache alone grew by gigabytes. With 16 the reviews ran no slower
# (measured: docs/engine-measurements.md). Set before torch's first convolution, which reads them once;
# an operator's own setting wins.
TORCH_CPU_CACHE_CAPACITY = "16"
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", TORCH_CPU_CACHE_CAPACITY)
os.environ.setdefault("LRU_CACHE_CAPACITY", TORCH_CPU_CACHE_CAPACITY)

_EXPORTS = {
    "score_clip": "pipeline",
    "ClipResult": "pipeline",
    "probe_clip": "probe",
    "ClipProbe": "probe",
    "ClipDecodeError": "errors",
    "ClipTimeoutError": "errors",
    "MetricValue": "metrics.base",
}

__all__ = ["ENGINE_VERSION", *_EXPORTS]

if TYPE_CHECKING:
    from .errors import ClipDecodeError as ClipDecodeError, ClipTimeoutError as ClipTimeoutError
    from .metrics.base import MetricValue as MetricValue
    from .pipeline import ClipResult as ClipResult, score_clip as score_clip
    from .probe import ClipProbe as ClipProbe, probe_clip as probe_clip


def __getattr__(name: str) -> Any:
    # PEP 562 lazy re-export: importing the package does not import PyAV/scipy until a name is used.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
