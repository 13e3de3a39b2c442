"""The video dimension: technical quality per shot (sharpness, noise, exposure, flicker, blockiness) from the
decoded samples, cross-shot consistency (subject, background, colour, illumination, style) and layout
(face counts and positions across shots, and against the script's captions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from skimage import color

from ..decode import DecodedClip, SampledFrame
from ..script import PromptScript
from ..segmentation import SegmentationResult
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured, rounded, window_map

MAX_SAMPLES_PER_SHOT = 4  # evenly spread; bounds the cost on long shots
# ... and at most this many frames per clip in all (at least MIN_SAMPLES_PER_SHOT a shot): the DSP path
# must stay within 1.5x the decode time of a 60 s 720p clip with ~30 shots.
QUALITY_FRAME_BUDGET = 48
MIN_SAMPLES_PER_SHOT = 2
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
# Share of clipped pixels: 1 / (1 + (share / CLIPPED_HALF) ** CLIPPED_POWER) -- 0.89 at 2% (a sky or a
# specular highlight), 0.5 at 8%, 0.12 at 30%; it never flattens, so a harder over-exposure always ranks lower.
CLIPPED_HALF, CLIPPED_POWER = 0.08, 1.5
MEAN_LOW, MEAN_HIGH, MEAN_LOW_ZERO, MEAN_HIGH_ZERO = 50.0, 205.0, 10.0, 245.0
# Flicker: robust spread (1.4826 x median absolute value, grey levels) of the mean luminance around its
# 0.3 s moving average. Median-based, so a few flashes or a light switched on are events, not flicker;
# flicker is jitter on most frames.
FLICKER_WINDOW_S = 0.3
FLICKER_GOOD, FLICKER_BAD = 0.5, 5.0
FLICKER_MIN_FRAMES = 5
# Blockiness: compression blocks leave luminance steps on a fixed 8/16-px grid of the coded picture. The
# mean |horizontal (vertical) difference| profile over all of a shot's samples keeps the grid (content
# moves, the grid does not); its Fourier coefficient at the grid period (scaled by the decoder's sample
# downscale), relative to the mean step, is the measure. x264 at CRF 18-28 reads 0.01-0.03 on photographs
# (0.12 on a lattice-like rocket tower), CRF 42 0.04-0.17, CRF 48 0.09-0.47.
BLOCK_SIZES = (8, 16)
BLOCK_MIN_PERIOD_PX = 2.5  # a grid finer than this after downscaling is not resolvable: not measured
BLOCK_GOOD, BLOCK_BAD = 0.04, 0.30

VIDEO_METRICS = ("video_sharpness", "video_noise", "video_exposure", "video_flicker", "video_blockiness")
CONSISTENCY_METRICS = (
    "video_subject_consistency",
    "video_background_consistency",
    "video_colour_consistency",
    "video_illumination_consistency",
    "video_style_consistency",
    "video_layout_consistency",
    "video_layout_alignment",
)

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
    block_strength: float | None = None
    blockiness: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return {key: (rounded(value) if isinstance(value, float) else value) for key, value in vars(self).items()}


def luma(rgb: np.ndarray) -> np.ndarray:
    """(h, w) float32 grey levels 0..255."""
    return rgb.astype(np.float32) @ _LUMA


def sobel_magnitude(y: np.ndarray) -> np.ndarray:
    """|Sobel gradient| with mirrored borders, as hypot(ndimage.sobel(y, 1), ndimage.sobel(y, 0)) gives it
    (to float rounding) in half the time: the 3-tap passes are plain slice arithmetic."""
    padded = np.pad(y, 1, mode="symmetric")  # ndimage's 'reflect'
    across = padded[:, 2:] - padded[:, :-2]
    down = padded[2:, :] - padded[:-2, :]
    gx = across[:-2] + 2 * across[1:-1] + across[2:]
    gy = down[:, :-2] + 2 * down[:, 1:-1] + down[:, 2:]
    magnitude: np.ndarray = np.hypot(gx, gy)
    return magnitude


def _running(values: np.ndarray, size: int, axis: int, pick: np.ufunc) -> np.ndarray:
    """`pick` (np.maximum / np.minimum) over every `size` consecutive values along `axis` (valid part only):
    windows double in width, then two overlapping ones cover `size`."""

    def part(array: np.ndarray, start: int, length: int) -> np.ndarray:
        index = [slice(None)] * array.ndim
        index[axis] = slice(start, start + length)
        return array[tuple(index)]

    count = values.shape[axis] - size + 1
    width, acc = 1, values
    while width * 2 <= size:
        length = acc.shape[axis] - width
        acc = pick(part(acc, 0, length), part(acc, width, length))
        width *= 2
    picked: np.ndarray = pick(part(acc, 0, count), part(acc, size - width, count))
    return picked


def grey_range(y: np.ndarray, size: int) -> np.ndarray:
    """Local grey range (max - min over size x size windows, size odd, mirrored borders): exactly
    ndimage.maximum_filter(y, size) - ndimage.minimum_filter(y, size), four times faster."""
    padded = np.pad(y, size // 2, mode="symmetric")
    top = _running(_running(padded, size, 0, np.maximum), size, 1, np.maximum)
    bottom = _running(_running(padded, size, 0, np.minimum), size, 1, np.minimum)
    result: np.ndarray = top - bottom
    return result


def edge_width(y: np.ndarray) -> float | None:
    """Median width in pixels of the frame's strongest edges (None if it has no contrasted edge).

    Width = local grey range / peak gradient: a step blurred over w pixels rises by its contrast over
    ~w pixels. Measured on the sharpest 2% of gradients among pixels with real contrast, after a light
    smoothing, so sensor noise and fine texture do not pass for sharpness.
    """
    smooth = ndimage.gaussian_filter(y, EDGE_PRESMOOTH)
    gradient = sobel_magnitude(smooth) / 8.0
    contrast = grey_range(smooth, EDGE_WINDOW)
    contrasted = contrast >= EDGE_MIN_CONTRAST
    if np.count_nonzero(contrasted) < EDGE_MIN_PIXELS:
        return None
    strong = contrasted & (gradient >= np.percentile(gradient[contrasted], EDGE_PERCENTILE))
    strong &= gradient > 1e-6
    if not strong.any():
        return None
    return float(np.median(contrast[strong] / gradient[strong]))


def noise_sigma(y: np.ndarray) -> float:
    """Noise standard deviation (grey levels) after Immerkaer 1996, made robust: the separable
    [1 -2 1] x [1 -2 1] residual cancels smooth image content; its median absolute deviation over the
    flatter half of the frame (low gradient) is converted to sigma (the kernel's norm is 6)."""
    down = y[:-2] - 2 * y[1:-1] + y[2:]  # the interior only: the borders are cut off below anyway
    residual = (down[:, :-2] - 2 * down[:, 1:-1] + down[:, 2:]) / 6.0
    gradient = np.abs(np.diff(y, axis=0))[:-1, 1:-1] + np.abs(np.diff(y, axis=1))[1:-1, :-1]
    flat = gradient <= np.median(gradient)
    return float(1.4826 * np.median(np.abs(residual[flat])))


def exposure_stats(y: np.ndarray) -> tuple[float, float]:
    """(share of clipped pixels at either end, mean grey level)."""
    clipped = np.count_nonzero(y >= CLIP_HIGH) + np.count_nonzero(y <= CLIP_LOW)
    return float(clipped / y.size), float(y.mean())


def exposure_score(clipped_share: float, mean_luma: float) -> float:
    clipping = 1.0 / (1.0 + float((clipped_share / CLIPPED_HALF) ** CLIPPED_POWER))
    return clipping * window_map(
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


def _grid_coefficient(profile: np.ndarray, period: float) -> float:
    x = np.arange(profile.size)
    mean = float(profile.mean())
    if mean <= 1e-6:
        return 0.0
    return float(np.abs(np.sum((profile - mean) * np.exp(-2j * np.pi * x / period)))) / (profile.size * mean)


def block_strength(greys: list[np.ndarray], scale: float) -> float | None:
    """Grid periodicity of the luminance steps over a shot's grey samples (None when the coded block grid
    is too fine to resolve at this downscale). `scale` = sample width / coded width."""
    periods = [b * scale for b in BLOCK_SIZES if b * scale >= BLOCK_MIN_PERIOD_PX]
    if not periods or not greys:
        return None
    dx = np.mean([np.abs(np.diff(y, axis=1)).mean(axis=0) for y in greys], axis=0)
    dy = np.mean([np.abs(np.diff(y, axis=0)).mean(axis=1) for y in greys], axis=0)
    return max(_grid_coefficient(profile, p) for p in periods for profile in (dx, dy))


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
    limit = max(MIN_SAMPLES_PER_SHOT, min(MAX_SAMPLES_PER_SHOT, QUALITY_FRAME_BUDGET // max(1, len(seg.shots))))
    for shot in seg.shots:
        quality = ShotQuality(shot.index, shot.start_s, shot.end_s, 0)
        samples = [
            s for s in decoded.samples
            if shot.start_frame <= s.index < shot.end_frame and not in_transition[s.index]
        ]
        samples = _pick(samples, limit)
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
            strength = block_strength(greys, samples[0].rgb.shape[1] / max(1, decoded.width))
            if strength is not None:
                quality.block_strength = strength
                quality.blockiness = linear_map(strength, BLOCK_GOOD, BLOCK_BAD)
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
        "video_blockiness": build(
            "video_blockiness", "blockiness", ("block_strength",), "pyav+numpy:block-grid-spectrum",
            "a resolvable coding-block grid",
        ),
    }
    return metrics, per_shot


# --- cross-shot consistency and layout ----------------------------------------------------------------

LOOK_WIDTH = 120  # px: colour and style statistics need no detail
LOOK_SAMPLES = 2  # per shot: the shot's look, not its detail
# Colour: distance of the shots' mean chroma (a*, b*) plus half the difference of their spreads (Lab units).
# Two framings of one photograph read 8-17; shots of different photographs 50-67.
COLOUR_GOOD, COLOUR_BAD = 10.0, 50.0
# Illumination: |delta mean L*| plus half |delta L* spread| (L* 0..100).
ILLUM_GOOD, ILLUM_BAD = 8.0, 40.0
# Style: mean relative difference of colourfulness, saturation, edge density and fine-detail share.
STYLE_GOOD, STYLE_BAD = 0.10, 0.60
# Background: 1 - histogram intersection of the outer ring's hue/saturation/value histogram.
BACKGROUND_GOOD, BACKGROUND_BAD = 0.25, 0.85
BORDER = 0.2  # the outer 20% of each side is "background" (faces cut out of it)
# Non-face subject: 1 - intersection of the central region's histograms, and ORB keypoint matches.
SUBJECT_HIST_GOOD, SUBJECT_HIST_BAD = 0.25, 0.85
ORB_FEATURES = 300
ORB_GOOD_SHARE, ORB_BAD_SHARE = 0.25, 0.03  # share of keypoints with a good (ratio-test) match
# Layout: face centres of adjacent shots further apart than this (frame fractions) do not correspond.
LAYOUT_POSITION_BAD = 0.5
FACES_PER_SHOT = 3  # samples per shot the face analysis runs on (expert path)
MAX_FACE_FRAMES = 36  # face analysis (~50 ms a frame, +40 ms a face) runs on at most this many sampled frames per clip

_COUNT_WORDS = {
    "one": 1, "a": 1, "an": 1, "alone": 1, "single": 1, "two": 2, "both": 2, "pair": 2, "couple": 2,
    "three": 3, "four": 4, "five": 5, "six": 6,
}
_PEOPLE_WORDS = {
    "man", "woman", "person", "girl", "boy", "child", "kid", "singer", "astronaut", "chef", "barista", "host",
    "people", "men", "women", "persons", "girls", "boys", "children", "kids", "friends", "singers", "dancers",
    "player", "players", "speaker", "speakers", "presenter", "actor", "actors", "she", "he", "her", "him",
    "they", "faces", "face",
}
_PLURAL_PEOPLE = {"people", "men", "women", "persons", "girls", "boys", "children", "kids", "friends", "singers",
                  "dancers", "players", "speakers", "actors", "faces"}


@dataclass
class ShotLook:
    """Per-shot descriptors of the cross-shot metrics."""

    index: int
    sample_indices: list[int]
    lab_mean: np.ndarray  # (3,) L*, a*, b*
    lab_std: np.ndarray  # (3,)
    style: np.ndarray  # colourfulness, saturation, edge density, fine-detail share
    border_hist: np.ndarray
    centre_hist: np.ndarray
    centre_grey: np.ndarray  # a grey crop of the central region, for keypoints
    faces: list[list[Any]] | None = None  # per analysed sample: faces (largest first); None = not analysed

    @property
    def face_count(self) -> int | None:
        if self.faces is None:
            return None
        return max((len(f) for f in self.faces), default=0)

    def face_embeddings(self) -> list[np.ndarray]:
        return [face.embedding for per_sample in self.faces or [] for face in per_sample if face.embedding is not None]

    def face_centres(self) -> list[tuple[float, float]]:
        """Centres of the faces of the sample with the most faces."""
        if not self.faces:
            return []
        busiest = max(self.faces, key=len)
        return [face.box.centre for face in busiest]


def hsv(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32 hue, saturation, value in [0, 1] (a lean rgb2hsv: this runs on every sample)."""
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(axis=2)
    spread = v - x.min(axis=2)
    s = np.where(v > 1e-6, spread / np.maximum(v, 1e-6), 0.0)
    safe = np.maximum(spread, 1e-6)
    h = np.where(v == r, (g - b) / safe, np.where(v == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = np.where(spread > 1e-6, (h / 6.0) % 1.0, 0.0)
    return np.stack([h, s, v], axis=-1).astype(np.float32)


def _hsv_hist(rgb: np.ndarray, mask: np.ndarray | None = None, *, hsv_image: np.ndarray | None = None) -> np.ndarray:
    hsv_values = hsv(rgb) if hsv_image is None else hsv_image
    pixels = hsv_values.reshape(-1, 3) if mask is None else hsv_values[mask]
    if pixels.shape[0] == 0:
        return np.zeros(12 * 4 + 4, dtype=np.float64)
    hs, _, _ = np.histogram2d(pixels[:, 0], pixels[:, 1], bins=(12, 4), range=((0, 1), (0, 1)))
    v, _ = np.histogram(pixels[:, 2], bins=4, range=(0, 1))
    hist: np.ndarray = np.concatenate([hs.ravel(), v.astype(np.float64)])
    return hist / max(1.0, float(hist.sum()))


def _style_vector(rgb: np.ndarray, grey: np.ndarray, hsv_image: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())) / 100.0
    saturation = float(hsv_image[..., 1].mean())
    gradient = sobel_magnitude(grey) / 8.0
    edge_density = float(np.mean(gradient > 10.0))
    fine = np.abs(grey - ndimage.gaussian_filter(grey, 1.5))
    detail = float(fine.mean() / (np.abs(grey - grey.mean()).mean() + 1e-6))
    return np.array([colourfulness, saturation, edge_density, detail], dtype=np.float64)


def _small(rgb: np.ndarray) -> np.ndarray:
    step = max(1, rgb.shape[1] // LOOK_WIDTH)
    return rgb[::step, ::step]


def shot_samples(decoded: DecodedClip, seg: SegmentationResult, limit: int = MAX_SAMPLES_PER_SHOT) -> list[list[SampledFrame]]:
    """Per detected shot, up to `limit` samples outside transitions (evenly spread)."""
    in_transition = seg.transition_mask(decoded.timestamps_s)
    out = []
    for shot in seg.shots:
        chosen = [s for s in decoded.samples if shot.start_frame <= s.index < shot.end_frame and not in_transition[s.index]]
        out.append(_pick(chosen, limit))
    return out


def face_frames(
    decoded: DecodedClip, seg: SegmentationResult, per_shot: int = FACES_PER_SHOT, limit: int = MAX_FACE_FRAMES
) -> list[SampledFrame]:
    """The samples the face analysis runs on: up to `per_shot` per shot (as `shot_samples` picks them) and
    `limit` in all, spread over the whole clip in rounds (every shot's first, then every shot's second, ...),
    so a clip with more shots than `limit / per_shot` still has its later shots looked at (a 212 s music
    video's 136 shots: 36 shots across the clip rather than its first 12). When one round is more than
    the budget left, it takes evenly spaced shots. In time order."""
    by_shot = [chosen for chosen in shot_samples(decoded, seg, per_shot) if chosen]
    picked: list[SampledFrame] = []
    for round_ in range(per_shot):
        candidates = [chosen[round_] for chosen in by_shot if len(chosen) > round_]
        room = limit - len(picked)
        if room <= 0 or not candidates:
            break
        if len(candidates) > room:
            spread = np.linspace(0, len(candidates) - 1, room).round().astype(int)
            candidates = [candidates[k] for k in spread]
        picked.extend(candidates)
    return sorted(picked, key=lambda s: s.index)


def shot_looks(
    decoded: DecodedClip, seg: SegmentationResult, faces_by_sample: dict[int, list[Any]] | None
) -> list[ShotLook]:
    looks = []
    for shot, samples in zip(seg.shots, shot_samples(decoded, seg, LOOK_SAMPLES)):
        if not samples:
            continue
        labs, styles, borders, centres = [], [], [], []
        grey_centre = np.zeros((1, 1), dtype=np.float32)
        for sample in samples:
            rgb = _small(sample.rgb)
            h, w = rgb.shape[:2]
            lab = color.rgb2lab(rgb).reshape(-1, 3)
            labs.append(lab)
            grey = luma(rgb)
            hsv_image = hsv(rgb)
            styles.append(_style_vector(rgb, grey, hsv_image))
            ring = np.ones((h, w), dtype=bool)
            ring[int(h * BORDER): int(h * (1 - BORDER)), int(w * BORDER): int(w * (1 - BORDER))] = False
            scale = w / sample.rgb.shape[1]
            for face in (faces_by_sample or {}).get(sample.index, []):
                b = face.box
                ring[int(b.top * scale): int(b.bottom * scale) + 1, int(b.left * scale): int(b.right * scale) + 1] = False
            borders.append(_hsv_hist(rgb, ring, hsv_image=hsv_image))
            centre = hsv_image[int(h * 0.2): int(h * 0.8), int(w * 0.25): int(w * 0.75)]
            centres.append(_hsv_hist(rgb, hsv_image=centre))
        middle = samples[len(samples) // 2].rgb
        mh, mw = middle.shape[:2]
        grey_centre = luma(middle[int(mh * 0.15): int(mh * 0.85), int(mw * 0.2): int(mw * 0.8)])
        pixels = np.concatenate(labs)
        faces = None
        if faces_by_sample is not None:
            faces = [faces_by_sample[s.index] for s in samples if s.index in faces_by_sample]
        looks.append(
            ShotLook(
                index=shot.index,
                sample_indices=[s.index for s in samples],
                lab_mean=pixels.mean(axis=0),
                lab_std=pixels.std(axis=0),
                style=np.mean(styles, axis=0),
                border_hist=np.mean(borders, axis=0),
                centre_hist=np.mean(centres, axis=0),
                centre_grey=grey_centre.astype(np.uint8),
                faces=faces,
            )
        )
    return looks


def _intersection_distance(a: np.ndarray, b: np.ndarray) -> float:
    return 1.0 - float(np.minimum(a, b).sum())


def _lighting_changes(seg: SegmentationResult, script: PromptScript | None, a: int, b: int) -> bool:
    """The script gives the two detected shots different lighting (then illumination may change)."""
    if script is None:
        return False
    scripted = {j: i for i, j in enumerate(seg.alignment) if j is not None}
    if a not in scripted or b not in scripted:
        return False
    la, lb = script.shots[scripted[a]].lighting, script.shots[scripted[b]].lighting
    return bool(la and lb and la.strip().lower() != lb.strip().lower())


def orb_match_share(a: np.ndarray, b: np.ndarray) -> float | None:
    """Share of ORB keypoints of `a` with a distinctive match in `b` (OpenCV; None when unavailable)."""
    try:
        import cv2
    except ImportError:
        return None
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES)  # type: ignore[attr-defined]
    ka, da = orb.detectAndCompute(np.ascontiguousarray(a), None)
    kb, db = orb.detectAndCompute(np.ascontiguousarray(b), None)
    if da is None or db is None or len(ka) < 10 or len(kb) < 10:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = sum(1 for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance)
    return good / len(ka)


def _pair_metric(
    name: str, looks: list[ShotLook], distance: Any, good: float, bad: float, tool: str, version: str,
    skip: Any = None, what: str = "",
) -> MetricValue:
    rows = []
    for a, b in zip(looks, looks[1:]):
        if skip is not None and skip(a, b):
            continue
        d = float(distance(a, b))
        rows.append({"shots": [a.index, b.index], "distance": round(d, 4), "score": round(linear_map(d, good, bad), 4)})
    if not rows:
        return not_measured(name, f"fewer than two shots with usable frames{what}", tool, version)
    return measured(name, float(np.mean([r["score"] for r in rows])), tool, version, {"pairs": rows})


def subject_consistency(looks: list[ShotLook], faces_ran: bool, version: str) -> MetricValue:
    """With faces in two or more shots: each face-bearing shot's best identity match among the other shots'
    faces (a recurring character is recognised, shot-reverse-shot dialogue included). Otherwise the
    central region's colour histogram and ORB keypoints between adjacent shots."""
    from ..faces import embedding_distance, identity_similarity

    name = "video_subject_consistency"
    with_faces = [look for look in looks if look.face_embeddings()]
    rows: list[dict[str, Any]] = []
    if faces_ran and len(with_faces) >= 2:
        for look in with_faces:
            mine = look.face_embeddings()
            others = [e for other in with_faces if other is not look for e in other.face_embeddings()]
            best = min(embedding_distance(m, o) for m in mine for o in others)
            rows.append({"shot": look.index, "best_distance": round(best, 4), "score": round(identity_similarity(best), 4)})
        return measured(
            name, float(np.mean([r["score"] for r in rows])), "expert:dlib-face-embedding", version,
            {"shots": rows, "shots_with_faces": len(with_faces)},
        )
    for a, b in zip(looks, looks[1:]):
        hist = linear_map(_intersection_distance(a.centre_hist, b.centre_hist), SUBJECT_HIST_GOOD, SUBJECT_HIST_BAD)
        share = orb_match_share(a.centre_grey, b.centre_grey)
        keypoints = None if share is None else linear_map(share, ORB_GOOD_SHARE, ORB_BAD_SHARE)
        score = hist if keypoints is None else 0.5 * (hist + keypoints)
        rows.append({"shots": [a.index, b.index], "colour": round(hist, 4),
                     "keypoints": None if keypoints is None else round(keypoints, 4), "score": round(score, 4)})
    tool = "numpy:centre-colour-histogram" + ("+opencv:orb" if any(r["keypoints"] is not None for r in rows) else "")
    if not rows:
        return not_measured(name, "fewer than two shots with usable frames", tool, version)
    return measured(name, float(np.mean([r["score"] for r in rows])), tool, version,
                    {"pairs": rows, "faces": "no face in two shots" if faces_ran else "face analysis did not run"})


def expected_people(caption: str) -> int | None:
    """How many people a caption names (None when it does not say): 'two dancers' -> 2, 'a woman' -> 1,
    'she' -> 1, 'they' or a plural without a number -> None (at least two, count unknown)."""
    words = [w.strip(".,;:!?'\"()").lower() for w in caption.split()]
    for i, word in enumerate(words):
        if word in _COUNT_WORDS and i + 1 < len(words):
            following = words[i + 1: i + 3]
            if any(w in _PEOPLE_WORDS for w in following):
                count = _COUNT_WORDS[word]
                if count == 1 and any(w in _PLURAL_PEOPLE for w in following):
                    continue
                return count
    singular = {"she", "he", "her", "him"}
    if any(w in singular for w in words) and not any(w in _PLURAL_PEOPLE or w == "they" for w in words):
        return 1
    return None


def layout_metrics(
    looks: list[ShotLook], seg: SegmentationResult, script: PromptScript | None, faces_ran: bool, version: str
) -> dict[str, MetricValue]:
    tool = "expert:dlib-face-detector"
    consistency_name, alignment_name = "video_layout_consistency", "video_layout_alignment"
    if not faces_ran:
        reason = "layout needs the face detector (expert models off or dlib not installed)"
        return {consistency_name: not_measured(consistency_name, reason, tool, version),
                alignment_name: not_measured(alignment_name, reason, tool, version)}
    rows = []
    for a, b in zip(looks, looks[1:]):
        ca, cb = a.face_centres(), b.face_centres()
        if not ca and not cb:
            continue
        count = min(len(ca), len(cb)) / max(len(ca), len(cb))
        position = 0.0
        if ca and cb:
            xs_a, xs_b = sorted(c[0] for c in ca), sorted(c[0] for c in cb)
            shift = float(np.mean([abs(x - y) for x, y in zip(xs_a, xs_b)]))
            position = linear_map(shift, 0.0, LAYOUT_POSITION_BAD)
        rows.append({"shots": [a.index, b.index], "faces": [len(ca), len(cb)], "score": round(0.5 * (count + position), 4)})
    out = {
        consistency_name: (
            measured(consistency_name, float(np.mean([r["score"] for r in rows])), tool, version, {"pairs": rows})
            if rows else not_measured(consistency_name, "no faces in adjacent shots to compare", tool, version)
        )
    }
    checks = []
    if script is not None:
        by_index = {look.index: look for look in looks}
        for scripted_i, detected_j in enumerate(seg.alignment):
            if detected_j is None or detected_j not in by_index:
                continue
            expected = expected_people(script.shots[scripted_i].caption)
            if expected is None:
                continue
            found = by_index[detected_j].face_count or 0
            score = 1.0 if found == expected else min(found, expected) / max(found, expected)
            checks.append({"scripted_shot": scripted_i + 1, "expected": expected, "faces": found, "score": round(score, 4)})
    out[alignment_name] = (
        measured(alignment_name, float(np.mean([c["score"] for c in checks])), tool, version, {"shots": checks})
        if checks
        else not_measured(alignment_name, "no scripted caption says how many people a shot shows", tool, version)
    )
    return out


def consistency_metrics(
    decoded: DecodedClip,
    seg: SegmentationResult,
    script: PromptScript | None,
    faces_by_sample: dict[int, list[Any]] | None,
    faces_version: str = "",
) -> tuple[dict[str, MetricValue], list[ShotLook]]:
    """Cross-shot consistency and layout. `faces_by_sample` (SampledFrame.index -> faces) is None when the
    face analysis did not run (DSP path): subject consistency then uses colour and keypoints, layout is
    not measured."""
    version = tool_versions("av", "numpy", "scipy", "skimage")
    face_version = f"{version}; {faces_version}" if faces_version else version
    faces_ran = faces_by_sample is not None
    looks = shot_looks(decoded, seg, faces_by_sample)
    lab = "skimage:lab-statistics"
    metrics = {
        "video_colour_consistency": _pair_metric(
            "video_colour_consistency", looks,
            lambda a, b: np.linalg.norm(a.lab_mean[1:] - b.lab_mean[1:]) + 0.5 * np.linalg.norm(a.lab_std[1:] - b.lab_std[1:]),
            COLOUR_GOOD, COLOUR_BAD, lab, version,
        ),
        "video_illumination_consistency": _pair_metric(
            "video_illumination_consistency", looks,
            lambda a, b: abs(a.lab_mean[0] - b.lab_mean[0]) + 0.5 * abs(a.lab_std[0] - b.lab_std[0]),
            ILLUM_GOOD, ILLUM_BAD, lab, version,
            skip=lambda a, b: _lighting_changes(seg, script, a.index, b.index),
            what=" (pairs whose scripted lighting differs are skipped)",
        ),
        "video_style_consistency": _pair_metric(
            "video_style_consistency", looks,
            lambda a, b: float(np.mean(np.abs(a.style - b.style) / (np.maximum(a.style, b.style) + 0.05))),
            STYLE_GOOD, STYLE_BAD, "numpy:colourfulness-saturation-edges", version,
        ),
        "video_background_consistency": _pair_metric(
            "video_background_consistency", looks,
            lambda a, b: _intersection_distance(a.border_hist, b.border_hist),
            BACKGROUND_GOOD, BACKGROUND_BAD, "skimage:border-hsv-histogram", version,
        ),
        "video_subject_consistency": subject_consistency(looks, faces_ran, face_version),
    }
    metrics.update(layout_metrics(looks, seg, script, faces_ran, face_version))
    return metrics, looks
