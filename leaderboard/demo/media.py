"""Rendering a clip plan into frames (moving crops of photos, transitions, events, text) and muxing an MP4."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from .audio import SAMPLE_RATE
from .photos import PHOTOS, stage
from .plan import SCALE_ZOOM, ClipPlan, Segment

# Stages are scaled so that a shot's window is about this many times the output size: crops then move
# and zoom in sub-pixel steps, while the per-frame resize stays small (its cost grows with the window).
WINDOW_OVERSAMPLE = 1.5
STYLE_FACTOR = 2  # styles are computed once at this stage size, then upscaled for close shots
NOISE_BANK = 24  # noise fields drawn once per clip and picked at random per frame
PAN_RATE = 0.05  # window widths (or heights) per second
ZOOM_RATE = 0.12  # log zoom per second
DOLLY_RATE = 0.08
TRACK_RATE = 0.06
FLASH_DECAY = (1.0, 0.75, 0.5, 0.3, 0.15, 0.05)
AUDIO_FRAME = 1024  # AAC frame size: feeding whole frames avoids relying on the encoder's buffering


class _Camera:
    """The camera window over a segment's stage, precomputed for every frame it may be drawn on."""

    def __init__(self, plan: ClipPlan, segment: Segment, first: int, last: int):
        factor = max(STYLE_FACTOR, int(np.ceil(WINDOW_OVERSAMPLE * SCALE_ZOOM[segment.scale])))
        self.stage = stage(segment.photo, plan.style, factor * plan.width, STYLE_FACTOR * plan.width)
        sh, sw = self.stage.shape[:2]
        aspect = plan.width / plan.height
        base_w = min(sw, sh * aspect)
        base_h = base_w / aspect
        self.first = first
        frames = np.arange(first, last)
        t = (frames - (segment.start_frame + segment.end_frame) / 2) / plan.fps  # seconds from the shot's middle
        poi_x, poi_y = PHOTOS[segment.photo].pois[segment.poi]
        sign = -1.0 if segment.direction in ("left", "up", "out") else 1.0
        rng = np.random.default_rng(segment.seed)

        z0 = SCALE_ZOOM[segment.scale]
        z = np.full(len(frames), z0)
        dx = np.zeros(len(frames))  # in window widths
        dy = np.zeros(len(frames))  # in window heights
        motion = segment.motion
        if motion == "zoom":
            z = z0 * np.exp(sign * ZOOM_RATE * t)
        elif motion == "dolly":
            z = z0 * np.exp(sign * DOLLY_RATE * t)
            dy = 0.015 * t
        elif motion == "pan":
            dx = sign * PAN_RATE * t
        elif motion == "tilt":
            dy = sign * PAN_RATE * t
        elif motion == "tracking":
            # A faster pan with a slow push-in; no bob, since sub-pixel bobbing over fine texture flickers.
            dx = sign * TRACK_RATE * t
            z = z0 * np.exp(0.03 * t)
        elif motion == "handheld":
            secs = frames / plan.fps
            for axis in (dx, dy):
                for _ in range(3):
                    freq, phase = rng.uniform(0.6, 2.2), rng.uniform(0, 2 * np.pi)
                    axis += 0.003 * np.sin(2 * np.pi * freq * secs + phase)
            z = z0 * (1 + 0.004 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * secs))
        # Room to move: never zoom out past the stage, and leave the pan its travel.
        travel = max(np.ptp(dx), np.ptp(dy)) if len(frames) > 1 else 0.0
        z = z * max(1.0, (1.02 + 1.2 * travel) / max(float(z.min()), 1e-6))
        w = base_w / z
        h = base_h / z
        cx = poi_x * sw + dx * w
        cy = poi_y * sh + dy * h
        # Translate the whole path (not each frame) into the stage, so moves keep their speed near edges.
        for c, size, limit in ((cx, w, sw), (cy, h, sh)):
            low = float(np.max(size / 2 - c))
            high = float(np.min(limit - size / 2 - c))
            c += np.clip(0.0, low, high) if low <= high else (low + high) / 2
        self.cx, self.cy, self.w, self.h = cx, cy, w, h
        self.sw, self.sh = sw, sh
        self.jumps = [(e.frame, e.params) for e in plan.events if e.kind == "jump" and first <= e.frame < last]
        # One reformatter per camera keeps its swscale context (and filter tables) while the window size
        # holds still; a fresh VideoFrame.reformat() would rebuild them every frame, doubling the cost.
        self.scaler = VideoReformatter()

    def window(self, frame: int) -> tuple[int, int, int, int]:
        i = frame - self.first
        cx, cy, w, h = float(self.cx[i]), float(self.cy[i]), float(self.w[i]), float(self.h[i])
        for at, params in self.jumps:
            if frame >= at:
                # Jolt towards the side with room, so the clamp below cannot swallow it.
                cx += (1 if cx < self.sw / 2 else -1) * abs(params["dx"]) * w
                cy += (1 if cy < self.sh / 2 else -1) * abs(params["dy"]) * h
        wi, hi = max(2, int(round(w))), max(2, int(round(h)))
        x0 = int(round(min(max(cx - w / 2, 0), self.sw - wi)))
        y0 = int(round(min(max(cy - h / 2, 0), self.sh - hi)))
        return x0, y0, wi, hi

    def render(self, frame: int, width: int, height: int, pix_fmt: str = "rgb24") -> av.VideoFrame:
        x0, y0, w, h = self.window(frame)
        crop = self.stage[y0 : y0 + h, x0 : x0 + w]
        # swscale does the resampling in C: the one place a per-frame resize is cheap enough.
        source = av.VideoFrame.from_ndarray(crop, format="rgb24")
        return self.scaler.reformat(source, width, height, pix_fmt, interpolation="AREA")


