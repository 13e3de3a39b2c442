"""Catalog and aggregation: weights from one place, not-measured metrics left out and renormalised."""

from __future__ import annotations

import pytest

from scoring.engine.aggregate import aggregate
from scoring.engine.catalog import (
    DIMENSION_WEIGHTS,
    DIMENSIONS,
    METRICS,
    PAPER_DIMENSIONS,
    PENALTY_METRIC,
    metric_spec,
    metrics_of,
)
from scoring.engine.metrics.base import MetricValue, failed, measured, not_measured


def _all_measured(value: float = 0.5) -> dict[str, MetricValue]:
    return {spec.name: measured(spec.name, value, "test", "test") for spec in METRICS}


def test_catalog_is_consistent() -> None:
    names = [spec.name for spec in METRICS]
    assert len(names) == len(set(names))
    assert set(DIMENSION_WEIGHTS) == set(DIMENSIONS) == {"video", "audio", "shot", "reference", "sync"}
    for dimension in DIMENSIONS:
        assert metrics_of(dimension), dimension
    assert metric_spec(PENALTY_METRIC).weight == 0.0  # the penalty is not also averaged into "shot"
    with pytest.raises(KeyError):
        metric_spec("no_such_metric")


def test_everything_measured() -> None:
    metrics = _all_measured(0.5)
    metrics[PENALTY_METRIC] = measured(PENALTY_METRIC, 1.0, "test", "test")
    result = aggregate(metrics)
    assert result.overall == pytest.approx(0.5)
    assert all(v == pytest.approx(0.5) for v in result.dimensions.values())
    assert result.missing == []


def test_not_measured_metrics_are_left_out_and_weights_renormalised() -> None:
    metrics = _all_measured(1.0)
    metrics[PENALTY_METRIC] = measured(PENALTY_METRIC, 1.0, "test", "test")
    metrics["video_sharpness"] = measured("video_sharpness", 0.2, "test", "test")
    metrics["video_noise"] = not_measured("video_noise", "test")
    metrics["video_flicker"] = failed("video_flicker", "boom")
    others = [s.name for s in metrics_of("video") if s.name not in ("video_sharpness", "video_exposure")]
    for name in others[2:]:  # all but noise and flicker, which are set above
        metrics[name] = not_measured(name, "test")
    result = aggregate(metrics)
    # video = mean(0.2, 1.0) over the two measured metrics (sharpness, exposure), not mean(0.2, 1.0, 0, 0, ...)
    assert others[:2] == ["video_noise", "video_flicker"]
    assert result.dimensions["video"] == pytest.approx(0.6)
    assert result.missing == [s.name for s in METRICS if s.name in others]


def test_unmeasured_dimensions_drop_out_of_the_overall_score() -> None:
    metrics = _all_measured(0.8)
    metrics[PENALTY_METRIC] = measured(PENALTY_METRIC, 1.0, "test", "test")
    for spec in metrics_of("reference") + metrics_of("sync"):
        metrics[spec.name] = not_measured(spec.name, "test")
    result = aggregate(metrics)
    assert result.dimensions["reference"] is None and result.dimensions["sync"] is None
    assert result.overall == pytest.approx(0.8)
    # the overall averages the paper's dimensions: the reference and sync ones had nothing measured
    assert set(result.missing_dimensions) == {"reference_fidelity", "audio_visual_sync", "lip_sync"}
    assert set(result.weights_used) == set(PAPER_DIMENSIONS) - set(result.missing_dimensions)
    assert sum(result.weights_used.values()) == pytest.approx(1.0)
    assert "reference_subject_fidelity" in result.missing


def test_shot_completion_multiplies_the_overall_score() -> None:
    metrics = _all_measured(0.8)
    metrics[PENALTY_METRIC] = measured(PENALTY_METRIC, 0.5, "test", "test")
    result = aggregate(metrics)
    assert result.penalty == 0.5
    assert result.overall == pytest.approx(0.4)
    assert result.dimensions["shot"] == pytest.approx(0.8)  # not averaged into the dimension too
    metrics[PENALTY_METRIC] = not_measured(PENALTY_METRIC, "no script")
    assert aggregate(metrics).overall == pytest.approx(0.8)  # no script: no penalty


def test_missing_entries_and_bad_values() -> None:
    result = aggregate({"video_sharpness": measured("video_sharpness", 0.7, "t", "t")})
    assert result.overall == pytest.approx(0.7)
    assert len(result.missing) == len(METRICS) - 1
    with pytest.raises(KeyError):
        aggregate({"bogus": measured("video_sharpness", 0.7, "t", "t")})
    with pytest.raises(ValueError):
        MetricValue("video_noise", "video", 1.5, "measured", "t", "t")
    with pytest.raises(ValueError):
        MetricValue("video_noise", "video", 0.5, "not_measured", "t", "t")
    assert aggregate({}).overall == 0.0
