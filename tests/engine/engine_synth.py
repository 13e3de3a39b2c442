"""Synthetic test footage for the engine tests: photographs with camera motion, cuts, dissolves, flashes and audio."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter
from skimage import data as skdata

AUDIO_RATE = 48_000
MOTION_S = 3.0  # seconds a pan/tilt/zoom takes to cover its whole move
SYNC_FLASHES = (0.8, 1.7, 3.1, 4.3, 5.6, 6.2, 7.3)  # irregular, so no lag but the true one lines up


@dataclass(frozen=True)
class SynthShot:
    """One shot of a synthetic clip: a photograph seen through a moving virtual camera."""

    image: str  # a `skimage.data` function name
    duration_s: float
    motion: str = "static"  # static | pan | tilt | zoom | zoom-out
    transition_in: str = "hard-cut"  # hard-cut | dissolve | fade | wipe (ignored for the first shot)
    transition_frames: int = 12
    gain: float = 1.0  # brightness multiplier (e.g. a small exposure jump between two framings)
    region: tuple[float, float] = (0.5, 0.5)  # where a static or zooming camera looks, as fractions of the photo


@dataclass(frozen=True)
class SynthClip:
    """The ground truth of a rendered clip."""

    path: Path
    fps: float
    frame_count: int
    boundaries_s: tuple[float, ...]  # cut time, or the centre of a gradual transition
    boundary_frames: tuple[int, ...]
    kinds: tuple[str, ...]  # 'cut' | 'gradual' per boundary
    shot_starts_s: tuple[float, ...]
    duration_s: float
    flashes_s: tuple[float, ...] = field(default_factory=tuple)


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """A skimage sample photograph as RGB uint8."""
    image = getattr(skdata, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def _crop_box(
    src_w: int, src_h: int, aspect: float, motion: str, progress: float, region: tuple[float, float] = (0.5, 0.5)
) -> tuple[float, float, float, float]:
    """The source rectangle the virtual camera sees at `progress` in [0, 1] of its shot."""
    full_w = min(src_w, src_h * aspect)
    if motion in ("zoom", "zoom-out"):
        p = progress if motion == "zoom" else 1.0 - progress
        width = full_w * (0.95 - 0.4 * p)
        cx, cy = src_w / 2, src_h / 2
    else:
        width = full_w * 0.65
        height = width / aspect
        # Keep the window inside the photo wherever the region asks it to look.
        cx = min(max(region[0] * src_w, width / 2), src_w - width / 2)
        cy = min(max(region[1] * src_h, height / 2), src_h - height / 2)
        if motion == "pan":
            cx = width / 2 + (src_w - width) * (0.1 + 0.8 * progress)
        elif motion == "tilt":
            cy = height / 2 + (src_h - height) * (0.1 + 0.8 * progress)
    height = width / aspect
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


@lru_cache(maxsize=None)
def _pil_photo(name: str) -> Image.Image:
    return Image.fromarray(photo(name))


def render_shot_frame(shot: SynthShot, progress: float, size: tuple[int, int]) -> np.ndarray:
    src = _pil_photo(shot.image)
    # Transitions overlap the neighbour shot a little, so the camera keeps moving slightly past [0, 1].
    box = _crop_box(
        src.width, src.height, size[0] / size[1], shot.motion, min(max(progress, -0.12), 1.12), shot.region
    )
    image = src.resize(size, Image.Resampling.BILINEAR, box=box)
    frame = np.asarray(image, dtype=np.float32)
    return frame * shot.gain if shot.gain != 1.0 else frame


FLASH_DECAY = (1.0, 0.75, 0.5, 0.3, 0.15, 0.05)  # a brightness burst that dies away over 6 frames


def _paint_disc(frame: np.ndarray, centre: tuple[float, float], radius: float, strength: float) -> np.ndarray:
    """An opaque contrasting disc (an object popping into the picture), blended in by `strength`."""
    h, w = frame.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx - centre[0] * w) ** 2 + (yy - centre[1] * h) ** 2) <= (radius * h) ** 2
    colour = np.array([230.0, 40.0, 160.0], dtype=np.float32)
    out = frame.copy()
    out[inside] = out[inside] * (1 - strength) + colour * strength
    return out


def render_frames(
    shots: list[SynthShot],
    fps: float,
    size: tuple[int, int],
    *,
    flashes_s: tuple[float, ...] = (),
    flash_frames: int = 2,
    decaying_flashes_s: tuple[float, ...] = (),
    pops_s: tuple[float, ...] = (),
    pop_frames: int = 10,
) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Render every frame (float32 RGB) and return the boundary frame indices and kinds.

    Events that are not shot boundaries: `flashes_s` (the picture brighter for `flash_frames`),
    `decaying_flashes_s` (+40 grey levels dying away over 6 frames) and `pops_s` (a disc of 0.28 of
    the height appears for `pop_frames`, then fades out over 6).
    """
    starts = np.cumsum([0.0] + [s.duration_s for s in shots])
    start_frames = [int(round(t * fps)) for t in starts]
    total = start_frames[-1]
    frames: list[np.ndarray] = []
    flash_idx = {int(round(t * fps)) + j for t in flashes_s for j in range(flash_frames)}
    for n in range(total):
        k = max(i for i in range(len(shots)) if start_frames[i] <= n)
        shot = shots[k]

        def progress(i: int) -> float:
            # Camera speed is absolute (a full move takes at least MOTION_S), so short shots move less.
            return (n - start_frames[i]) / max(1.0, start_frames[i + 1] - start_frames[i], MOTION_S * fps)

        frame = render_shot_frame(shot, progress(k), size)
        # A gradual transition is centred on the boundary frame: blend with the neighbour shot.
        for j in (k, k + 1):
            if j == 0 or j >= len(shots) or shots[j].transition_in == "hard-cut":
                continue
            length = shots[j].transition_frames
            first = start_frames[j] - length // 2
            if not first <= n < first + length:
                continue
            alpha = (n - first + 0.5) / length
            a = render_shot_frame(shots[j - 1], progress(j - 1), size)
            b = render_shot_frame(shots[j], progress(j), size)
            if shots[j].transition_in == "dissolve":
                frame = (1 - alpha) * a + alpha * b
            elif shots[j].transition_in == "wipe":  # left to right
                edge = int(round(alpha * size[0]))
                frame = a.copy()
                frame[:, :edge] = b[:, :edge]
            else:  # fade through black
                frame = a * max(0.0, 1 - 2 * alpha) if alpha < 0.5 else b * (2 * alpha - 1)
        if n in flash_idx:
            frame = np.minimum(255.0, frame * 1.6 + 60.0)
        for t in decaying_flashes_s:
            age = n - int(round(t * fps))
            if 0 <= age < len(FLASH_DECAY):
                frame = np.minimum(255.0, frame + 40.0 * FLASH_DECAY[age])
        for k, t in enumerate(pops_s):
            age = n - int(round(t * fps))
            if 0 <= age < pop_frames + 6:
                strength = 1.0 if age < pop_frames else 1.0 - (age - pop_frames + 1) / 7.0
                frame = _paint_disc(frame, (0.3 + 0.4 * (k % 2), 0.5), 0.28, strength)
        frames.append(frame)
    kinds = ["cut" if s.transition_in == "hard-cut" else "gradual" for s in shots[1:]]
    return frames, start_frames[1:-1], kinds


