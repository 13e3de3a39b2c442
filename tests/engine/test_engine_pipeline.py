"""score_clip end to end: the ClipResult contract, evidence, the shot penalty, failure isolation, speed."""

from __future__ import annotations

import json

import pytest

import scoring.engine as engine
from scoring.engine import ENGINE_VERSION, ClipResult, score_clip
from scoring.engine.catalog import METRICS
from scoring.engine.metrics.base import FAILED, MEASURED, NOT_MEASURED

TOP_KEYS = {"engine_version", "overall", "dimensions", "metrics", "evidence", "missing", "flags", "timings"}
METRIC_KEYS = {"value", "status", "tool", "version", "dimension", "raw", "reason"}


@pytest.fixture(scope="module")
def scored(synth, make_script) -> tuple[object, ClipResult]:
    clip = synth("long15")
    script = make_script(
        list(clip.shot_starts_s), clip.duration_s, ["none", "dissolve", "hard-cut", "dissolve", "fade"]
    )
    return clip, score_clip(clip.path, script)


def test_result_contract(scored) -> None:
    clip, result = scored
    data = result.to_dict()
    assert set(data) == TOP_KEYS
    json.dumps(data, allow_nan=False)  # strictly JSON: no NaN/inf, no numpy types
    assert data["engine_version"] == ENGINE_VERSION
    assert 0.0 <= data["overall"] <= 1.0
    assert set(data["metrics"]) == {spec.name for spec in METRICS}
    for name, entry in data["metrics"].items():
        assert set(entry) == METRIC_KEYS, name
        assert entry["status"] in (MEASURED, NOT_MEASURED, FAILED)
        assert (entry["value"] is None) == (entry["status"] != MEASURED)
        assert entry["version"].startswith(f"engine {ENGINE_VERSION}") or entry["status"] != MEASURED
    assert data["missing"] == [n for n, e in data["metrics"].items() if e["status"] != MEASURED]
    assert {"reference_subject_fidelity", "reference_voice_fidelity"} <= set(data["missing"])
    assert data["dimensions"]["reference"] is None
    assert data["flags"] == []


def test_evidence(scored) -> None:
    clip, result = scored
    evidence = result.to_dict()["evidence"]
    shots = evidence["shots"]
    for key in ("boundaries_s", "raw_candidates", "corrections", "alignment", "detected_count", "scripted_count"):
        assert key in shots
    assert shots["detected_count"] == shots["scripted_count"] == 5
    assert shots["boundaries_s"] == pytest.approx(list(clip.boundaries_s), abs=2 / clip.fps)
    assert [a["detected"] for a in shots["alignment"]] == [0, 1, 2, 3, 4]
    assert evidence["probe"]["video_codec"] == "h264"
    assert set(evidence["sync"]) >= {"offset_ms", "confidence"}
    assert len(evidence["per_shot"]) == 5
    assert all(row["valid"] and row["sharpness"] is not None for row in evidence["per_shot"])
    metrics = result.metrics
    assert metrics["shot_completion"].value == 1.0
    assert metrics["shot_count_match"].value == 1.0
    assert metrics["shot_transition_type"].value == 1.0
    assert metrics["shot_boundary_timing"].value > 0.9


def test_scoring_reports_the_time_of_every_stage(scored) -> None:
    # Speed is measured by `make bench-scoring` against PyAV's decode-only time, not asserted here.
    clip, result = scored
    lanes = {"metrics_video", "metrics_consistency", "metrics_audio_shots", "metrics_sync", "metrics_shot"}
    assert set(result.timings) >= {"probe", "decode", "segmentation", "metrics_audio", "metrics", "total"} | lanes
    assert all(value >= 0 for value in result.timings.values())
    # The two metric lanes run side by side: their wall time is at most the sum of their stages.
    assert result.timings["metrics"] <= sum(result.timings[name] for name in lanes if name in result.timings) + 0.05
    assert result.timings["total"] >= result.timings["decode"] + result.timings["metrics"]


def test_missing_shots_are_penalised(synth, make_script) -> None:
    clip = synth("cuts_pans")  # 5 shots made; the script asked for 7 (two never happened)
    starts = [0.0, 2.0, 3.6, 4.6, 5.6, 7.0, 7.8]
    result = score_clip(clip.path, make_script(starts, clip.duration_s))
    completion = result.metrics["shot_completion"]
    assert completion.raw["valid"] < 7
    assert completion.value == pytest.approx(completion.raw["valid"] / 7)
    assert result.evidence["aggregate"]["penalty"] == completion.value
    measured_dims = [v for v in result.dimensions.values() if v is not None]
    assert result.overall < max(measured_dims) * completion.value + 1e-9
    assert result.metrics["shot_count_match"].value == pytest.approx(1 - 2 / 7)


def test_without_script_the_shot_metrics_are_not_measured(synth) -> None:
    result = score_clip(synth("cuts_pans").path, None)
    for name in ("shot_count_match", "shot_completion", "shot_boundary_timing", "shot_transition_type"):
        assert result.metrics[name].status == NOT_MEASURED
    assert result.dimensions["shot"] is None
    assert result.evidence["shots"]["detected_count"] == 5
    assert result.evidence["aggregate"]["penalty"] == 1.0


def test_a_failing_metric_is_recorded_not_fatal(synth, monkeypatch) -> None:
    import scoring.engine.pipeline as pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "clip_audio_metrics", broken)  # the group that runs beside the segmentation
    result = score_clip(synth("no_audio").path, None)
    assert result.metrics["audio_loudness"].status == FAILED
    assert "simulated bug" in result.metrics["audio_loudness"].reason
    assert result.dimensions["audio"] is None and "audio_loudness" in result.missing
    assert result.metrics["video_sharpness"].status == MEASURED


def test_public_api_is_re_exported() -> None:
    for name in ("score_clip", "ClipResult", "probe_clip", "ClipProbe", "ClipDecodeError", "MetricValue"):
        assert name in engine.__all__ and getattr(engine, name) is not None


def test_the_bench_times_another_engine_version_beside_this_one(synth, make_script, tmp_path) -> None:
    # `python -m scoring.bench.scoring --against DIR` imports a second copy of the engine under a name of
    # its own and scores the same clip with it in the same rounds.
    from pathlib import Path

    from scoring.bench.scoring import EngineCopy

    clip = synth("cuts_pans")
    script = make_script([0.0, 2.0, 3.6, 4.6, 5.6], clip.duration_s)
    first = EngineCopy.load(Path(engine.__file__).parent)
    second = EngineCopy.load(Path(engine.__file__).parent)
    assert first.pipeline.__name__.startswith("engine_copy_") and first.pipeline is not second.pipeline
    assert first.pipeline.score_clip is not score_clip
    assert first.scoring_seconds(Path(clip.path), script) > 0.0
    with pytest.raises(SystemExit, match="not an engine directory"):
        EngineCopy.load(tmp_path)
