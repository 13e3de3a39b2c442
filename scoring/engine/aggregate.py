"""Metric -> dimension -> overall: weighted means over what was measured, times the shot-completion penalty.

All weights come from the catalog's one table. The overall score averages the paper's 11 dimensions
(renormalised over the measured ones); the five display dimensions are reported beside it with the same
metric weights. Not-measured and failed metrics are left out, never counted as 0, and listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalog import (
    DIMENSIONS,
    METRICS,
    PAPER_DIMENSION_WEIGHTS,
    PAPER_DIMENSIONS,
    PENALTY,
    PENALTY_METRIC,
    MetricSpec,
    metric_spec,
)
from .metrics.base import MetricValue


@dataclass(frozen=True)
class Aggregate:
    overall: float  # in [0, 1]
    dimensions: dict[str, float | None]  # display dimensions; None: nothing of it was measured
    missing: list[str]  # catalog metrics not measured (not measured, failed or absent), in catalog order
    penalty: float  # the shot-completion factor applied to the overall score (1.0 if not measured)
    weights_used: dict[str, float] = field(default_factory=dict)  # renormalised paper-dimension weights
    paper_dimensions: dict[str, float | None] = field(default_factory=dict)  # the 11 the overall averages
    missing_dimensions: list[str] = field(default_factory=list)  # paper dimensions with nothing measured

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall,
            "dimensions": dict(self.dimensions),
            "paper_dimensions": dict(self.paper_dimensions),
            "missing": list(self.missing),
            "missing_dimensions": list(self.missing_dimensions),
            "penalty": self.penalty,
            "weights_used": dict(self.weights_used),
        }


def _weighted_mean(specs: tuple[MetricSpec, ...], metrics: Mapping[str, MetricValue]) -> float | None:
    total = weight_sum = 0.0
    for spec in specs:
        if spec.role == PENALTY or spec.weight <= 0:
            continue
        value = metrics.get(spec.name)
        if value is None or not value.measured or value.value is None:
            continue
        total += spec.weight * value.value
        weight_sum += spec.weight
    return total / weight_sum if weight_sum > 0 else None


def aggregate(metrics: Mapping[str, MetricValue]) -> Aggregate:
    """Dimension score = weighted mean of its measured scoring metrics (weights from the catalog,
    renormalised over what was measured); overall = weighted mean of the measured paper dimensions
    (renormalised) x the shot-completion penalty when it was measured. Not-measured and failed metrics
    are left out, never counted as 0, and listed in `missing`."""
    for name in metrics:
        metric_spec(name)  # an unknown name is a bug: fail loudly
    missing = [spec.name for spec in METRICS if not (spec.name in metrics and metrics[spec.name].measured)]
    dimensions = {d: _weighted_mean(tuple(s for s in METRICS if s.dimension == d), metrics) for d in DIMENSIONS}
    paper = {
        d: _weighted_mean(tuple(s for s in METRICS if s.paper_dimension == d), metrics) for d in PAPER_DIMENSIONS
    }
    measured_dims = {d: v for d, v in paper.items() if v is not None and PAPER_DIMENSION_WEIGHTS[d] > 0}
    weight_sum = sum(PAPER_DIMENSION_WEIGHTS[d] for d in measured_dims)
    weights_used = {d: PAPER_DIMENSION_WEIGHTS[d] / weight_sum for d in measured_dims} if weight_sum else {}
    base = sum(weights_used[d] * v for d, v in measured_dims.items())
    penalty_value = metrics.get(PENALTY_METRIC)
    penalty = (
        penalty_value.value
        if penalty_value is not None and penalty_value.measured and penalty_value.value is not None
        else 1.0
    )
    overall = min(1.0, max(0.0, base * penalty))
    return Aggregate(
        overall=overall,
        dimensions=dimensions,
        missing=missing,
        penalty=penalty,
        weights_used=weights_used,
        paper_dimensions=paper,
        missing_dimensions=[d for d in PAPER_DIMENSIONS if paper[d] is None],
    )
