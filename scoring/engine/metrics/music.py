"""Music consistency across shots: key (from chroma) and tempo agreement between adjacent shots.

MSAVBench separates the music (Demucs), embeds it (MuQ) and tracks beats; offline on a CPU this is
signal processing on the decoded audio: a 12-bin chroma per shot from the magnitude spectrum
(speech frames left out when the VAD found speech) and a tempo per shot from the autocorrelation of
its onset envelope. Pure numpy; no model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..decode import DecodedClip
from ..script import PromptScript
from ..segmentation import SegmentationResult
from ..speech import SpeechActivity, mono
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured

CHROMA_FRAME = 4096  # samples (170 ms at 24 kHz): enough resolution for semitones from ~110 Hz
CHROMA_HOP = 2048
CHROMA_FMIN, CHROMA_FMAX = 110.0, 2000.0
ONSET_HZ = 100
TEMPO_MIN_BPM, TEMPO_MAX_BPM = 60.0, 180.0
MIN_SHOT_S = 1.0  # shorter shots have too little music for a chroma
MIN_TEMPO_SHOT_S = 3.0  # a tempo needs a few beats
MIN_TEMPO_STRENGTH = 0.2  # autocorrelation peak (normalised) below this: no clear beat in the shot
# Chroma is compared through key: each shot's chroma correlated with the 24 Krumhansl-Kessler key
# profiles, and the two shots' 24-key correlation vectors correlated. Chord changes inside one key
# keep this high; a shift of key does not. Measured on the demo's songs (1.5-3 s shots): the same
# song reads 0.3-0.97 between adjacent shots, the same shots with one side a semitone or tritone
# away read -0.1 to -0.9. 0.4 and above is full marks, -0.3 is 0.
KEY_GOOD, KEY_BAD = 0.4, -0.3
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_KEY_PROFILES = np.array([np.roll(_MAJOR, k) for k in range(12)] + [np.roll(_MINOR, k) for k in range(12)])
# Tempo: octave-folded log2 ratio; 2% apart is the same tempo, 15% apart is a different piece.
TEMPO_GOOD, TEMPO_BAD = math.log2(1.02), math.log2(1.15)


@dataclass(frozen=True)
class ShotMusic:
    index: int
    start_s: float
    end_s: float
    chroma: np.ndarray | None  # (12,) unit-norm, None when the shot has no usable music
    tempo_bpm: float | None
    tempo_strength: float


def _shot_spans(decoded: DecodedClip, script: PromptScript | None, seg: SegmentationResult | None) -> list[tuple[float, float]]:
    if seg is not None and len(seg.shots) >= 2:
        return [(shot.start_s, shot.end_s) for shot in seg.shots]
    if script is not None and script.shots:
        scale = decoded.duration_s / script.duration_s if script.duration_s > 0 else 1.0
        return [(shot.start_s * scale, shot.end_s * scale) for shot in script.shots]
    return [(0.0, decoded.duration_s)]


def _pitch_class_matrix(rate: int) -> np.ndarray:
    freqs = np.fft.rfftfreq(CHROMA_FRAME, 1.0 / rate)
    keep = (freqs >= CHROMA_FMIN) & (freqs <= CHROMA_FMAX)
    classes = np.zeros((freqs.size, 12), dtype=np.float32)
    pitch = np.round(12.0 * np.log2(np.maximum(freqs[keep], 1.0) / 440.0)).astype(int) % 12
    classes[np.flatnonzero(keep), pitch] = 1.0
    return classes


def chroma_frames(audio: np.ndarray, rate: int) -> np.ndarray:
    """(frames, 12) chroma of every CHROMA_HOP step of the audio (frame k starts at sample k * CHROMA_HOP)."""
    count = 1 + (audio.shape[0] - CHROMA_FRAME) // CHROMA_HOP if audio.shape[0] >= CHROMA_FRAME else 0
    if count <= 0:
        return np.zeros((0, 12), dtype=np.float32)
    freqs = np.fft.rfftfreq(CHROMA_FRAME, 1.0 / rate)
    keep = np.flatnonzero((freqs >= CHROMA_FMIN) & (freqs <= CHROMA_FMAX))
    classes = _pitch_class_matrix(rate)[keep]
    window = np.hanning(CHROMA_FRAME).astype(np.float32)
    out = np.empty((count, 12), dtype=np.float32)
    for lo in range(0, count, 256):  # blocks bound the memory of long clips
        hi = min(count, lo + 256)
        idx = np.arange(CHROMA_FRAME)[None, :] + CHROMA_HOP * np.arange(lo, hi)[:, None]
        magnitude = np.abs(np.fft.rfft(audio[idx] * window, axis=1))[:, keep].astype(np.float32)
        out[lo:hi] = magnitude @ classes
    return out


def shot_chroma(frames: np.ndarray, speech_mask: np.ndarray | None = None) -> np.ndarray | None:
    """(12,) unit-norm mean chroma of a shot's chroma frames; frames flagged in speech_mask are skipped
    when at least half the frames remain."""
    if frames.shape[0] < 2:
        return None
    if speech_mask is not None and speech_mask.size == frames.shape[0] and (~speech_mask).sum() >= frames.shape[0] / 2:
        frames = frames[~speech_mask]
    chroma = frames.mean(axis=0).astype(np.float64)
    norm = float(np.linalg.norm(chroma))
    return chroma / norm if norm > 1e-9 else None


def shot_tempo(audio: np.ndarray, rate: int) -> tuple[float | None, float]:
    """(tempo in BPM, strength in [0, 1]) from the autocorrelation of the span's onset envelope."""
    hop = rate // ONSET_HZ
    frame = 2 * hop
    count = (audio.shape[0] - frame) // hop
    if count < int(MIN_TEMPO_SHOT_S * ONSET_HZ):
        return None, 0.0
    idx = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    magnitude = np.abs(np.fft.rfft(audio[idx] * np.hanning(frame).astype(np.float32), axis=1))
    flux = np.maximum(0.0, np.diff(np.log1p(10.0 * magnitude), axis=0)).sum(axis=1)
    flux = flux - flux.mean()
    acf = np.correlate(flux, flux, mode="full")[flux.size - 1 :]
    if acf[0] <= 1e-12:
        return None, 0.0
    acf = acf / acf[0]
    lo, hi = int(ONSET_HZ * 60.0 / TEMPO_MAX_BPM), int(ONSET_HZ * 60.0 / TEMPO_MIN_BPM)
    hi = min(hi, acf.size - 2)
    if hi <= lo:
        return None, 0.0
    lag = lo + int(np.argmax(acf[lo : hi + 1]))
    strength = float(acf[lag])
    # Parabolic refinement of the lag for a tempo finer than the 10 ms grid allows.
    a, b, c = acf[lag - 1], acf[lag], acf[lag + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if abs(denom) > 1e-12 else 0.0
    return 60.0 * ONSET_HZ / (lag + float(np.clip(shift, -0.5, 0.5))), strength


def key_vector(chroma: np.ndarray) -> np.ndarray:
    """(24,) Pearson correlation of a chroma with every major and minor key profile."""
    c = chroma - chroma.mean()
    p = _KEY_PROFILES - _KEY_PROFILES.mean(axis=1, keepdims=True)
    out: np.ndarray = (p @ c) / (np.linalg.norm(p, axis=1) * max(float(np.linalg.norm(c)), 1e-12))
    return out


def key_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two chromas' key vectors, in [-1, 1]."""
    ka, kb = key_vector(a), key_vector(b)
    ka, kb = ka - ka.mean(), kb - kb.mean()
    return float(np.dot(ka, kb) / max(float(np.linalg.norm(ka) * np.linalg.norm(kb)), 1e-12))


def tempo_distance(a_bpm: float, b_bpm: float) -> float:
    """|log2 ratio| folded over octaves: 120 vs 60 BPM is the same pulse counted differently."""
    d = abs(math.log2(a_bpm / b_bpm))
    return abs(d - round(d))


def music_consistency(
    decoded: DecodedClip, script: PromptScript | None, seg: SegmentationResult | None, activity: SpeechActivity | None
) -> MetricValue:
    name, tool = "audio_music_consistency", "dsp:chroma-key-profiles+onset-autocorrelation-tempo"
    version = tool_versions("numpy")
    if script is None:
        return not_measured(name, "no prompt script says whether music was asked for", tool, version)
    if not ({"music", "singing"} & set(script.audio_classes)):
        return not_measured(name, "the prompt asks for no music", tool, version)
    mixed = mono(decoded)
    rate = decoded.audio_rate
    all_chroma = chroma_frames(mixed, rate)  # once for the clip; each shot averages its own frames
    frame_start_s = decoded.audio_start_s + np.arange(all_chroma.shape[0]) * CHROMA_HOP / rate
    shots: list[ShotMusic] = []
    for index, (start, end) in enumerate(_shot_spans(decoded, script, seg)):
        if end - start < MIN_SHOT_S:
            continue
        a = max(0, int((start - decoded.audio_start_s) * rate))
        b = min(mixed.shape[0], int((end - decoded.audio_start_s) * rate))
        span = mixed[a:b]
        if span.shape[0] < CHROMA_FRAME * 2 or float(np.sqrt(np.mean(span**2))) < 1e-4:
            shots.append(ShotMusic(index, start, end, None, None, 0.0))
            continue
        inside = (frame_start_s >= start) & (frame_start_s + CHROMA_FRAME / rate <= end)
        mask = None
        if activity is not None and activity.segments:
            mask = activity.mask(frame_start_s[inside] + CHROMA_FRAME / (2 * rate))
        tempo, strength = shot_tempo(span, rate)
        if strength < MIN_TEMPO_STRENGTH:
            tempo = None
        shots.append(ShotMusic(index, start, end, shot_chroma(all_chroma[inside], mask), tempo, strength))
    usable = [s for s in shots if s.chroma is not None]
    if len(usable) < 2:
        return not_measured(name, "fewer than two shots with music long enough to compare", tool, version)
    pairs = []
    for left, right in zip(usable, usable[1:]):
        assert left.chroma is not None and right.chroma is not None
        agreement = key_agreement(left.chroma, right.chroma)
        terms = [linear_map(agreement, KEY_GOOD, KEY_BAD)]
        tempo_gap = None
        if left.tempo_bpm is not None and right.tempo_bpm is not None:
            tempo_gap = tempo_distance(left.tempo_bpm, right.tempo_bpm)
            terms.append(linear_map(tempo_gap, TEMPO_GOOD, TEMPO_BAD))
        pairs.append(
            {
                "shots": [left.index, right.index],
                "key_agreement": round(agreement, 4),
                "tempo_bpm": [
                    None if left.tempo_bpm is None else round(left.tempo_bpm, 1),
                    None if right.tempo_bpm is None else round(right.tempo_bpm, 1),
                ],
                "tempo_octave_log2_gap": None if tempo_gap is None else round(tempo_gap, 4),
                "value": float(np.mean(terms)),
            }
        )
    value = float(np.mean([p["value"] for p in pairs]))
    return measured(name, value, tool, version, {"pairs": pairs})
