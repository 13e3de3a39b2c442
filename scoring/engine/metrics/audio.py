"""Audio quality: BS.1770 loudness (pyloudnorm), clipping and true peak, silence where sound was asked, noise floor."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyloudnorm

from ..decode import DecodedClip
from ..script import PromptScript
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured, rounded, window_map

AUDIO_METRICS = ("audio_loudness", "audio_clipping", "audio_silence", "audio_noise_floor")

# Loudness: 1 between EBU R128 broadcast (-23 LUFS) and streaming (-14 LUFS) targets; 0 at 15 LU
# quieter (barely audible) or 9 LU louder (the loud side is squashed quickly by limiting).
LUFS_LOW, LUFS_HIGH, LUFS_LOW_ZERO, LUFS_HIGH_ZERO = -23.0, -14.0, -38.0, -5.0
# Clipping: score 1 / (1 + share / CLIP_HALF): 0.2% of samples at full scale halves it, 2% leaves 0.09.
CLIP_HALF = 0.002
# True peak above -1 dBTP (EBU R128 ceiling) costs up to half the score at +2 dBTP.
TRUE_PEAK_OK_DBTP, TRUE_PEAK_BAD_DBTP = -1.0, 2.0
# Silence: 50 ms frames below -60 dBFS RMS.
SILENCE_FRAME_S = 0.05
SILENCE_DBFS = -60.0
# Noise floor: 85 ms frames; the quietest 10% (digital silence excluded) are the floor.
NOISE_FRAME = 2048
NOISE_QUIET_PERCENTILE = 10.0
DIGITAL_SILENCE_DBFS = -90.0
FLATNESS_NOISE = 0.5  # spectral flatness of white noise periodograms is ~0.56; tonal content is near 0
NOISE_ABS_GOOD, NOISE_ABS_BAD = -65.0, -35.0  # dBFS of the noise-like floor
SNR_GOOD, SNR_BAD = 40.0, 10.0  # dB between the active level (98th percentile frame) and the floor


def _db(power_or_amplitude: float, power: bool = False) -> float:
    if power_or_amplitude <= 0:
        return -math.inf
    return (10.0 if power else 20.0) * math.log10(power_or_amplitude)


def _frame_rms_db(mono: np.ndarray, frame: int) -> np.ndarray:
    count = mono.shape[0] // frame
    if count == 0:
        return np.zeros(0)
    frames = mono[: count * frame].reshape(count, frame).astype(np.float64)
    power = np.mean(frames**2, axis=1)
    with np.errstate(divide="ignore"):
        db: np.ndarray = 10.0 * np.log10(power)
    return db


def loudness(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_loudness", "pyloudnorm:bs1770-integrated"
    version = tool_versions("pyloudnorm", "av")
    audio = decoded.audio
    assert audio is not None
    if audio.shape[0] < int(0.4 * decoded.audio_rate):
        return measured(name, 0.0, tool, version, {"lufs": None}, "audio shorter than one 400 ms gating block")
    meter = pyloudnorm.Meter(decoded.audio_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on clipped input; clipping is scored on its own
        lufs = float(meter.integrated_loudness(audio.astype(np.float64)))
    if not math.isfinite(lufs):
        return measured(name, 0.0, tool, version, {"lufs": None}, "the audio is silent (below the absolute gate)")
    score = window_map(lufs, LUFS_LOW, LUFS_HIGH, LUFS_LOW_ZERO, LUFS_HIGH_ZERO)
    return measured(name, score, tool, version, {"lufs": round(lufs, 2), "target": [LUFS_LOW, LUFS_HIGH]})


def clipping(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_clipping", "pyav+numpy:near-full-scale+true-peak"
    version = tool_versions("av", "numpy", "scipy")
    peaks = decoded.audio_peaks
    assert peaks is not None
    share = peaks.near_full_scale_share
    true_peak_dbtp = _db(peaks.true_peak)
    tp_term = 1.0 - 0.5 * (1.0 - linear_map(true_peak_dbtp, TRUE_PEAK_OK_DBTP, TRUE_PEAK_BAD_DBTP))
    score = tp_term / (1.0 + share / CLIP_HALF)
    raw = {
        "near_full_scale_share": rounded(share, 6),
        "sample_peak_dbfs": rounded(_db(peaks.sample_peak), 2),
        "true_peak_dbtp": rounded(true_peak_dbtp, 2),
        "source_rate": peaks.sample_rate,
        "source_channels": peaks.channels,
    }
    return measured(name, score, tool, version, raw)


def _sound_asked(script: PromptScript | None) -> tuple[bool | None, str]:
    if script is None:
        return None, "no prompt script says whether sound was asked for"
    asked = [c for c in script.audio_classes if c != "silence"]
    if not asked:
        return False, "the prompt asks for no sound"
    return True, ""


def silence(decoded: DecodedClip, script: PromptScript | None) -> MetricValue:
    name, tool = "audio_silence", "numpy:rms-gate"
    version = tool_versions("av", "numpy")
    asked, reason = _sound_asked(script)
    if not asked:
        return not_measured(name, reason, tool, version)
    assert script is not None
    frame = max(1, int(SILENCE_FRAME_S * decoded.audio_rate))
    levels = _frame_rms_db(decoded.audio_mono, frame)
    silent_frames = int(np.count_nonzero(levels < SILENCE_DBFS))
    # Audio that stops before the picture (or starts late) is silence too.
    covered = levels.size * SILENCE_FRAME_S
    missing = max(0.0, decoded.duration_s - covered)
    share = min(1.0, (silent_frames * SILENCE_FRAME_S + missing) / max(decoded.duration_s, 1e-9))
    raw = {
        "silent_share": round(share, 4),
        "threshold_dbfs": SILENCE_DBFS,
        "asked_for": [c for c in script.audio_classes if c != "silence"],
    }
    return measured(name, 1.0 - share, tool, version, raw)


def noise_floor(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_noise_floor", "numpy:quiet-frame-level+flatness"
    version = tool_versions("av", "numpy")
    mono = decoded.audio_mono.astype(np.float64)
    count = mono.shape[0] // NOISE_FRAME
    if count < 4:
        return not_measured(name, "audio too short to find its quiet passages", tool, version)
    frames = mono[: count * NOISE_FRAME].reshape(count, NOISE_FRAME)
    levels = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-20))
    audible = levels > DIGITAL_SILENCE_DBFS
    if not audible.any():
        return measured(name, 1.0, tool, version, {"floor_dbfs": None}, "digital silence has no noise")
    active_db = float(np.percentile(levels[audible], 98))
    quiet_cut = np.percentile(levels[audible], NOISE_QUIET_PERCENTILE)
    quiet = audible & (levels <= quiet_cut)
    floor_db = float(np.median(levels[quiet]))
    # Spectral flatness of the quiet frames between ~100 Hz and 10 kHz: is the floor noise or a quiet sound?
    spectrum = np.abs(np.fft.rfft(frames[quiet] * np.hanning(NOISE_FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(NOISE_FRAME, 1.0 / decoded.audio_rate)
    band = spectrum[:, (freqs >= 100.0) & (freqs <= min(10_000.0, decoded.audio_rate / 2 - 1))] + 1e-20
    flatness = float(np.median(np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1)))
    # A tonal quiet passage (music, room tone with hum) counts as less noise than broadband hiss.
    noise_db = floor_db + 10.0 * math.log10(max(1e-6, min(1.0, flatness / FLATNESS_NOISE)))
    snr_db = active_db - noise_db
    score = max(linear_map(noise_db, NOISE_ABS_GOOD, NOISE_ABS_BAD), linear_map(snr_db, SNR_GOOD, SNR_BAD))
    raw = {
        "floor_dbfs": round(floor_db, 2),
        "flatness": round(flatness, 3),
        "noise_dbfs": round(noise_db, 2),
        "active_dbfs": round(active_db, 2),
        "snr_db": round(snr_db, 2),
    }
    return measured(name, score, tool, version, raw)


def no_audio_metrics() -> dict[str, MetricValue]:
    """A clip without an audio stream: every audio metric is 0 (the suite format's rule) and flagged."""
    version = tool_versions("av")
    return {
        name: measured(name, 0.0, "pyav:stream-check", version, {"no_audio": True}, "the clip has no audio stream")
        for name in AUDIO_METRICS
    }


def audio_metrics(decoded: DecodedClip, script: PromptScript | None) -> dict[str, MetricValue]:
    if not decoded.has_audio:
        return no_audio_metrics()
    return {
        "audio_loudness": loudness(decoded),
        "audio_clipping": clipping(decoded),
        "audio_silence": silence(decoded, script),
        "audio_noise_floor": noise_floor(decoded),
    }
