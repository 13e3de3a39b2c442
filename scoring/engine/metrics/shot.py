"""Shot-structure metrics from the segmentation and its alignment to the script: count, completion, timing, kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..features import global_motion, to_float
from ..script import GRADUAL_TRANSITIONS, SHOT_SCALES, PromptScript
from ..segmentation import SegmentationResult
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured, rounded

if TYPE_CHECKING:
    from ..decode import DecodedClip

SHOT_METRICS = (
    "shot_count_match",
    "shot_completion",
    "shot_boundary_timing",
    "shot_transition_type",
    "shot_camera_motion",
    "shot_camera_scale",
)
TIMING_ZERO_S = 1.0  # a boundary 1 s (or more) away from its scripted time scores 0
TOOL = "pyav+numpy:hist-motion-segmenter"
MOTION_TOOL = "pyav+numpy:phase-correlation-camera-motion"
SCALE_TOOL = "expert:dlib-face-size-shot-scale"
# Camera motion: a shot whose camera moves less than this share of the frame (or changes scale by
# less than this) over a whole second, on average, is static.
MOTION_MIN_PER_S = 0.04
ZOOM_MIN_PER_S = 0.04
MOTION_STEP_S = 0.2  # frames compared this far apart
MOTION_TRIM = 0.15  # the first and last 15% of a shot (transitions) are left out
# Script camera motions and the measured classes that realise them.
MOTION_ACCEPTS: dict[str, tuple[str, ...]] = {
    "static": ("static",),
    "pan": ("pan",),
    "tilt": ("tilt",),
    "zoom": ("zoom",),
    "dolly": ("zoom",),  # moving towards or away: the picture scales like a zoom
    "tracking": ("pan", "tilt", "zoom"),
    "handheld": ("pan", "tilt", "zoom", "static"),  # jitter only: any class is plausible, so no penalty
}
# Face height / frame height boundaries between the suite's shot scales (wide to tight).
SCALE_EDGES = (0.04, 0.1, 0.25, 0.5)  # extreme-long | long | medium | close-up | extreme-close-up


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
                "detected_transition": boundary.transition,  # which gradual one: dissolve, fade or wipe
            }
        )
    return pairs


def shot_metrics(
    seg: SegmentationResult,
    script: PromptScript | None,
    decoded: DecodedClip | None = None,
    *,
    use_expert_models: bool = True,
) -> dict[str, MetricValue]:
    """Shot count, completion, boundary timing and transition kind from the segmentation; with the
    decoded clip also camera adherence: motion (pan/tilt/zoom/static, from global motion on the
    thumbnails) and scale (from the largest face's size in the sampled frames, dlib, when installed)."""
    version = tool_versions("av", "numpy", "scipy")
    tool = seg.tool
    if script is None or seg.scripted_count is None:
        reason = "no prompt script to compare the shots with"
        return {name: not_measured(name, reason, tool, version) for name in SHOT_METRICS}
    metrics = _structure_metrics(seg, script, tool, version)
    if decoded is None:
        reason = "no decoded frames were given to measure the camera from"
        metrics["shot_camera_motion"] = not_measured("shot_camera_motion", reason, MOTION_TOOL, version)
        metrics["shot_camera_scale"] = not_measured("shot_camera_scale", reason, SCALE_TOOL, version)
    else:
        metrics["shot_camera_motion"] = camera_motion_metric(seg, script, decoded, version)
        metrics["shot_camera_scale"] = camera_scale_metric(seg, script, decoded, use_expert_models)
    return metrics


def _structure_metrics(
    seg: SegmentationResult, script: PromptScript, tool: str, version: str
) -> dict[str, MetricValue]:
    scripted = seg.scripted_count or len(script.shots)
    detected = seg.detected_count
    valid = seg.valid_shot_count
    metrics: dict[str, MetricValue] = {
        "shot_count_match": measured(
            "shot_count_match",
            max(0.0, 1.0 - abs(detected - scripted) / scripted),
            tool,
            version,
            {"detected": detected, "scripted": scripted},
        ),
        "shot_completion": measured(
            "shot_completion",
            min(1.0, valid / scripted),
            tool,
            version,
            {"valid": valid, "scripted": scripted, "detected": detected},
        ),
    }
    pairs = matched_boundaries(seg, script)
    if scripted < 2:
        reason = "the script has a single shot, so no boundary to time or classify"
        metrics["shot_boundary_timing"] = not_measured("shot_boundary_timing", reason, tool, version)
        metrics["shot_transition_type"] = not_measured("shot_transition_type", reason, tool, version)
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
        metrics["shot_boundary_timing"] = measured("shot_boundary_timing", timing, tool, version, raw_timing)
    else:
        # Boundaries were asked for and none was realised: that is a measured failure, not a gap.
        metrics["shot_boundary_timing"] = measured(
            "shot_boundary_timing", 0.0, tool, version,
            {"matched": 0, "scripted_boundaries": scripted - 1}, "no scripted boundary was matched",
        )
    typed = [p for p in pairs if p["expected_kind"] is not None]
    if typed:
        agree = sum(1 for p in typed if p["expected_kind"] == p["detected_kind"])
        metrics["shot_transition_type"] = measured(
            "shot_transition_type", agree / len(typed), tool, version,
            {"agree": agree, "compared": len(typed)},
        )
    elif pairs:
        metrics["shot_transition_type"] = not_measured(
            "shot_transition_type", "the matched boundaries have no scripted transition type", tool, version
        )
    else:
        metrics["shot_transition_type"] = measured(
            "shot_transition_type", 0.0, tool, version, {"agree": 0, "compared": 0}, "no scripted boundary was matched"
        )
    return metrics


@dataclass(frozen=True)
class CameraMotion:
    """Global motion of one shot, per second, as shares of the frame size."""

    pan_per_s: float  # + right: content moves left as the camera pans right
    tilt_per_s: float
    zoom_per_s: float  # relative scale change per second, + zooming in
    kind: str  # static | pan | tilt | zoom

    def to_dict(self) -> dict[str, Any]:
        return {
            "pan_per_s": round(self.pan_per_s, 4),
            "tilt_per_s": round(self.tilt_per_s, 4),
            "zoom_per_s": round(self.zoom_per_s, 4),
            "kind": self.kind,
        }


def measure_camera_motion(thumbs: np.ndarray, timestamps_s: np.ndarray, start: int, end: int, fps: float) -> CameraMotion | None:
    """Camera motion inside frames [start, end) from phase correlation of frames MOTION_STEP_S apart:
    the whole frame's shift gives pan and tilt; the halves moving apart (or together) give zoom."""
    length = end - start
    trim = int(length * MOTION_TRIM)
    a0, a1 = start + trim, end - trim
    step = max(1, int(round(MOTION_STEP_S * fps)))
    if a1 - a0 <= step:
        return None
    a = np.arange(a0, a1 - step, max(1, step // 2))
    b = a + step
    seconds = np.maximum(timestamps_s[b] - timestamps_s[a], 1e-6)
    g = to_float(thumbs[a0:a1])  # the shot's frames only, indexed from a0
    a, b = a - a0, b - a0
    h, w = g.shape[1:]
    whole = global_motion(g, a, b)
    left = global_motion(g[:, :, : w // 2], a, b)
    right = global_motion(g[:, :, w // 2 :], a, b)
    top = global_motion(g[:, : h // 2, :], a, b)
    bottom = global_motion(g[:, h // 2 :, :], a, b)
    pan = float(np.median(-whole.dx / w / seconds))
    tilt = float(np.median(-whole.dy / h / seconds))
    # Zooming in, the right half moves right and the left half left by ~ s * w/4 each.
    spread_x = (right.dx - left.dx) / (w / 2)
    spread_y = (bottom.dy - top.dy) / (h / 2)
    zoom = float(np.median((spread_x + spread_y) / 2 / seconds))
    magnitudes = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom)}
    kind = max(magnitudes, key=lambda k: magnitudes[k])
    limit = ZOOM_MIN_PER_S if kind == "zoom" else MOTION_MIN_PER_S
    if magnitudes[kind] < limit:
        kind = "static"
    return CameraMotion(pan, tilt, zoom, kind)


def camera_motion_metric(seg: SegmentationResult, script: PromptScript, decoded: DecodedClip, version: str) -> MetricValue:
    """Share of aligned shots whose measured camera motion realises the scripted one."""
    rows = []
    for i, j in enumerate(seg.alignment):
        scripted = script.shots[i].camera_motion
        accepts = MOTION_ACCEPTS.get(scripted)
        if j is None or accepts is None:
            continue
        shot = seg.shots[j]
        motion = measure_camera_motion(decoded.thumbs, decoded.timestamps_s, shot.start_frame, shot.end_frame, decoded.fps)
        if motion is None:
            continue
        rows.append({"scripted_shot": i + 1, "scripted": scripted, **motion.to_dict(), "agrees": motion.kind in accepts})
    if not rows:
        return not_measured("shot_camera_motion", "no aligned shot long enough to measure camera motion in",
                            MOTION_TOOL, version)
    agree = sum(1 for r in rows if r["agrees"])
    return measured("shot_camera_motion", agree / len(rows), MOTION_TOOL, version,
                    {"agree": agree, "compared": len(rows), "shots": rows})


def scale_from_face(height_fraction: float) -> str:
    """The suite's shot scale for a face of this height (share of the frame height)."""
    return SHOT_SCALES[int(np.searchsorted(SCALE_EDGES, height_fraction))]


def camera_scale_metric(
    seg: SegmentationResult, script: PromptScript, decoded: DecodedClip, use_expert_models: bool
) -> MetricValue:
    """Per aligned shot, the largest face's height in its sampled frames gives the shot scale; exact
    agreement with the script scores 1, one step off 0.5. Shots without a face are not judged."""
    try:
        from .. import faces
    except ImportError:  # pragma: no cover - faces.py is part of the engine
        faces = None  # type: ignore[assignment]
    version = tool_versions("numpy")
    if not use_expert_models or faces is None or not faces.faces_available():
        return not_measured("shot_camera_scale", "shot scale needs the face detector (dlib), which is off or not installed",
                            SCALE_TOOL, version)
    version = f"{version}; {faces.faces_version()}"
    from .video import FACES_PER_SHOT, shot_samples

    per_shot = shot_samples(decoded, seg, FACES_PER_SHOT)
    judged = [(i, j) for i, j in enumerate(seg.alignment) if j is not None and script.shots[i].shot_scale in SHOT_SCALES]
    # Up to FACES_PER_SHOT frames a shot outside transitions, all detected at once, several at a time: on
    # clips of up to MAX_FACE_FRAMES / FACES_PER_SHOT shots the very frames the pipeline's face analysis ran
    # on (video.face_frames), which faces' cache answers for.
    detected = iter(faces.detect_faces_in([s.rgb for _, j in judged for s in per_shot[j]]))
    rows = []
    for i, j in judged:
        scripted = script.shots[i].shot_scale
        shot_boxes = [next(detected) for _ in per_shot[j]]
        heights = [boxes[0].height_fraction for boxes in shot_boxes if boxes]
        if not heights:
            continue
        measured_scale = scale_from_face(float(np.median(heights)))
        steps = abs(SHOT_SCALES.index(measured_scale) - SHOT_SCALES.index(scripted))
        rows.append({"scripted_shot": i + 1, "scripted": scripted, "measured": measured_scale,
                     "face_height": round(float(np.median(heights)), 4), "score": 1.0 if steps == 0 else 0.5 if steps == 1 else 0.0})
    if not rows:
        return not_measured("shot_camera_scale", "no face found in any aligned shot to judge its scale by", SCALE_TOOL, version)
    value = float(np.mean([r["score"] for r in rows]))
    return measured("shot_camera_scale", value, SCALE_TOOL, version, {"compared": len(rows), "shots": rows})
