"""The reference dimension: subject, scene and voice fidelity to the prompt's reference media, each only in the
shots the reference names (all shots when it names none; scripted shots that were not generated are left
to the shot-completion penalty).

- Subject: when the reference image shows a face and the face analysis ran (expert path, dlib), the
  similarity of the reference's 128-d dlib embedding to the best-matching face in each named shot
  (`faces.identity_similarity`: 1 for the same face, 0.5 at dlib's same-person threshold); a shot where
  no face is found, or a reference without a face, is compared by colour (hue/saturation/value histogram
  of the reference against the shot's central region) and ORB keypoints (OpenCV, when installed).
- Scene: colour histogram, colour layout (a 4 x 4 grid of mean Lab) and ORB keypoints over the whole frame.
- Voice: `metrics/voice.py` (speaker embeddings), which reads the named shots' speech itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from skimage import color

from ..decode import DecodedClip, SampledFrame
from ..script import PromptScript, ReferenceSpec
from ..segmentation import SegmentationResult
from ..versions import tool_versions
from .base import MetricValue, failed, linear_map, measured, not_measured
from .video import _hsv_hist, _intersection_distance, luma, orb_match_share, shot_samples

SUBJECT, SCENE, VOICE = "reference_subject_fidelity", "reference_scene_fidelity", "reference_voice_fidelity"
REFERENCE_METRICS = {SUBJECT: ("subject",), SCENE: ("scene",), VOICE: ("voice",)}
HIST_GOOD, HIST_BAD = 0.25, 0.85  # 1 - histogram intersection
ORB_GOOD, ORB_BAD = 0.20, 0.02  # share of reference keypoints with a distinctive match in the frame
LAYOUT_GOOD, LAYOUT_BAD = 8.0, 35.0  # mean Lab distance of the 4 x 4 colour layouts
KEYPOINT_WIDTH = 320  # px: both images are compared at this width


class ReferenceError(Exception):
    """A reference file that cannot be used (outside the suite folder, missing, unreadable)."""


@dataclass(frozen=True)
class ShotSpan:
    scripted_shot: int  # 1-based
    detected: int | None  # detected shot index, None when that scripted shot was not generated


def resolve_reference(reference_root: Path, file: str) -> Path:
    root = reference_root.resolve()
    path = (root / file).resolve()
    if not path.is_relative_to(root):
        raise ReferenceError(f"reference {file!r} leaves the suite folder")
    if not path.is_file():
        raise ReferenceError(f"reference {file!r} not found under {root}")
    return path


def load_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ReferenceError(f"reference {path.name!r} is not a readable image: {exc}") from exc


def named_spans(ref: ReferenceSpec, script: PromptScript, seg: SegmentationResult) -> list[ShotSpan]:
    shots = ref.shots or tuple(s.index for s in script.shots)
    return [
        ShotSpan(i, seg.alignment[i - 1] if 0 < i <= len(seg.alignment) else None)
        for i in shots
    ]


def _resize_width(rgb: np.ndarray, width: int) -> np.ndarray:
    from PIL import Image

    if rgb.shape[1] <= width:
        return rgb
    height = max(1, round(rgb.shape[0] * width / rgb.shape[1]))
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))


def _small(rgb: np.ndarray, width: int = 160) -> np.ndarray:
    step = max(1, rgb.shape[1] // width)
    return rgb[::step, ::step]


def _centre(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[int(h * 0.15): int(h * 0.85), int(w * 0.2): int(w * 0.8)]


def colour_layout(rgb: np.ndarray, grid: int = 4) -> np.ndarray:
    lab = color.rgb2lab(_small(rgb, 64))
    h, w = lab.shape[:2]
    cells = [
        lab[r * h // grid: (r + 1) * h // grid, c * w // grid: (c + 1) * w // grid].reshape(-1, 3).mean(axis=0)
        for r in range(grid) for c in range(grid)
    ]
    return np.array(cells)


def appearance_similarity(reference: np.ndarray, frames: list[np.ndarray], *, whole_frame: bool) -> dict[str, float | None]:
    """Colour-histogram, keypoint and (for scenes) colour-layout similarity of a reference image to the best
    of a shot's frames, each in [0, 1], and their mean as 'score'."""
    ref_hist = _hsv_hist(_small(reference))
    ref_grey = luma(_resize_width(reference, KEYPOINT_WIDTH)).astype(np.uint8)
    ref_layout = colour_layout(reference) if whole_frame else None
    best: dict[str, float | None] = {"colour": None, "keypoints": None, "layout": None}
    for frame in frames:
        region = frame if whole_frame else _centre(frame)
        colour_score = linear_map(_intersection_distance(ref_hist, _hsv_hist(_small(region))), HIST_GOOD, HIST_BAD)
        share = orb_match_share(ref_grey, luma(_resize_width(frame, KEYPOINT_WIDTH)).astype(np.uint8))
        keypoint_score = None if share is None else linear_map(share, ORB_GOOD, ORB_BAD)
        layout_score = None
        if ref_layout is not None:
            distance = float(np.mean(np.linalg.norm(ref_layout - colour_layout(frame), axis=1)))
            layout_score = linear_map(distance, LAYOUT_GOOD, LAYOUT_BAD)
        for key, value in (("colour", colour_score), ("keypoints", keypoint_score), ("layout", layout_score)):
            current = best[key]
            if value is not None and (current is None or value > current):
                best[key] = value
    parts = [v for v in best.values() if v is not None]
    best["score"] = float(np.mean(parts)) if parts else None
    return best


