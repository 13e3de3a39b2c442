"""Measurements on decoded demo clips, independent of the generator's code: frame differences and onsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
from scipy import ndimage

ONSET_HOP_S = 0.005


def decode_grey(path: Path) -> np.ndarray:
    """All video frames as float32 luminance, shape (frames, height, width)."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="gray").astype(np.float32) for f in container.decode(video=0)])


def decode_rgb(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24").astype(np.float32) for f in container.decode(video=0)])


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples and the sample rate."""
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].codec_context.sample_rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    return samples, rate


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each frame to the previous one (0 for the first frame)."""
    return np.concatenate([[0.0], np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))])


def audio_onset_envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """Rise of the 20 ms RMS envelope over 10 ms, every 5 ms (20 ms smooths out single pitch pulses)."""
    hop = int(ONSET_HOP_S * rate)
    power = np.maximum(ndimage.uniform_filter1d(samples.astype(np.float64) ** 2, int(0.02 * rate)), 0.0)
    rms = np.sqrt(power[::hop])
    return np.maximum(rms - np.concatenate([[rms[0]] * 2, rms[:-2]]), 0.0)


def visual_onset_envelope(differences: np.ndarray, fps: int, length: int, masked: list[tuple[int, int]]) -> np.ndarray:
    """Frame-difference peaks above their local median, on the audio envelope's time grid; cuts masked."""
    d = differences.copy()
    for start, stop in masked:
        d[max(0, start) : stop] = 0.0
    d = np.maximum(d - ndimage.median_filter(d, 9), 0.0)
    out = np.zeros(length)
    for frame, value in enumerate(d):
        index = int(round(frame / fps / ONSET_HOP_S))
        if index < length:
            out[index] += value
    return out


def audio_lag_ms(path: Path, truth: dict[str, Any], fps: int, max_lag_s: float = 1.0) -> float:
    """How late the audio's onsets come after the picture's (cross-correlation of onset envelopes)."""
    samples, rate = decode_audio(path)
    audio = audio_onset_envelope(samples, rate)
    masked = [(b["start_frame"] - 1, b["end_frame"] + 2) for b in truth["boundaries"]]
    visual = visual_onset_envelope(frame_differences(decode_grey(path)), fps, len(audio), masked)
    audio, visual = ndimage.gaussian_filter1d(audio, 3), ndimage.gaussian_filter1d(visual, 3)
    lags = np.arange(-int(max_lag_s / ONSET_HOP_S), int(max_lag_s / ONSET_HOP_S) + 1)
    scores = [
        float(np.dot(visual[max(0, -lag) : len(visual) - max(0, lag)], audio[max(0, lag) : len(audio) - max(0, -lag)]))
        for lag in lags
    ]
    return float(lags[int(np.argmax(scores))] * ONSET_HOP_S * 1000)
