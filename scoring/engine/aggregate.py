"""Metric -> dimension -> overall: weighted means over what was measured, times the shot-completion penalty."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalog import DIMENSION_WEIGHTS, DIMENSIONS, METRICS, PENALTY, PENALTY_METRIC, metric_spec
from .metrics.base import MetricValue


@dataclass(frozen=True)
class Aggregate:
    overall: float  # in [0, 1]
    dimensions: dict[str, float | None]  # None: nothing of the dimension was measured
    missing: list[str]  # catalog metrics not measured (not measured, failed or absent), in catalog order
    penalty: float  # the shot-completion factor applied to the overall score (1.0 if not measured)
    weights_used: dict[str, float] = field(default_factory=dict)  # renormalised dimension weights

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall,
            "dimensions": dict(self.dimensions),
            "missing": list(self.missing),
            "penalty": self.penalty,
            "weights_used": dict(self.weights_used),
        }


def aggregate(metrics: Mapping[str, MetricValue]) -> Aggregate:
    """Dimension score = weighted mean of its measured scoring metrics (weights from the catalog,
    renormalised over what was measured); overall = weighted mean of measured dimensions (renormalised)
    x the shot-completion penalty when it was measured. Not-measured and failed metrics are left out,
    never counted as 0, and listed in `missing`."""
    for name in metrics:
        metric_spec(name)  # an unknown name is a bug: fail loudly
    missing = [spec.name for spec in METRICS if not (spec.name in metrics and metrics[spec.name].measured)]
    dimensions: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        total = weight_sum = 0.0
        for spec in METRICS:
            if spec.dimension != dimension or spec.role == PENALTY or spec.weight <= 0:
                continue
            value = metrics.get(spec.name)
            if value is None or not value.measured or value.value is None:
                continue
            total += spec.weight * value.value
            weight_sum += spec.weight
        dimensions[dimension] = total / weight_sum if weight_sum > 0 else None
    measured_dims = {d: v for d, v in dimensions.items() if v is not None and DIMENSION_WEIGHTS[d] > 0}
    weight_sum = sum(DIMENSION_WEIGHTS[d] for d in measured_dims)
    weights_used = {d: DIMENSION_WEIGHTS[d] / weight_sum for d in measured_dims} if weight_sum else {}
    base = sum(weights_used[d] * v for d, v in measured_dims.items())
    penalty_value = metrics.get(PENALTY_METRIC)
    penalty = (
        penalty_value.value
        if penalty_value is not None and penalty_value.measured and penalty_value.value is not None
        else 1.0
    )
    overall = min(1.0, max(0.0, base * penalty))
    return Aggregate(
        overall=overall, dimensions=dimensions, missing=missing, penalty=penalty, weights_used=weights_used
    )