def _frames_of(decoded: DecodedClip, seg: SegmentationResult) -> list[list[SampledFrame]]:
    return shot_samples(decoded, seg)


def _subject_shot(
    reference: np.ndarray,
    ref_embedding: np.ndarray | None,
    samples: list[SampledFrame],
    faces_by_sample: dict[int, list[Any]] | None,
) -> dict[str, Any]:
    from ..faces import embedding_distance, identity_similarity

    if ref_embedding is not None and faces_by_sample is not None:
        embeddings = [
            f.embedding for s in samples for f in faces_by_sample.get(s.index, []) if f.embedding is not None
        ]
        if embeddings:
            distance = min(embedding_distance(ref_embedding, e) for e in embeddings)
            return {"method": "face", "distance": round(distance, 4), "score": identity_similarity(distance)}
    parts = appearance_similarity(reference, [s.rgb for s in samples], whole_frame=False)
    method = "appearance" if ref_embedding is None else "appearance (no face found in the shot)"
    return {"method": method, **{k: None if v is None else round(v, 4) for k, v in parts.items()}}


def _image_fidelity(
    name: str,
    refs: list[ReferenceSpec],
    script: PromptScript,
    decoded: DecodedClip,
    seg: SegmentationResult,
    reference_root: Path,
    faces_by_sample: dict[int, list[Any]] | None,
    faces_version: str,
) -> MetricValue:
    version = tool_versions("numpy", "skimage") + (f"; {faces_version}" if faces_version else "")
    per_shot_samples = _frames_of(decoded, seg)
    rows: list[dict[str, Any]] = []
    methods: set[str] = set()
    for ref in refs:
        try:
            image = load_image(resolve_reference(reference_root, ref.file))
        except ReferenceError as exc:
            return failed(name, str(exc), "", version)
        ref_embedding = None
        if name == SUBJECT and faces_by_sample is not None:
            from ..faces import analyse_faces

            ref_faces = analyse_faces(_resize_width(image, 640), max_faces=1)
            ref_embedding = ref_faces[0].embedding if ref_faces else None
        for span in named_spans(ref, script, seg):
            row: dict[str, Any] = {"reference": ref.file, "scripted_shot": span.scripted_shot, "detected_shot": span.detected}
            if span.detected is None or not per_shot_samples[span.detected]:
                row["note"] = "shot not generated or not sampled (the shot-completion penalty counts it)"
                rows.append(row)
                continue
            samples = per_shot_samples[span.detected]
            if name == SUBJECT:
                row.update(_subject_shot(image, ref_embedding, samples, faces_by_sample))
            else:
                parts = appearance_similarity(image, [s.rgb for s in samples], whole_frame=True)
                row.update({"method": "appearance", **{k: None if v is None else round(v, 4) for k, v in parts.items()}})
            methods.add(row["method"].split(" ")[0])
            rows.append(row)
    scored = [r for r in rows if r.get("score") is not None]
    tool = "+".join(
        sorted(("expert:dlib-face-embedding" if m == "face" else "numpy:colour+opencv:orb") for m in methods)
    ) or "numpy:colour+opencv:orb"
    if not scored:
        return not_measured(name, "none of the shots the reference names was generated and sampled", tool, version,
                            {"shots": rows})
    return measured(name, float(np.mean([r["score"] for r in scored])), tool, version, {"shots": rows})


def reference_metrics(
    script: PromptScript | None,
    reference_root: Path | None,
    decoded: DecodedClip | None = None,
    seg: SegmentationResult | None = None,
    *,
    faces_by_sample: dict[int, list[Any]] | None = None,
    faces_version: str = "",
    use_expert_models: bool = True,
) -> dict[str, MetricValue]:
    """Each reference metric, or not measured with the reason (no script, no such reference, no media root)."""
    out: dict[str, MetricValue] = {}
    for name, kinds in REFERENCE_METRICS.items():
        refs = [r for r in (script.references if script else ()) if r.kind in kinds]
        if script is None:
            out[name] = not_measured(name, "no prompt script")
        elif not refs:
            out[name] = not_measured(name, f"the prompt has no {'/'.join(kinds)} reference")
        elif reference_root is None:
            out[name] = not_measured(name, "no reference_root given to find the reference media")
        elif decoded is None or seg is None:
            out[name] = not_measured(name, "no decoded clip given")
        elif name == VOICE:
            # The AUDIO helper's module: speaker embeddings of the named shots' speech against the recording.
            from .voice import voice_fidelity

            out[name] = voice_fidelity(decoded, script, reference_root, use_expert_models=use_expert_models)
        else:
            out[name] = _image_fidelity(name, refs, script, decoded, seg, reference_root, faces_by_sample, faces_version)
    return out