@lru_cache(maxsize=8)
def _text_overlay(text: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """White text with a black outline in the lower third: (rgb, alpha, bbox) of the drawn region."""
    size = max(10, height // 8)
    font = ImageFont.load_default(size=size)
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    while right - left > width * 0.92 and size > 8:
        size -= 1
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    x = (width - (right - left)) // 2 - left
    y = int(height * 0.78) - (bottom - top) // 2 - top
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0, 255))
    rgba = np.asarray(canvas).astype(np.float32)
    ys, xs = np.nonzero(rgba[:, :, 3])
    box = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    region = rgba[box[0] : box[1], box[2] : box[3]]
    return region[:, :, :3], region[:, :, 3:] / 255.0, box


@lru_cache(maxsize=16)
def _disc(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased masks, (2r+1) square, of a disc and of its dark outline ring."""
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    distance = np.hypot(xx, yy)
    disc = np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)[:, :, None]
    ring_width = max(2.0, radius / 10)
    ring = np.clip(distance - (radius - ring_width) + 0.5, 0.0, 1.0).astype(np.float32)[:, :, None] * disc
    return disc, ring


def render_frames(plan: ClipPlan) -> Iterator[av.VideoFrame]:
    """The clip's frames, in order, as yuv420p VideoFrames ready for the encoder."""
    W, H = plan.width, plan.height
    cameras: dict[int, _Camera] = {}
    for i, segment in enumerate(plan.segments):
        first, last = segment.start_frame, segment.end_frame
        if i > 0:
            first = min(first, plan.boundaries[i - 1].start_frame)
        if i < len(plan.boundaries):
            last = max(last, plan.boundaries[i].end_frame)
        cameras[i] = _Camera(plan, segment, max(0, first), min(plan.frame_count, last))
    flashes = {e.frame: e for e in plan.events if e.kind == "flash"}
    pops = [e for e in plan.events if e.kind == "pop"]
    noise = _noise_bank(plan)
    noise_rng = np.random.default_rng([plan.seed, 2])
    to_yuv = VideoReformatter()

    for k in range(plan.frame_count):
        index = plan.segment_at(k)
        blends = []
        for b_index in (index - 1, index):
            if 0 <= b_index < len(plan.boundaries):
                boundary = plan.boundaries[b_index]
                if boundary.frames and boundary.start_frame <= k < boundary.end_frame:
                    blends.append((b_index, boundary))
        flash = next((e for f, e in flashes.items() if 0 <= k - f < len(FLASH_DECAY)), None)
        live_pops = [e for e in pops if 0 <= k - e.frame < e.params["hold_frames"] + e.params["fade_frames"]]
        texts = [t for t in plan.texts if t[0] <= k < t[1]]
        if not (blends or flash or live_pops or texts or plan.blur_sigma or noise is not None):
            # Plain frame: crop, resize and convert to yuv420p in a single swscale call.
            yield cameras[index].render(k, W, H, "yuv420p")
            continue
        frame = cameras[index].render(k, W, H).to_ndarray()
        # Gradual transitions: blend with the neighbouring shot over the boundary's frames.
        for b_index, boundary in blends:
            alpha = (k - boundary.start_frame + 1) / (boundary.frames + 1)  # share of the incoming shot
            if b_index == index - 1:
                incoming, outgoing = frame, cameras[index - 1].render(k, W, H).to_ndarray()
            else:
                outgoing, incoming = frame, cameras[index + 1].render(k, W, H).to_ndarray()
            frame = _blend(outgoing, incoming, alpha, boundary.transition)
        if flash or live_pops or texts or plan.blur_sigma:
            x = frame.astype(np.float32)
            if flash is not None:
                x += flash.params["strength"] * FLASH_DECAY[k - flash.frame]
            for event in live_pops:
                age = k - event.frame
                hold, fade = event.params["hold_frames"], event.params["fade_frames"]
                strength = 0.9 if age < hold else 0.9 * (1 - (age - hold + 1) / (fade + 1))
                _paint_disc(x, event.params, strength)
            for _, _, text in texts:
                rgb, alpha_mask, (y0, y1, x0, x1) = _text_overlay(text, W, H)
                x[y0:y1, x0:x1] = x[y0:y1, x0:x1] * (1 - alpha_mask) + rgb * alpha_mask
            if plan.blur_sigma:
                x = ndimage.gaussian_filter(x, (plan.blur_sigma, plan.blur_sigma, 0), truncate=3.0)
            frame = np.clip(x + 0.5, 0, 255).astype(np.uint8)
        if noise is not None:
            grain = noise[int(noise_rng.integers(len(noise)))]
            frame = np.clip(frame.astype(np.int16) + grain, 0, 255).astype(np.uint8)
        yield to_yuv.reformat(av.VideoFrame.from_ndarray(frame, format="rgb24"), format="yuv420p")


def _noise_bank(plan: ClipPlan) -> np.ndarray | None:
    """Gaussian noise fields (int16) for the clip; drawing per frame from a bank is ~5x cheaper."""
    if plan.noise_sigma <= 0:
        return None
    rng = np.random.default_rng([plan.seed, 1])
    shape = (NOISE_BANK, plan.height, plan.width, 3)
    return np.round(plan.noise_sigma * rng.standard_normal(shape, dtype=np.float32)).astype(np.int16)


def _blend(outgoing: np.ndarray, incoming: np.ndarray, alpha: float, transition: str) -> np.ndarray:
    a, b = outgoing.astype(np.float32), incoming.astype(np.float32)
    if transition == "fade":
        # Through black: the old shot fades out over the first half, the new one fades in over the second.
        mixed = a * max(0.0, 1 - 2 * alpha) if alpha < 0.5 else b * min(1.0, 2 * alpha - 1)
    elif transition == "wipe":
        edge = int(round(alpha * a.shape[1]))
        mixed = a.copy()
        mixed[:, :edge] = b[:, :edge]
    else:  # dissolve
        mixed = a * (1 - alpha) + b * alpha
    blended: np.ndarray = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return blended


def _paint_disc(x: np.ndarray, params: dict[str, Any], strength: float) -> None:
    H, W = x.shape[:2]
    r = int(round(params["radius"] * H))
    disc, ring = _disc(r)
    cy, cx = int(round(params["y"] * H)), int(round(params["x"] * W))
    y0, y1, x0, x1 = cy - r, cy + r + 1, cx - r, cx + r + 1
    my0, mx0 = max(0, -y0), max(0, -x0)
    y0, x0, y1, x1 = max(0, y0), max(0, x0), min(H, y1), min(W, x1)
    window = (slice(my0, my0 + (y1 - y0)), slice(mx0, mx0 + (x1 - x0)))
    m, edge = disc[window] * strength, ring[window]
    # Fill with the colour's bright or dark shade, whichever contrasts with what it covers, inside a ring
    # of the other extreme: the pop then always shows up in luminance, where motion energy is measured.
    covered = float(x[y0:y1, x0:x1].mean())
    colour = np.asarray(params["colour"], dtype=np.float32)
    fill, rim = (colour * 0.3, 245.0) if covered > 110 else (colour * 0.3 + 170, 10.0)
    colour = fill * (1 - edge) + rim * edge
    x[y0:y1, x0:x1] = x[y0:y1, x0:x1] * (1 - m) + colour * m


def write_clip(path: Path, frames: Iterator[av.VideoFrame], audio: np.ndarray, *, width: int, height: int, fps: int) -> None:
    """Mux H.264 (yuv420p, libx264) and AAC into an MP4 with PyAV; byte-reproducible for equal input."""
    container = av.open(
        str(path),
        mode="w",
        format="mp4",
        container_options={"movflags": "+faststart", "fflags": "+bitexact"},
    )
    try:
        # One encoder thread: the generator parallelises over clips, and a fixed thread count keeps
        # x264's output identical between serial and parallel runs. mbtree is off because with it the
        # bitstream depended on what earlier work had left on the heap (seen at 320x180: same
        # pictures, different bytes from run to run); without it the output is byte-reproducible.
        video = container.add_stream(
            "libx264",
            rate=fps,
            options={"preset": "veryfast", "crf": "23", "threads": "1", "x264-params": "no-mbtree=1"},
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        sound.bit_rate = 96_000
        for index, frame in enumerate(frames):
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        samples = np.asarray(audio, dtype=np.float32)
        for start in range(0, len(samples), AUDIO_FRAME):
            chunk = samples[start : start + AUDIO_FRAME]
            aframe = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            aframe.sample_rate, aframe.pts, aframe.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
            container.mux(sound.encode(aframe))
        container.mux(sound.encode(None))
    finally:
        container.close()
