"""Technical video quality per shot: sharpness, noise, exposure and flicker, from the decoded samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..decode import DecodedClip, SampledFrame
from ..segmentation import SegmentationResult
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured, rounded, window_map

MAX_SAMPLES_PER_SHOT = 4  # evenly spread; bounds the cost on long shots
# Sharpness: median width (px) of the strongest edges, measured as local contrast / peak gradient
# after a sigma-1 pre-smoothing (which makes it insensitive to noise, unlike gradient-energy measures
# that read grain as detail). Crisp photographs at <= 480 px read 3.4-5.5 px; a Gaussian blur of
# sigma 1 px adds ~0.9 px, sigma 2 px ~2.2 px, sigma 3 px ~3.1 px (measured on skimage photographs).
EDGE_PRESMOOTH = 1.0
EDGE_WINDOW = 9  # px, the neighbourhood whose grey range is the edge's contrast
EDGE_MIN_CONTRAST = 30.0  # grey levels: weaker structure is texture or noise, not an edge to judge
EDGE_PERCENTILE = 98.0  # the strongest 2% of gradients among contrasted pixels
EDGE_MIN_PIXELS = 50
EDGE_GOOD, EDGE_BAD = 4.5, 8.0
# Noise: sigma in 8-bit grey levels as measured after the codec (which removes much of it): clean
# encodes read ~0.3-0.6; sigma 12 grain added before an H.264 CRF 20 encode reads ~3.7.
NOISE_GOOD, NOISE_BAD = 0.6, 5.0
# Exposure: pixels at the ends of the range carry no detail.
CLIP_HIGH, CLIP_LOW = 250.0, 5.0
CLIPPED_GOOD, CLIPPED_BAD = 0.02, 0.30  # share of clipped pixels
MEAN_LOW, MEAN_HIGH, MEAN_LOW_ZERO, MEAN_HIGH_ZERO = 50.0, 205.0, 10.0, 245.0
# Flicker: robust spread (1.4826 x median absolute value, grey levels) of the mean luminance around its
# 0.3 s moving average. Median-based, so a few flashes or a light switched on are events, not flicker;
# flicker is jitter on most frames.
FLICKER_WINDOW_S = 0.3
FLICKER_GOOD, FLICKER_BAD = 0.5, 5.0
FLICKER_MIN_FRAMES = 5

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601


@dataclass
class ShotQuality:
    """Per-shot raw values and scores (None where the shot had no usable frames)."""

    index: int
    start_s: float
    end_s: float
    samples: int
    edge_width_px: float | None = None
    sharpness: float | None = None
    noise_sigma: float | None = None
    noise: float | None = None
    clipped_share: float | None = None
    mean_luma: float | None = None
    exposure: float | None = None
    flicker_jitter: float | None = None
    flicker: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return {key: (rounded(value) if isinstance(value, float) else value) for key, value in vars(self).items()}


def luma(rgb: np.ndarray) -> np.ndarray:
    """(h, w) float32 grey levels 0..255."""
    return rgb.astype(np.float32) @ _LUMA


def edge_width(y: np.ndarray) -> float | None:
    """Median width in pixels of the frame's strongest edges (None if it has no contrasted edge).

    Width = local grey range / peak gradient: a step blurred over w pixels rises by its contrast over
    ~w pixels. Measured on the sharpest 2% of gradients among pixels with real contrast, after a light
    smoothing, so sensor noise and fine texture do not pass for sharpness.
    """
    smooth = ndimage.gaussian_filter(y, EDGE_PRESMOOTH)
    gradient = np.hypot(ndimage.sobel(smooth, axis=1), ndimage.sobel(smooth, axis=0)) / 8.0
    contrast = ndimage.maximum_filter(smooth, EDGE_WINDOW) - ndimage.minimum_filter(smooth, EDGE_WINDOW)
    contrasted = contrast >= EDGE_MIN_CONTRAST
    if np.count_nonzero(contrasted) < EDGE_MIN_PIXELS:
        return None
    strong = contrasted & (gradient >= np.percentile(gradient[contrasted], EDGE_PERCENTILE))
    strong &= gradient > 1e-6
    if not strong.any():
        return None
    return float(np.median(contrast[strong] / gradient[strong]))


_SECOND_DIFF = np.array([1.0, -2.0, 1.0], dtype=np.float32)


def noise_sigma(y: np.ndarray) -> float:
    """Noise standard deviation (grey levels) after Immerkaer 1996, made robust: the separable
    [1 -2 1] x [1 -2 1] residual cancels smooth image content; its median absolute deviation over the
    flatter half of the frame (low gradient) is converted to sigma (the kernel's norm is 6)."""
    residual = ndimage.correlate1d(ndimage.correlate1d(y, _SECOND_DIFF, axis=0), _SECOND_DIFF, axis=1)
    residual = residual[1:-1, 1:-1] / 6.0
    gradient = np.abs(np.diff(y, axis=0))[:-1, 1:-1] + np.abs(np.diff(y, axis=1))[1:-1, :-1]
    flat = gradient <= np.median(gradient)
    return float(1.4826 * np.median(np.abs(residual[flat])))


def exposure_stats(y: np.ndarray) -> tuple[float, float]:
    """(share of clipped pixels at either end, mean grey level)."""
    clipped = np.count_nonzero(y >= CLIP_HIGH) + np.count_nonzero(y <= CLIP_LOW)
    return clipped / y.size, float(y.mean())


def exposure_score(clipped_share: float, mean_luma: float) -> float:
    return linear_map(clipped_share, CLIPPED_GOOD, CLIPPED_BAD) * window_map(
        mean_luma, MEAN_LOW, MEAN_HIGH, MEAN_LOW_ZERO, MEAN_HIGH_ZERO
    )


def flicker_jitter(mean_luma: np.ndarray, usable: np.ndarray, fps: float) -> float | None:
    """Robust spread of the mean luminance around its moving average over the usable (non-transition)
    frames; slow changes (camera motion, lighting moves) are removed, frame-to-frame jitter stays."""
    width = max(3, int(round(FLICKER_WINDOW_S * fps)) | 1)
    residuals: list[np.ndarray] = []
    padded = np.concatenate([[False], usable, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for a, b in zip(edges[::2], edges[1::2]):
        run = mean_luma[a:b]
        if run.size < FLICKER_MIN_FRAMES:
            continue
        smooth = ndimage.uniform_filter1d(run, min(width, run.size), mode="nearest")
        residuals.append(run - smooth)
    if not residuals:
        return None
    joined = np.concatenate(residuals)
    return float(1.4826 * np.median(np.abs(joined)))


def _pick(samples: list[SampledFrame], limit: int) -> list[SampledFrame]:
    if len(samples) <= limit:
        return samples
    picks = np.linspace(0, len(samples) - 1, limit).round().astype(int)
    return [samples[i] for i in picks]


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def video_metrics(decoded: DecodedClip, seg: SegmentationResult) -> tuple[dict[str, MetricValue], list[ShotQuality]]:
    """The video-dimension metrics (each the mean of per-shot scores) and the per-shot evidence."""
    version = tool_versions("av", "numpy", "scipy")
    in_transition = seg.transition_mask(decoded.timestamps_s)
    mean_luma = decoded.thumbs.reshape(decoded.frame_count, -1).mean(axis=1, dtype=np.float32)
    per_shot: list[ShotQuality] = []
    for shot in seg.shots:
        quality = ShotQuality(shot.index, shot.start_s, shot.end_s, 0)
        samples = [
            s for s in decoded.samples
            if shot.start_frame <= s.index < shot.end_frame and not in_transition[s.index]
        ]
        samples = _pick(samples, MAX_SAMPLES_PER_SHOT)
        quality.samples = len(samples)
        if samples:
            greys = [luma(s.rgb) for s in samples]
            widths = [w for w in (edge_width(y) for y in greys) if w is not None]
            if widths:
                quality.edge_width_px = float(np.mean(widths))
                quality.sharpness = linear_map(quality.edge_width_px, EDGE_GOOD, EDGE_BAD)
            quality.noise_sigma = float(np.mean([noise_sigma(y) for y in greys]))
            quality.noise = linear_map(quality.noise_sigma, NOISE_GOOD, NOISE_BAD)
            stats = [exposure_stats(y) for y in greys]
            quality.clipped_share = float(np.mean([c for c, _ in stats]))
            quality.mean_luma = float(np.mean([m for _, m in stats]))
            quality.exposure = float(np.mean([exposure_score(c, m) for c, m in stats]))
        usable = np.zeros(decoded.frame_count, dtype=bool)
        usable[shot.start_frame : shot.end_frame] = True
        usable &= ~in_transition
        jitter = flicker_jitter(mean_luma, usable, decoded.fps)
        if jitter is not None:
            quality.flicker_jitter = jitter
            quality.flicker = linear_map(jitter, FLICKER_GOOD, FLICKER_BAD)
        per_shot.append(quality)

    def build(name: str, attr: str, raw_attrs: tuple[str, ...], tool: str, what: str) -> MetricValue:
        scores = [getattr(q, attr) for q in per_shot]
        value = _mean(scores)
        if value is None:
            return not_measured(name, f"no shot has {what} outside transitions", tool, version)
        raw: dict[str, float | int | None] = {
            key: rounded(_mean([getattr(q, key) for q in per_shot])) for key in raw_attrs  # means over shots
        }
        raw["shots_measured"] = sum(1 for s in scores if s is not None)
        return measured(name, value, tool, version, raw)

    samples_needed = "sampled frames"
    frames_needed = f"{FLICKER_MIN_FRAMES} consecutive frames"
    metrics = {
        "video_sharpness": build(
            "video_sharpness", "sharpness", ("edge_width_px",), "pyav+numpy:edge-width", "contrasted edges"
        ),
        "video_noise": build("video_noise", "noise", ("noise_sigma",), "pyav+numpy:immerkaer-mad", samples_needed),
        "video_exposure": build(
            "video_exposure", "exposure", ("clipped_share", "mean_luma"), "pyav+numpy:luma-clipping", samples_needed
        ),
        "video_flicker": build(
            "video_flicker", "flicker", ("flicker_jitter",), "pyav+numpy:luma-jitter", frames_needed
        ),
    }
    return metrics, per_shot
