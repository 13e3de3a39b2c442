"""MSAV Arena scoring engine: a pure library (no Django) that scores one clip against its prompt script.

Public API (imported lazily, so `scoring.engine.script` stays light for the suite importer):

    score_clip(path, script, *, reference_root=None, timeout_s=...) -> ClipResult
    probe_clip(path, *, timeout_s=...) -> ClipProbe
    ClipDecodeError, ClipTimeoutError, MetricValue, ClipResult, ClipProbe
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Bump when any metric's algorithm, mapping or weight changes: results of different versions are not comparable.
ENGINE_VERSION = "0.4.4"

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
