"""The real photographs shipped with scikit-image, their points of interest, and per-style looks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
from PIL import Image
from scipy import ndimage


def _skimage(name: str, index: int | None = None) -> Callable[[], np.ndarray]:
    """A loader for one skimage.data image; imported lazily so the catalogue itself costs nothing."""

    def load() -> np.ndarray:
        import skimage.data

        image: np.ndarray = getattr(skimage.data, name)()
        return np.asarray(image[index]) if index is not None else image

    return load


@dataclass(frozen=True)
class Photo:
    key: str
    load: Callable[[], np.ndarray]
    # Named points of interest in normalised (x, y) photo coordinates; a shot frames one of them.
    pois: dict[str, tuple[float, float]]
    # Crop box (x0, y0, x1, y1), normalised, used when the photo is a subject reference.
    subject_box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    # Points of interest whose framing shows the subject (empty = all of them).
    subject_pois: tuple[str, ...] = ()

    def shows_subject(self, poi: str) -> bool:
        return not self.subject_pois or poi in self.subject_pois


# All of these files ship inside the scikit-image wheel (skimage/data/), so nothing is downloaded.
PHOTOS: dict[str, Photo] = {
    p.key: p
    for p in (
        Photo(
            "astronaut",
            _skimage("astronaut"),
            {"face": (0.45, 0.21), "shuttle": (0.84, 0.22), "helmet": (0.84, 0.78), "patch": (0.33, 0.62), "wide": (0.5, 0.3)},
            subject_box=(0.18, 0.0, 0.72, 0.55),
            subject_pois=("face", "patch", "wide"),
        ),
        Photo(
            "chelsea",
            _skimage("chelsea"),
            {"face": (0.55, 0.45), "eyes": (0.52, 0.38), "nose": (0.62, 0.72)},
            subject_box=(0.2, 0.0, 0.9, 1.0),
        ),
        Photo(
            "coffee",
            _skimage("coffee"),
            {"cup": (0.45, 0.42), "crema": (0.4, 0.2), "spoon": (0.62, 0.7), "table": (0.5, 0.5)},
            subject_box=(0.15, 0.0, 0.85, 1.0),
        ),
        Photo("rocket", _skimage("rocket"), {"rocket": (0.5, 0.5), "lights": (0.5, 0.92), "tower": (0.12, 0.55)}),
        Photo("hubble", _skimage("hubble_deep_field"), {"centre": (0.5, 0.5), "spiral": (0.32, 0.64)}),
        Photo("cells", _skimage("immunohistochemistry"), {"centre": (0.5, 0.45), "ring": (0.62, 0.72)}),
        Photo("retina", _skimage("retina"), {"centre": (0.5, 0.5), "disc": (0.17, 0.45)}),
        Photo(
            "motorcycle",
            _skimage("stereo_motorcycle", 0),
            {"bike": (0.48, 0.62), "engine": (0.55, 0.65), "wheel": (0.8, 0.78)},
            subject_box=(0.08, 0.25, 0.98, 0.98),
        ),
        Photo("colorwheel", _skimage("colorwheel"), {"centre": (0.5, 0.5)}),
        Photo("horse", _skimage("horse"), {"body": (0.5, 0.55), "head": (0.84, 0.22)}),
        Photo("camera", _skimage("camera"), {"face": (0.57, 0.27), "tripod": (0.6, 0.72), "wide": (0.5, 0.5)}),
        Photo("moon", _skimage("moon"), {"crater": (0.55, 0.35), "surface": (0.5, 0.5)}),
        Photo("coins", _skimage("coins"), {"tray": (0.5, 0.5), "coin": (0.86, 0.1)}),
        Photo("brick", _skimage("brick"), {"wall": (0.5, 0.5)}),
        Photo("grass", _skimage("grass"), {"blades": (0.5, 0.5)}),
        Photo("gravel", _skimage("gravel"), {"pebbles": (0.5, 0.5)}),
    )
}

STYLES = ("photo-realistic", "retro", "watercolor", "anime", "pixel", "cyberpunk")


@lru_cache(maxsize=None)
def load_photo(key: str) -> np.ndarray:
    """The photo as an (h, w, 3) uint8 RGB array; grey and boolean images become grey RGB."""
    image = np.asarray(PHOTOS[key].load())
    if image.dtype == bool:
        # The horse is a boolean mask with the horse as False: render it as a black silhouette on white.
        image = np.where(image, 255, 0).astype(np.uint8)
    if image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
    image.setflags(write=False)
    return image


def subject_crop(key: str) -> np.ndarray:
    """The crop of the original photograph that serves as a subject reference image."""
    image = load_photo(key)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = PHOTOS[key].subject_box
    return np.ascontiguousarray(image[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)])


def _luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _edges(image: np.ndarray, sigma: float) -> np.ndarray:
    """Edge strength in [0, 1] of a float RGB image, smoothed first so textures do not all become edges."""
    luma = ndimage.gaussian_filter(_luma(image), sigma)
    magnitude = np.hypot(ndimage.sobel(luma, 0), ndimage.sobel(luma, 1))
    edges: np.ndarray = np.clip(magnitude / (np.percentile(magnitude, 97) + 1e-6), 0.0, 1.0)
    return edges


def apply_style(image: np.ndarray, style: str) -> np.ndarray:
    """Give a stage image the prompt's visual style (done once per photo, not per frame, for speed)."""
    if style not in STYLES or style == "photo-realistic":
        return image
    x = image.astype(np.float32)
    h, w = x.shape[:2]
    if style == "retro":
        # Sepia, lifted blacks and a vignette: an archival film look.
        luma = _luma(x)[:, :, None]
        sepia = luma * np.array([1.07, 0.9, 0.68], dtype=np.float32) + np.array([18, 10, 0], dtype=np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2))
        vignette = np.clip(1.15 - 0.35 * r**2, 0.55, 1.0)[:, :, None]
        x = (0.85 * sepia + 20) * vignette
    elif style == "watercolor":
        # Soft washes of colour on textured paper with darker pigment at the edges.
        soft = ndimage.gaussian_filter(x, (3, 3, 0))
        levels = 9.0
        washed = np.round(soft / 255 * levels) / levels * 255
        paper = ndimage.gaussian_filter(np.random.default_rng(1234).standard_normal((h, w)).astype(np.float32), 2)
        paper = 1.0 + 0.06 * paper / (paper.std() + 1e-6)
        edges = _edges(soft, 2.0)[:, :, None]
        x = (0.55 * washed + 0.45 * soft) * paper[:, :, None] * (1 - 0.35 * edges) + 30 * (1 - edges)
    elif style == "anime":
        # Flat cel shading with bold dark outlines.
        smooth = ndimage.median_filter(x, size=(5, 5, 1))
        levels = 5.0
        cel = np.round(smooth / 255 * levels) / levels * 255
        cel = 0.8 * cel + 0.2 * smooth
        hsv_boost = cel + 0.3 * (cel - _luma(cel)[:, :, None])  # more saturated
        edges = (_edges(smooth, 1.5) > 0.45).astype(np.float32)[:, :, None]
        x = hsv_boost * (1 - 0.85 * edges)
    elif style == "pixel":
        # Big pixels and a small palette: 8-bit game art.
        block = max(4, h // 60)
        small_size = (max(1, w // block), max(1, h // block))
        small = np.asarray(Image.fromarray(image).resize(small_size, Image.Resampling.BOX))
        small = (np.round(small.astype(np.float32) / 255 * 4) / 4 * 255).astype(np.uint8)
        x = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.NEAREST)).astype(np.float32)
    elif style == "cyberpunk":
        # Magenta-cyan grade, crushed blacks and neon edge glow.
        luma = _luma(x)[:, :, None] / 255
        grade = (1 - luma) * np.array([40, 0, 90], dtype=np.float32) + luma * np.array([255, 60, 230], dtype=np.float32)
        mixed = 0.45 * x + 0.55 * grade
        contrast = np.clip((mixed - 128) * 1.25 + 118, 0, 255)
        glow = ndimage.gaussian_filter(_edges(x, 1.5), 2.0)[:, :, None]
        x = contrast + glow * np.array([0, 220, 255], dtype=np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


@lru_cache(maxsize=24)
def stage(key: str, style: str, base_width: int, style_width: int | None = None) -> np.ndarray:
    """The styled photo scaled so that its widest 16:9 window is `base_width` pixels wide.

    Shots crop moving windows from this stage; scaling it once keeps every frame's crop a cheap slice.
    The style is applied at `style_width` (default: base_width) and the result upscaled, so that a
    close-up's large stage looks like the long shot's and does not cost a style pass of its own.
    """
    if style_width is not None and style_width != base_width:
        styled_small = stage(key, style, style_width)
        h, w = styled_small.shape[:2]
        scale = base_width / style_width
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        styled = np.asarray(Image.fromarray(styled_small).resize(size, Image.Resampling.BICUBIC))
    else:
        photo = load_photo(key)
        h, w = photo.shape[:2]
        window_w = min(w, h * 16 / 9)
        scale = base_width / window_w
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resized = np.asarray(Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS))
        styled = apply_style(resized, style)
    styled = np.ascontiguousarray(styled)
    styled.setflags(write=False)
    return styled
