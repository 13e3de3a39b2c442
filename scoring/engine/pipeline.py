"""`score_clip`: probe, decode once, segment, measure every catalog metric and aggregate into a ClipResult."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import ENGINE_VERSION
from .aggregate import aggregate
from .catalog import METRICS
from .config import DEFAULT_CONFIG, EngineConfig
from .decode import DecodedClip, decode_clip
from .faces import faces_available, faces_for_frames, faces_version
from .judge import RUBRIC_METRIC_NAMES, rubric_metrics
from .metrics.audio import CLIP_AUDIO_METRICS, SHOT_AUDIO_METRICS, clip_audio_metrics, shot_audio_metrics
from .metrics.base import MetricValue, failed, jsonable, not_measured
from .metrics.lipsync import ATTRIBUTION, LIP, lipsync_metrics, with_lip_offset
from .metrics.reference import REFERENCE_METRICS, reference_metrics
from .metrics.shot import SHOT_METRICS, shot_metrics
from .metrics.sync import sync_metric
from .metrics.video import CONSISTENCY_METRICS, VIDEO_METRICS, consistency_metrics, face_frames, video_metrics
from .ocr import text_rendering_metric
from .probe import probe_clip
from .script import PromptScript
from .segmentation import SegmentationResult, segment
from .speech import speech_activity
from .versions import tool_versions

T = TypeVar("T")

PROBE_TIMEOUT_S = 30.0
DURATION_MISMATCH = 0.1  # flag clips more than 10% shorter or longer than the script asks

LIPSYNC_METRICS = (LIP, ATTRIBUTION)
LANE_POLL_S = 0.05  # how often the main thread looks up from waiting for the side metric lane


@dataclass
class ClipResult:
    """The score of one clip, with everything needed to see why it is what it is."""

    engine_version: str
    overall: float
    dimensions: dict[str, float | None]
    metrics: dict[str, MetricValue]
    evidence: dict[str, Any]
    missing: list[str]
    flags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: engine_version, overall, dimensions, metrics (name -> value, status, tool, version,
        dimension, raw, reason), evidence, missing, flags, timings."""
        return {
            "engine_version": self.engine_version,
            "overall": round(self.overall, 6),
            "dimensions": {k: None if v is None else round(v, 6) for k, v in self.dimensions.items()},
            "metrics": {name: value.to_dict() for name, value in self.metrics.items()},
            "evidence": jsonable(self.evidence),
            "missing": list(self.missing),
            "flags": list(self.flags),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def _guarded(names: Iterable[str], stage: str, compute: Callable[[], dict[str, MetricValue]]) -> dict[str, MetricValue]:
    """Run one metric group; if it raises, its metrics are 'failed' with the reason instead of the whole
    clip losing its score."""
    try:
        return compute()
    except Exception as exc:  # noqa: BLE001 - recorded per metric, never silently dropped
        reason = f"{stage} raised {type(exc).__name__}: {exc}"
        return {name: failed(name, reason) for name in names}


@dataclass(frozen=True)
class MetricStage:
    """One metric group: its timing name, the metrics it yields, and how to compute them."""

    timing: str
    names: tuple[str, ...]
    label: str
    compute: Callable[[], dict[str, MetricValue]]

    def run(self, timings: dict[str, float]) -> dict[str, MetricValue]:
        started = time.perf_counter()
        values = _guarded(self.names, self.label, self.compute)
        timings[self.timing] = time.perf_counter() - started
        return values


def _beside(side: Callable[[], dict[str, MetricValue]], main: Callable[[], T]) -> tuple[T, dict[str, MetricValue]]:
    """Run `side` in a helper thread while this thread runs `main`; main's result and the side's metrics.
    An exception of `main` propagates.

    The calling thread keeps `main` and then waits in short polls, so the clip-limit watchdog's interrupt
    (scoring.limits, delivered to the main thread between bytecodes) still stops the clip at once; a side
    left running then finishes its stage in the background.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metric-lane")
    side_job = pool.submit(side)
    try:
        result = main()
        while True:
            try:
                return result, side_job.result(timeout=LANE_POLL_S)
            except FutureTimeout:
                continue
    finally:
        pool.shutdown(wait=False)


def _run_stages(stages: list[MetricStage], timings: dict[str, float]) -> dict[str, MetricValue]:
    values: dict[str, MetricValue] = {}
    for stage in stages:
        values.update(stage.run(timings))
    return values


def _run_shared(groups: list[list[MetricStage]], timings: dict[str, float]) -> dict[str, MetricValue]:
    """Run the groups of stages on this thread and a helper, each thread taking the next group as soon as it
    is free; a group's stages run in order on one thread. Groups are taken in the order given (costliest
    first), so the two threads finish close together whichever stage runs long on a given clip (the DSP path
    on the 60 s benchmark clip: 0.32-0.33 s, best of 9, where two fixed lanes took 0.37-0.41 s)."""
    pending = deque(groups)

    def drain() -> dict[str, MetricValue]:
        values: dict[str, MetricValue] = {}
        while True:
            try:
                group = pending.popleft()  # atomic: each group is taken by one thread
            except IndexError:
                return values
            values.update(_run_stages(group, timings))

    values, side_values = _beside(drain, drain)
    return {**values, **side_values}


def _per_shot_evidence(seg: SegmentationResult, quality: list[Any]) -> list[dict[str, Any]]:
    matched = {j: i for i, j in enumerate(seg.alignment) if j is not None}
    rows = []
    for shot, q in zip(seg.shots, quality):
        row = q.to_dict()
        row["valid"] = shot.index in matched if seg.scripted_count is not None else None
        row["scripted_shot"] = matched[shot.index] + 1 if shot.index in matched else None
        rows.append(row)
    return rows


def _flags(decoded: DecodedClip, probe_has_audio: bool, script: PromptScript | None) -> list[str]:
    flags = []
    if not decoded.has_audio:
        flags.append("no_audio")
        if probe_has_audio:
            flags.append("audio_undecodable")
    if decoded.truncated:
        flags.append("truncated")
    if decoded.video_decode_errors:
        flags.append("video_decode_errors")
    if decoded.audio_decode_errors:
        flags.append("audio_decode_errors")
    if script is not None and script.duration_s > 0:
        if abs(decoded.duration_s - script.duration_s) > DURATION_MISMATCH * script.duration_s:
            flags.append("duration_mismatch")
    return flags


def _paths_ran(metrics: dict[str, MetricValue]) -> dict[str, list[str]]:
    """Which measured metrics an expert model produced (tool "expert:...") and which signal processing
    produced, so a reader sees which instrument stands behind each number; the rest were not measured."""
    measured_now = {name: value for name, value in metrics.items() if value.measured}
    return {
        "expert": sorted(name for name, value in measured_now.items() if value.tool.startswith("expert:")),
        "dsp": sorted(name for name, value in measured_now.items() if not value.tool.startswith("expert:")),
        "not_measured": sorted(name for name in metrics if name not in measured_now),
    }


def score_clip(
    path: str | Path,
    script: PromptScript | None,
    *,
    reference_root: Path | None = None,
    timeout_s: float = 300.0,
    config: EngineConfig = DEFAULT_CONFIG,
) -> ClipResult:
    """Score one clip against its prompt script (None: pure measurement, shot metrics not measured).

    Raises ClipDecodeError (with the reason) when the file is not decodable video, and ClipTimeoutError
    (a ClipDecodeError) when probing plus decoding exceed `timeout_s`: the caller records a failed
    generation. Any other problem inside a metric marks that metric 'failed' with the reason.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        timings[stage] = now - since
        return now

    probe = probe_clip(path, timeout_s=min(timeout_s, PROBE_TIMEOUT_S))
    mark = lap("probe", started)
    # The 48x27 RGB stream feeds only TransNet V2: the DSP path does not pay for a second scale per frame.
    decoded = decode_clip(
        path, timeout_s=max(1.0, timeout_s - (mark - started)), keep_small_rgb=config.use_expert_models
    )
    for sample in decoded.samples:
        # Metrics only read the samples; read-only also lets faces.detect_faces reuse a frame's detections.
        sample.rgb.setflags(write=False)
    mark = lap("decode", mark)

    scripted = [(s.start_s, s.end_s) for s in script.shots] if script is not None else None

    def run_segmentation() -> SegmentationResult:
        since = time.perf_counter()
        found = segment(
            decoded.thumbs,
            decoded.timestamps_s,
            decoded.fps,
            decoded.duration_s,
            scripted_shots=scripted,
            script_duration_s=script.duration_s if script is not None else None,
            small_rgb=decoded.small_rgb,
            use_expert_models=config.use_expert_models,
        )
        timings["segmentation"] = time.perf_counter() - since
        return found

    # Segmentation keeps one core but for its whole-clip signals: the audio metrics that need no shots take the
    # other meanwhile.
    clip_audio = MetricStage("metrics_audio", CLIP_AUDIO_METRICS, "audio metrics",
                             lambda: clip_audio_metrics(decoded, script, config=config))
    seg, early_metrics = _beside(lambda: clip_audio.run(timings), run_segmentation)
    mark = time.perf_counter()

    expert = config.use_expert_models
    faces_by_sample: dict[int, list[Any]] | None = None
    faces_evidence: dict[str, Any] = {"ran": False}
    if not expert:
        faces_evidence["reason"] = "expert models are off (EngineConfig.use_expert_models=False)"
    elif not faces_available():
        faces_evidence["reason"] = "dlib-bin / face-recognition-models not installed"
    else:
        try:
            picked = face_frames(decoded, seg)
            faces_by_sample = faces_for_frames([(s.index, s.rgb) for s in picked])
            faces_evidence = {
                "ran": True,
                "tool": "expert:dlib-hog+68-landmarks+resnet-embedding",
                "version": faces_version(),
                "frames": [
                    {"sample": s.index, "time_s": round(s.time_s, 3), "faces": [f.box.to_dict() for f in faces_by_sample[s.index]]}
                    for s in picked
                ],
            }
        except Exception as exc:  # noqa: BLE001 - the face-based metrics fall back or report not measured
            faces_by_sample = None
            faces_evidence = {"ran": False, "reason": f"face analysis raised {type(exc).__name__}: {exc}"}
    mark = lap("faces", mark)

    # The metric groups only read the decode, the segmentation and the faces, so two threads share them:
    # numpy, scipy, PyAV and the ONNX/torch models release the GIL for their heavy parts, so both cores
    # work once decoding is done. Lip sync follows sync in one group: both write `sync_evidence`; the
    # speech activity lip sync reads was computed beside the segmentation.
    per_shot: list[Any] = []
    sync_evidence: dict[str, Any] = {"offset_ms": None, "confidence": None}
    f_version = faces_version() if faces_by_sample is not None else ""

    def run_video() -> dict[str, MetricValue]:
        values, quality = video_metrics(decoded, seg)
        per_shot.extend(quality)
        return values

    def run_sync() -> dict[str, MetricValue]:
        value, evidence = sync_metric(decoded, seg)
        # Not measured from motion (dancing to a beat): the lips of the face shots may still tell it.
        value, evidence = with_lip_offset(value, evidence, path, decoded, [(s.start_s, s.end_s) for s in seg.shots],
                                          faces_by_sample, version=tool_versions("av", "numpy", "scipy") + f"; {f_version}")
        sync_evidence.clear()
        sync_evidence.update(evidence)
        return {"sync_offset": value}

    def run_lipsync() -> dict[str, MetricValue]:
        activity = speech_activity(decoded, use_expert_models=expert) if decoded.has_audio else None
        values, evidence = lipsync_metrics(
            path,
            decoded,
            [(shot.start_s, shot.end_s) for shot in seg.shots],
            activity.segments if activity is not None else None,
            faces_by_sample,
            speech_tool=activity.tool if activity is not None else "",
            version=tool_versions("av", "numpy", "scipy") + (f"; {f_version}" if f_version else ""),
        )
        sync_evidence["lip"] = evidence
        return values

    # Costliest first: with the expert models, sync's lip reading (seconds); then the rubric judge (a remote
    # call, when configured); the video metrics are the DSP path's largest.
    groups: list[list[MetricStage]] = [
        [
            MetricStage("metrics_sync", ("sync_offset",), "sync metric", run_sync),
            MetricStage("metrics_lipsync", LIPSYNC_METRICS, "lip sync", run_lipsync),
        ],
        [MetricStage("metrics_rubric", tuple(RUBRIC_METRIC_NAMES.values()), "rubric judge",
                     lambda: rubric_metrics(script, decoded, seg, config.judge))],
        [MetricStage("metrics_video", VIDEO_METRICS, "video metrics", run_video)],
        [MetricStage("metrics_consistency", CONSISTENCY_METRICS, "consistency metrics",
                     lambda: consistency_metrics(decoded, seg, script, faces_by_sample, f_version)[0])],
        [MetricStage("metrics_shot", SHOT_METRICS, "shot metrics",
                     lambda: shot_metrics(seg, script, decoded, use_expert_models=expert))],
        [MetricStage("metrics_reference", tuple(REFERENCE_METRICS), "reference metrics",
                     lambda: reference_metrics(script, reference_root, decoded, seg, faces_by_sample=faces_by_sample,
                                               faces_version=f_version, use_expert_models=expert))],
        [MetricStage("metrics_text", ("video_text_rendering",), "text rendering",
                     lambda: {"video_text_rendering": text_rendering_metric(script, decoded, seg, expert)})],
        [MetricStage("metrics_audio_shots", SHOT_AUDIO_METRICS, "audio metrics",
                     lambda: shot_audio_metrics(decoded, script, seg, config=config))],
    ]
    metrics = {**early_metrics, **_run_shared(groups, timings)}
    mark = lap("metrics", mark)
    # Every catalog metric appears in the result, in catalog order.
    ordered = {
        spec.name: metrics.get(spec.name) or not_measured(spec.name, "not produced by this engine version")
        for spec in METRICS
    }
    result = aggregate(ordered)
    mark = lap("aggregate", mark)
    timings["total"] = mark - started

    shots_evidence = seg.to_evidence()
    evidence: dict[str, Any] = {
        "engine": {
            "config": config.describe(),
            "path": "expert" if expert else "dsp",
            "paths": _paths_ran(ordered),
            "faces": {k: v for k, v in faces_evidence.items() if k != "frames"},
        },
        "faces": faces_evidence.get("frames", []),
        "probe": probe.to_dict(),
        "decode": {
            "frames": decoded.frame_count,
            "fps": round(decoded.fps, 4),
            "duration_s": round(decoded.duration_s, 4),
            "sampled_frames": len(decoded.samples),
            "audio_rate": decoded.audio_rate if decoded.has_audio else None,
            "audio_start_s": round(decoded.audio_start_s, 4) if decoded.has_audio else None,
        },
        "shots": shots_evidence,
        "per_shot": _per_shot_evidence(seg, per_shot) if per_shot else [],
        "sync": sync_evidence,
        "aggregate": {
            "paper_dimensions": result.paper_dimensions,
            "missing_dimensions": result.missing_dimensions,
            "penalty": result.penalty,
            "weights_used": result.weights_used,
        },
    }
    return ClipResult(
        engine_version=ENGINE_VERSION,
        overall=result.overall,
        dimensions=result.dimensions,
        metrics=ordered,
        evidence=evidence,
        missing=result.missing,
        flags=_flags(decoded, probe.has_audio, script),
        timings=timings,
    )
