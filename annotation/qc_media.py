"""The platform's own degraded copies of clips for quality control, made with PyAV (no Django).

A gold copy keeps the clip recognisable but clearly worse: heavy blur (downscale by 8 and back) plus
grain on every frame, the sound track delayed by 400 ms and hissed. An attention copy is blatant: a
black picture and silence. In both the original should win on the dimensions the damage touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

DegradeKind = Literal["gold", "attention"]
GOLD_AUDIO_OFFSET_S = 0.4
GOLD_BLUR_FACTOR = 8
GOLD_NOISE_SIGMA = 18.0  # grain, in 8-bit levels
GOLD_AUDIO_NOISE = 0.02  # hiss amplitude, full scale = 1


@dataclass(frozen=True)
class DegradeResult:
    frames: int
    has_audio: bool
    # Which side should win per dimension: "x" is always the original clip.
    expected: dict[str, str]


def expected_winners(kind: DegradeKind, *, has_audio: bool) -> dict[str, str]:
    dims = ["overall", "video"]
    if has_audio:
        dims += ["audio", "sync"] if kind == "gold" else ["audio"]
    return {dimension: "x" for dimension in dims}


def degrade_clip(source: Path, target: Path, *, kind: DegradeKind, seed: int = 0) -> DegradeResult:
    """Write the degraded copy of `source` to `target` (H.264 + AAC in MP4)."""
    rng = np.random.default_rng(seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as probe:
        has_audio = bool(probe.streams.audio)
        vin = probe.streams.video[0]
        rate = vin.average_rate or Fraction(25)
        width, height = vin.codec_context.width, vin.codec_context.height
        sample_rate = probe.streams.audio[0].codec_context.sample_rate if has_audio else 48000
    width, height = width - width % 2, height - height % 2
    frames = 0
    with av.open(str(target), "w", format="mp4") as out:
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"preset": "veryfast", "crf": "26"}
        aout = out.add_stream("aac", rate=sample_rate) if has_audio else None
        if aout is not None:
            aout.layout = "stereo"
        with av.open(str(source)) as inp:
            for frame in inp.decode(video=0):
                if kind == "gold":
                    small = frame.reformat(width=max(2, width // GOLD_BLUR_FACTOR), height=max(2, height // GOLD_BLUR_FACTOR))
                    blurred = small.reformat(width=width, height=height, format="rgb24").to_ndarray().astype(np.float32)
                    grain = rng.normal(0.0, GOLD_NOISE_SIGMA, blurred.shape[:2])[:, :, None]
                    pixels = np.clip(blurred + grain, 0, 255).astype(np.uint8)
                else:
                    pixels = np.zeros((height, width, 3), dtype=np.uint8)
                new = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                new.pts = frames
                new.time_base = Fraction(1) / Fraction(rate)
                for packet in vout.encode(new):
                    out.mux(packet)
                frames += 1
            for packet in vout.encode():
                out.mux(packet)
        if aout is not None:
            samples = _audio_samples(source, sample_rate)
            if kind == "gold":
                offset = int(round(GOLD_AUDIO_OFFSET_S * sample_rate))
                samples = np.concatenate([np.zeros((2, offset), np.float32), samples], axis=1)[:, : samples.shape[1]]
                samples = samples + rng.normal(0.0, GOLD_AUDIO_NOISE, samples.shape).astype(np.float32)
            else:
                samples = np.zeros_like(samples)
            _audio_encode(out, aout, np.clip(samples, -1.0, 1.0).astype(np.float32), sample_rate)
    return DegradeResult(frames=frames, has_audio=has_audio, expected=expected_winners(kind, has_audio=has_audio))


def _audio_samples(source: Path, sample_rate: int) -> np.ndarray:
    """The whole sound track as float32 stereo, shape (2, samples)."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
    chunks = []
    with av.open(str(source)) as inp:
        for frame in inp.decode(audio=0):
            for converted in resampler.resample(frame):
                chunks.append(converted.to_ndarray())
        for converted in resampler.resample(None):
            chunks.append(converted.to_ndarray())
    if not chunks:
        return np.zeros((2, 0), np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32)


def _audio_encode(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, samples: np.ndarray, sample_rate: int) -> None:
    frame_size = 1024
    for start in range(0, samples.shape[1], frame_size):
        chunk = np.ascontiguousarray(samples[:, start : start + frame_size])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
