"""MetricValue (one metric's result with its tool and version), mapping curves and JSON helpers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import numpy as np

from ..catalog import metric_spec

MEASURED = "measured"
NOT_MEASURED = "not_measured"
FAILED = "failed"
STATUSES = (MEASURED, NOT_MEASURED, FAILED)


@dataclass(frozen=True)
class MetricValue:
    """One metric of one clip: a value in [0, 1] when measured, else None with the reason."""

    name: str
    dimension: str
    value: float | None
    status: str
    tool: str  # what produced it, e.g. "pyav+numpy:laplacian", "pyloudnorm"
    version: str  # engine and package versions
    raw: Any = None  # the raw measurement (e.g. LUFS), JSON-serialisable
    reason: str = ""  # why not measured / failed (may also qualify a measured value)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"{self.name}: status {self.status!r} is not one of {STATUSES}")
        if self.status == MEASURED:
            if self.value is None or not (0.0 <= self.value <= 1.0) or math.isnan(self.value):
                raise ValueError(f"{self.name}: a measured value must be in [0, 1], got {self.value!r}")
        elif self.value is not None:
            raise ValueError(f"{self.name}: a {self.status} metric has no value")

    @property
    def measured(self) -> bool:
        return self.status == MEASURED

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": None if self.value is None else round(float(self.value), 6),
            "status": self.status,
            "tool": self.tool,
            "version": self.version,
            "dimension": self.dimension,
            "raw": jsonable(self.raw),
            "reason": self.reason,
        }


def measured(name: str, value: float, tool: str, version: str, raw: Any = None, reason: str = "") -> MetricValue:
    clipped = float(min(1.0, max(0.0, value)))
    return MetricValue(name, metric_spec(name).dimension, clipped, MEASURED, tool, version, jsonable(raw), reason)


def not_measured(name: str, reason: str, tool: str = "", version: str = "", raw: Any = None) -> MetricValue:
    return MetricValue(name, metric_spec(name).dimension, None, NOT_MEASURED, tool, version, jsonable(raw), reason)


def failed(name: str, reason: str, tool: str = "", version: str = "") -> MetricValue:
    return MetricValue(name, metric_spec(name).dimension, None, FAILED, tool, version, None, reason)


def linear_map(x: float, good: float, bad: float) -> float:
    """1 at `good`, 0 at `bad`, linear in between and clipped (works for either direction)."""
    if good == bad:
        raise ValueError("good and bad anchors must differ")
    return float(min(1.0, max(0.0, (x - bad) / (good - bad))))


def window_map(x: float, low: float, high: float, low_zero: float, high_zero: float) -> float:
    """1 inside [low, high], falling linearly to 0 at `low_zero` below and `high_zero` above."""
    if x < low:
        return linear_map(x, low, low_zero)
    if x > high:
        return linear_map(x, high, high_zero)
    return 1.0


def jsonable(obj: Any) -> Any:
    """A JSON-ready copy: numpy scalars and arrays to Python, non-finite floats to None."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(asdict(obj))
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return str(obj)


def rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)