def degrade(
    frames: list[np.ndarray],
    *,
    blur_sigma: float = 0.0,
    noise_sigma: float = 0.0,
    gain: float = 1.0,
    flicker: float = 0.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """Apply a technical degradation to rendered frames."""
    rng = np.random.default_rng(seed)
    out = []
    for frame in frames:
        f = frame
        if blur_sigma > 0:
            f = np.asarray(
                Image.fromarray(np.clip(f, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur_sigma)),
                dtype=np.float32,
            )
        if gain != 1.0:
            f = f * gain
        if flicker > 0:
            f = f * (1.0 + flicker * rng.choice([-1.0, 1.0]))
        if noise_sigma > 0:
            f = f + rng.normal(0.0, noise_sigma, f.shape).astype(np.float32)
        out.append(f)
    return out


def click_track(
    duration_s: float,
    events_s: tuple[float, ...],
    *,
    rate: int = AUDIO_RATE,
    offset_s: float = 0.0,
    kind: str = "burst",
    bed_level: float = 0.02,
    seed: int = 1,
) -> np.ndarray:
    """Mono audio: a quiet noise bed with a short decaying burst at every event (shifted by `offset_s`)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate))
    audio = rng.normal(0.0, bed_level, n).astype(np.float32)
    length = int(0.08 * rate)
    envelope = np.exp(-np.arange(length) / (0.015 * rate)).astype(np.float32)
    for t in events_s:
        start = int(round((t + offset_s) * rate))
        if start < 0 or start >= n:
            continue
        if kind == "click":
            burst = rng.normal(0.0, 0.5, length).astype(np.float32) * envelope
        else:
            burst = (0.5 * np.sin(2 * np.pi * 880 * np.arange(length) / rate) + rng.normal(0.0, 0.2, length)).astype(
                np.float32
            ) * envelope
        stop = min(n, start + length)
        audio[start:stop] += burst[: stop - start]
    return audio


def tone_track(duration_s: float, *, rate: int = AUDIO_RATE, level: float = 0.3, seed: int = 2) -> np.ndarray:
    """Mono 'music': a few harmonics with a slow amplitude movement plus a quiet noise bed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * rate))) / rate
    sig = sum(np.sin(2 * np.pi * f * t) / (i + 1) for i, f in enumerate((220.0, 330.0, 440.0, 660.0)))
    sig = sig / np.max(np.abs(sig)) * level * (0.8 + 0.2 * np.sin(2 * np.pi * 0.5 * t))
    return (sig + rng.normal(0.0, 0.003, t.shape)).astype(np.float32)


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    fps: float,
    *,
    audio: np.ndarray | None = None,
    audio_rate: int = AUDIO_RATE,
    channels: int = 2,
    crf: int = 20,
    container_format: str | None = None,
) -> None:
    """Encode float RGB frames as H.264 (and audio as AAC) into `path`."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w", format=container_format) as container:
        rate = Fraction(fps).limit_denominator(1001)
        vstream = container.add_stream("libx264", rate=rate)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"crf": str(crf), "preset": "veryfast"}
        astream = None
        if audio is not None:
            layout = "stereo" if channels == 2 else "mono"
            astream = container.add_stream("aac", rate=audio_rate, layout=layout)
        for n, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.clip(frame + 0.5, 0, 255).astype(np.uint8), format="rgb24")
            vf.pts = n
            vf.time_base = 1 / rate
            container.mux(vstream.encode(vf))
        container.mux(vstream.encode(None))
        if astream is not None and audio is not None:
            samples = audio if audio.ndim == 2 else np.repeat(audio[:, None], channels, axis=1)
            frame_size = 1024
            for i in range(0, samples.shape[0], frame_size):
                chunk = np.ascontiguousarray(samples[i : i + frame_size].T.astype(np.float32))
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=astream.layout.name)
                af.sample_rate = audio_rate
                af.pts = i
                af.time_base = Fraction(1, audio_rate)
                container.mux(astream.encode(af))
            container.mux(astream.encode(None))


def make_clip(
    path: Path,
    shots: list[SynthShot],
    *,
    fps: float = 25.0,
    size: tuple[int, int] = (320, 180),
    flashes_s: tuple[float, ...] = (),
    decaying_flashes_s: tuple[float, ...] = (),
    pops_s: tuple[float, ...] = (),
    audio: np.ndarray | None = None,
    channels: int = 2,
    crf: int = 20,
    **degradation: float,
) -> SynthClip:
    """Render, degrade and encode a clip; return its ground truth."""
    frames, boundary_frames, kinds = render_frames(
        shots, fps, size, flashes_s=flashes_s, decaying_flashes_s=decaying_flashes_s, pops_s=pops_s
    )
    if degradation:
        frames = degrade(frames, **degradation)  # type: ignore[arg-type]
    write_clip(path, frames, fps, audio=audio, channels=channels, crf=crf)
    starts = [0.0] + [f / fps for f in boundary_frames]
    return SynthClip(
        path=path,
        fps=fps,
        frame_count=len(frames),
        boundaries_s=tuple(f / fps for f in boundary_frames),
        boundary_frames=tuple(boundary_frames),
        kinds=tuple(kinds),
        shot_starts_s=tuple(starts),
        duration_s=len(frames) / fps,
        flashes_s=tuple(flashes_s),
    )
