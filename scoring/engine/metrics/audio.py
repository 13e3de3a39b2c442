"""The audio dimension: BS.1770 loudness (pyloudnorm), clipping and true peak, drop-outs where sound was
asked, noise floor, bandwidth, DNSMOS on speech, speech presence (Silero VAD), and (from music.py,
voice.py, asr.py) music and speaker-timbre consistency across shots and WER.

Everything reads the audio decoded once (`decoded.audio`, resampled to 16 kHz once for the speech
models); nothing here decodes the file again."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

from ..config import DEFAULT_CONFIG, EngineConfig
from ..decode import DecodedClip
from ..script import PromptScript
from ..segmentation import SegmentationResult
from ..speech import SPEECH_RATE, SpeechActivity, mono, speech_activity, speech_audio
from ..versions import tool_versions
from .base import MetricValue, failed, linear_map, measured, not_measured, rounded, window_map

AUDIO_METRICS = (
    "audio_loudness",
    "audio_clipping",
    "audio_silence",
    "audio_noise_floor",
    "audio_bandwidth",
    "audio_speech_quality",
    "audio_speech_presence",
    "audio_music_consistency",
    "audio_timbre_consistency",
    "audio_wer",
)
SHOT_AUDIO_METRICS = ("audio_music_consistency", "audio_timbre_consistency")  # these compare the shots
CLIP_AUDIO_METRICS = tuple(name for name in AUDIO_METRICS if name not in SHOT_AUDIO_METRICS)

# Loudness: 1 between EBU R128 broadcast (-23 LUFS) and streaming (-14 LUFS) targets; 0 at 15 LU
# quieter (barely audible) or 9 LU louder (the loud side is squashed quickly by limiting).
LUFS_LOW, LUFS_HIGH, LUFS_LOW_ZERO, LUFS_HIGH_ZERO = -23.0, -14.0, -38.0, -5.0
# Clipping: score 1 / (1 + share / CLIP_HALF): 0.1% of samples at full scale halves it, 1% leaves 0.09
# (the demo's overdriven dub, gain 3, clips 0.2-1.3% of its samples and is plainly distorted).
CLIP_HALF = 0.001
# True peak above -1 dBTP (EBU R128 ceiling) costs up to half the score at +2 dBTP.
TRUE_PEAK_OK_DBTP, TRUE_PEAK_BAD_DBTP = -1.0, 2.0
# Silence: 50 ms frames below -60 dBFS RMS; runs of >= 1.2 s where sound was asked are drop-outs
# (the demo's natural pauses between lines are 0.7-1.0 s); drop-outs over 30% of the asked time score 0.
SILENCE_FRAME_S = 0.05
SILENCE_DBFS = -60.0
MIN_DROPOUT_S = 1.2
DROPOUT_ZERO_SHARE = 0.3
# Noise floor: 85 ms frames; the quietest 10% (digital silence excluded) are the floor.
NOISE_FRAME = 2048
NOISE_QUIET_PERCENTILE = 10.0
DIGITAL_SILENCE_DBFS = -90.0
FLATNESS_NOISE = 0.5  # spectral flatness of white noise periodograms is ~0.56; tonal content is near 0
NOISE_ABS_GOOD, NOISE_ABS_BAD = -65.0, -35.0  # dBFS of the noise-like floor
SNR_GOOD, SNR_BAD = 40.0, 10.0  # dB between the active level (98th percentile frame) and the floor
# Bandwidth: the spectrum edge (within 60 dB of the peak over >= 500 Hz) at >= 10 kHz is full band,
# 3 kHz (below telephone quality) scores 0; log-frequency in between.
BANDWIDTH_RANGE_DB = 60.0
BANDWIDTH_RUN_HZ = 500.0
BANDWIDTH_GOOD_HZ, BANDWIDTH_BAD_HZ = 10_000.0, 3_000.0
BANDWIDTH_MAX_FRAMES = 400
BS1770_BLOCK_S = 0.4
BS1770_ABSOLUTE_GATE_LUFS = -70.0
LOUDNESS_SAMPLES_PER_PASS = 1 << 18  # ~11 s at 24 kHz
AUDIO_FRAMES_PER_PASS = 512  # rows of NOISE_FRAME samples per block (~44 s at 24 kHz): memory bounded in clip length
# Speech presence: a dialogue shot needs 1 s of speech (or a fifth of the shot); speech over a
# tenth of a clip that asks for no voice at all scores 0.
MIN_SHOT_SPEECH_S = 1.0
UNASKED_SPEECH_ZERO_SHARE = 0.1
# DNSMOS: OVRL 3.3 (clean studio speech reads about 3.3-3.6) is full marks, 1.5 is 0.
DNSMOS_GOOD, DNSMOS_BAD = 3.3, 1.5
DNSMOS_INPUT_S = 9.01
DNSMOS_MAX_WINDOWS = 3  # ~0.3 s of CPU each: the first, middle and last 9 s of the speech
MIN_DNSMOS_SPEECH_S = 1.0


def _db(power_or_amplitude: float, power: bool = False) -> float:
    if power_or_amplitude <= 0:
        return -math.inf
    return (10.0 if power else 20.0) * math.log10(power_or_amplitude)


def _frame_rms_db(mono: np.ndarray, frame: int) -> np.ndarray:
    """Mean-square level (dBFS) of every whole `frame` samples of `mono`, floored at -200 dB."""
    count = mono.shape[0] // frame
    return _frame_levels_db(mono[: count * frame].reshape(count, frame))  # a view: no copy of the sound


def loudness(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_loudness", "pyloudnorm:bs1770-integrated (its K-weighting, block powers streamed)"
    version = tool_versions("pyloudnorm", "av")
    audio = decoded.audio
    assert audio is not None
    if audio.shape[0] < int(BS1770_BLOCK_S * decoded.audio_rate):
        return measured(name, 0.0, tool, version, {"lufs": None}, "audio shorter than one 400 ms gating block")
    lufs = integrated_loudness(audio, decoded.audio_rate)
    if not math.isfinite(lufs):
        return measured(name, 0.0, tool, version, {"lufs": None}, "the audio is silent (below the absolute gate)")
    score = window_map(lufs, LUFS_LOW, LUFS_HIGH, LUFS_LOW_ZERO, LUFS_HIGH_ZERO)
    return measured(name, score, tool, version, {"lufs": round(lufs, 2), "target": [LUFS_LOW, LUFS_HIGH]})


def integrated_loudness(audio: np.ndarray, rate: int) -> float:
    """`pyloudnorm.Meter(rate).integrated_loudness(audio)` (ITU-R BS.1770-4: K-weighting, 400 ms blocks with
    75% overlap, absolute and relative gates), with the sound filtered and squared LOUDNESS_SAMPLES_PER_PASS
    samples at a time: pyloudnorm holds float64 copies of the whole sound (~170 MiB for 3 minutes of stereo
    at 24 kHz). The filters are pyloudnorm's own; the block bounds and the gating are computed as it does."""
    samples, channels = audio.shape[0], audio.shape[1] if audio.ndim == 2 else 1
    frames = audio.reshape(samples, channels)
    meter = pyloudnorm.Meter(rate)
    stages = [(f.b, f.a, f.passband_gain) for f in (
        pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),  # Meter's "K-weighting" stages
        pyloudnorm.IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )]
    block_s, step = meter.block_size, 1.0 - meter.overlap
    blocks = int(np.round((samples / rate - block_s) / (block_s * step))) + 1
    j = np.arange(blocks)
    # pyloudnorm's bounds, float rounding and all; the last block may run past the end, as its slice does.
    lower = np.minimum([int(block_s * (k * step) * rate) for k in j], samples)
    upper = np.minimum([int(block_s * (k * step + 1) * rate) for k in j], samples)
    bounds = np.unique(np.concatenate([lower, upper]))
    energy = np.zeros((channels, bounds.size))  # sum of squares of the filtered sound before each bound
    states = [[np.zeros(max(len(a), len(b)) - 1) for b, a, _ in stages] for _ in range(channels)]
    carried = np.zeros(channels)
    for first in range(0, samples, LOUDNESS_SAMPLES_PER_PASS):
        stop = min(samples, first + LOUDNESS_SAMPLES_PER_PASS)
        inside = (bounds > first) & (bounds <= stop)
        for ch in range(channels):
            x = frames[first:stop, ch].astype(np.float64)
            for k, (b, a, gain) in enumerate(stages):
                x, states[ch][k] = signal.lfilter(b, a, x, zi=states[ch][k])
                x = gain * x
            running = carried[ch] + np.cumsum(np.square(x))
            energy[ch, inside] = running[bounds[inside] - first - 1]
            carried[ch] = running[-1]
    at = {int(bound): k for k, bound in enumerate(bounds)}
    z = (energy[:, [at[int(u)] for u in upper]] - energy[:, [at[int(v)] for v in lower]]) / (block_s * rate)
    gains = np.array([1.0, 1.0, 1.0, 1.41, 1.41][:channels])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no block above a gate (silence): the mean of none, -inf
        block_lufs = -0.691 + 10.0 * np.log10((gains * z).sum(axis=0))
        gated = block_lufs >= BS1770_ABSOLUTE_GATE_LUFS
        relative = -0.691 + 10.0 * np.log10((gains[:, 0] * z[:, gated].mean(axis=1)).sum()) - 10.0
        kept = (block_lufs > relative) & (block_lufs > BS1770_ABSOLUTE_GATE_LUFS)
        mean_power = np.nan_to_num(z[:, kept].mean(axis=1))
        return float(-0.691 + 10.0 * np.log10((gains[:, 0] * mean_power).sum()))


def clipping(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_clipping", "dsp:near-full-scale+true-peak"
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


def _sound_spans(script: PromptScript, clip_duration_s: float) -> list[tuple[float, float]]:
    """Clip-time spans of the scripted shots that ask for sound: a shot with dialogue, or a sound that is
    not "silence", or (without shot audio) any prompt audio class but silence. Script times are scaled
    to the clip's length, as the shot alignment does."""
    prompt_asks = any(c != "silence" for c in script.audio_classes)
    scale = clip_duration_s / script.duration_s if script.duration_s > 0 and clip_duration_s > 0 else 1.0
    spans = []
    for shot in script.shots:
        if shot.audio is None:
            asks = prompt_asks
        else:
            quiet = shot.audio.sound.strip().lower().startswith("silence")
            asks = bool(shot.audio.dialogue) or (bool(shot.audio.sound) and not quiet) or (
                not shot.audio.sound and prompt_asks
            )
        if asks:
            spans.append((shot.start_s * scale, shot.end_s * scale))
    return spans


def silence(decoded: DecodedClip, script: PromptScript | None) -> MetricValue:
    """Drop-outs where sound was asked for: silent runs of at least MIN_DROPOUT_S inside the asked spans.

    Pauses between lines or hits (well under a second) are how sound is, not a defect; a run of
    1.2 s or more of near-digital silence where the script asks for sound is a drop-out. Score:
    1 - dropout seconds / (DROPOUT_ZERO_SHARE x asked seconds).
    """
    name, tool = "audio_silence", "dsp:rms-gate-dropouts"
    version = tool_versions("av", "numpy", "scipy")
    if script is None:
        return not_measured(name, "no prompt script says whether sound was asked for", tool, version)
    spans = _sound_spans(script, decoded.duration_s)
    if not spans:
        return not_measured(name, "the prompt asks for no sound", tool, version)
    frame = max(1, int(SILENCE_FRAME_S * decoded.audio_rate))
    levels = _frame_rms_db(mono(decoded), frame)
    # Silence on the clip timeline at SILENCE_FRAME_S resolution; audio that starts late or stops
    # early leaves the rest of the picture silent too.
    grid = np.arange(0.0, decoded.duration_s, SILENCE_FRAME_S)
    index = np.floor((grid - decoded.audio_start_s) / SILENCE_FRAME_S).astype(np.int64)
    inside = (index >= 0) & (index < levels.size)
    silent = np.ones(grid.size, dtype=bool)
    silent[inside] = levels[index[inside]] < SILENCE_DBFS
    asked = np.zeros(grid.size, dtype=bool)
    for start, end in spans:
        asked |= (grid >= start) & (grid < end)
    labels, count = ndimage.label(silent & asked)
    runs = ndimage.sum_labels(np.ones(grid.size), labels, index=np.arange(1, count + 1)) * SILENCE_FRAME_S
    dropouts = [float(r) for r in np.atleast_1d(runs) if r >= MIN_DROPOUT_S]
    asked_s = float(asked.sum() * SILENCE_FRAME_S)
    dropout_s = float(sum(dropouts))
    score = 1.0 - dropout_s / max(DROPOUT_ZERO_SHARE * asked_s, 1e-9)
    raw = {
        "dropout_s": round(dropout_s, 3),
        "dropouts": len(dropouts),
        "asked_s": round(asked_s, 3),
        "silent_share": round(float((silent & asked).sum()) / max(int(asked.sum()), 1), 4),
        "threshold_dbfs": SILENCE_DBFS,
        "min_dropout_s": MIN_DROPOUT_S,
        "asked_for": [c for c in script.audio_classes if c != "silence"],
    }
    return measured(name, score, tool, version, raw)


def _frame_levels_db(frames: np.ndarray) -> np.ndarray:
    """Mean-square level (dBFS) of every row of `frames` (float32 samples), computed in float64 a block of
    rows at a time: no float64 copy of the whole sound."""
    levels = np.empty(frames.shape[0])
    for first in range(0, frames.shape[0], AUDIO_FRAMES_PER_PASS):
        block = frames[first : first + AUDIO_FRAMES_PER_PASS].astype(np.float64)
        levels[first : first + block.shape[0]] = 10.0 * np.log10(np.maximum(np.mean(block**2, axis=1), 1e-20))
    return levels


def noise_floor(decoded: DecodedClip) -> MetricValue:
    name, tool = "audio_noise_floor", "dsp:quiet-frame-level+flatness"
    version = tool_versions("av", "numpy")
    samples = mono(decoded)
    count = samples.shape[0] // NOISE_FRAME
    if count < 4:
        return not_measured(name, "audio too short to find its quiet passages", tool, version)
    frames = samples[: count * NOISE_FRAME].reshape(count, NOISE_FRAME)  # a view, float32
    levels = _frame_levels_db(frames)
    audible = levels > DIGITAL_SILENCE_DBFS
    if not audible.any():
        return measured(name, 1.0, tool, version, {"floor_dbfs": None}, "digital silence has no noise")
    active_db = float(np.percentile(levels[audible], 98))
    quiet_cut = np.percentile(levels[audible], NOISE_QUIET_PERCENTILE)
    quiet = audible & (levels <= quiet_cut)
    floor_db = float(np.median(levels[quiet]))
    # Spectral flatness of the quiet frames between ~100 Hz and 10 kHz: is the floor noise or a quiet sound?
    freqs = np.fft.rfftfreq(NOISE_FRAME, 1.0 / decoded.audio_rate)
    in_band = (freqs >= 100.0) & (freqs <= min(10_000.0, decoded.audio_rate / 2 - 1))
    quiet_frames = np.flatnonzero(quiet)
    per_frame = []
    for first in range(0, quiet_frames.size, AUDIO_FRAMES_PER_PASS):  # the spectra of a block, not of the clip
        chosen = frames[quiet_frames[first : first + AUDIO_FRAMES_PER_PASS]].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(chosen * np.hanning(NOISE_FRAME), axis=1)) ** 2
        band = spectrum[:, in_band] + 1e-20
        per_frame.append(np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1))
    flatness = float(np.median(np.concatenate(per_frame)))
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


def bandwidth(decoded: DecodedClip) -> MetricValue:
    """Effective bandwidth: the highest frequency whose long-term level (loud frames only) stays within
    BANDWIDTH_RANGE_DB of the spectrum's peak over a BANDWIDTH_RUN_HZ wide run. Band-limited sound
    (telephone, low-bitrate codecs, upsampled 8-16 kHz generators) has a brick-wall edge far below it."""
    name, tool = "audio_bandwidth", "dsp:long-term-spectrum-edge"
    version = tool_versions("av", "numpy")
    samples = mono(decoded)
    count = samples.shape[0] // NOISE_FRAME
    if count < 4:
        return not_measured(name, "audio too short for a long-term spectrum", tool, version)
    frames = samples[: count * NOISE_FRAME].reshape(count, NOISE_FRAME)  # a view, float32
    levels = _frame_levels_db(frames)
    audible = levels > DIGITAL_SILENCE_DBFS
    if not audible.any():
        return not_measured(name, "the audio is digital silence", tool, version)
    loud = np.flatnonzero(audible & (levels >= np.percentile(levels[audible], 50)))
    # A long-term spectrum needs a few hundred frames, not all of a long clip's: evenly spaced ones.
    loud = loud[np.linspace(0, loud.size - 1, min(loud.size, BANDWIDTH_MAX_FRAMES)).astype(int)]
    chosen = frames[loud].astype(np.float64)  # at most BANDWIDTH_MAX_FRAMES
    spectrum = np.mean(np.abs(np.fft.rfft(chosen * np.hanning(NOISE_FRAME), axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(NOISE_FRAME, 1.0 / decoded.audio_rate)
    # Third-of-an-octave-ish smoothing so single harmonics do not decide the edge.
    smooth = np.maximum(ndimage.uniform_filter1d(spectrum, 9, mode="nearest"), 0.0)  # no rounding below 0
    smooth_db = 10.0 * np.log10(smooth + 1e-20)
    peak_db = float(smooth_db[freqs >= 50.0].max())
    above = smooth_db >= peak_db - BANDWIDTH_RANGE_DB
    run = max(1, int(round(BANDWIDTH_RUN_HZ / (freqs[1] - freqs[0]))))
    sustained = ndimage.binary_opening(above, structure=np.ones(run))
    edge_hz = float(freqs[np.flatnonzero(sustained)[-1]]) if sustained.any() else 0.0
    nyquist = decoded.audio_rate / 2.0
    good_hz = min(BANDWIDTH_GOOD_HZ, 0.9 * nyquist)  # the analysis rate caps what can be seen
    score = linear_map(math.log2(max(edge_hz, 1.0)), math.log2(good_hz), math.log2(BANDWIDTH_BAD_HZ))
    raw = {"edge_hz": round(edge_hz, 1), "range_db": BANDWIDTH_RANGE_DB, "full_band_hz": round(good_hz, 1)}
    return measured(name, score, tool, version, raw)


def speech_presence(decoded: DecodedClip, script: PromptScript | None, activity: SpeechActivity) -> MetricValue:
    """Speech where the script has dialogue (each such shot needs MIN_SHOT_SPEECH_S or a fifth of
    itself), none where the prompt asks for no speech at all. Sung lines count as asked only when the
    prompt also asks for speech: a VAD is not a singing detector."""
    name, tool, version = "audio_speech_presence", activity.tool, activity.version
    if script is None:
        return not_measured(name, "no prompt script says where speech is asked for", tool, version)
    scale = decoded.duration_s / script.duration_s if script.duration_s > 0 else 1.0
    rows: list[dict[str, Any]] = []
    if "speech" in script.audio_classes:
        for shot in script.shots:
            if shot.audio is None or not shot.audio.dialogue:
                continue
            start, end = shot.start_s * scale, shot.end_s * scale
            found = activity.speech_s(start, end)
            needed = min(MIN_SHOT_SPEECH_S, 0.2 * (end - start))
            rows.append({"shot": shot.index, "speech_s": round(found, 3), "value": min(1.0, found / max(needed, 1e-9))})
    elif not ({"speech", "singing"} & set(script.audio_classes)):
        # No voice asked anywhere: speech that shows up anyway (a stray narrator) costs.
        found = activity.total_s
        value = 1.0 - min(1.0, found / max(UNASKED_SPEECH_ZERO_SHARE * decoded.duration_s, 1e-9))
        rows.append({"shot": None, "speech_s": round(found, 3), "value": value, "unasked": True})
    if activity.path != "expert":
        # The energy VAD also fires on music and ambience: only missing speech is judged on this path.
        rows = [r for r in rows if not r.get("unasked")]
    if not rows:
        reason = "the prompt's voices are sung: speech presence is not judged"
        if activity.path != "expert":
            reason = "no dialogue asked for; stray speech is judged only with Silero VAD, not the energy VAD"
        return not_measured(name, reason, tool, version)
    value = float(np.mean([r["value"] for r in rows]))
    raw = {"shots": rows, "path": activity.path, "speech": activity.evidence()}
    return measured(name, value, tool, version, raw, activity.fallback_reason)


def speech_quality(decoded: DecodedClip, activity: SpeechActivity, use_expert_models: bool) -> MetricValue:
    """DNSMOS P.835 overall quality (speechmos' ONNX, run here on 9.01 s windows of the detected speech)."""
    name = "audio_speech_quality"
    tool, version = "expert:dnsmos (speechmos)", tool_versions("speechmos", "onnxruntime")
    if not use_expert_models:
        return not_measured(name, "DNSMOS is an expert model and expert models are switched off", tool, version)
    speech = speech_audio(decoded, activity, -math.inf, math.inf)
    if speech.shape[0] < MIN_DNSMOS_SPEECH_S * SPEECH_RATE:
        return not_measured(
            name, f"less than {MIN_DNSMOS_SPEECH_S:g} s of speech found ({activity.tool})", tool, version
        )
    try:
        scores = dnsmos_scores(speech)
    except ImportError as exc:
        return not_measured(name, f"speechmos/onnxruntime not importable ({exc})", tool, version)
    value = linear_map(scores["ovrl"], DNSMOS_GOOD, DNSMOS_BAD)
    raw = {**{k: round(v, 3) for k, v in scores.items()}, "speech_s": round(speech.shape[0] / SPEECH_RATE, 3),
           "vad": activity.tool, "mos_good_bad": [DNSMOS_GOOD, DNSMOS_BAD]}
    return measured(name, value, tool, version, raw)


_DNSMOS_SESSION: list[object] = []


def dnsmos_scores(speech: np.ndarray) -> dict[str, float]:
    """SIG, BAK, OVRL (P.835 MOS, 1-5) of 16 kHz speech: the mean over up to DNSMOS_MAX_WINDOWS windows
    of 9.01 s (shorter speech is repeated to fill one, as speechmos does), with speechmos' polynomial fit."""
    import onnxruntime  # type: ignore[import-untyped]
    import speechmos  # type: ignore[import-untyped]

    if not _DNSMOS_SESSION:
        model = Path(speechmos.__file__).parent / "dnsmos_models" / "sig_bak_ovr.onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the worker runs clips in parallel; one thread each
        _DNSMOS_SESSION.append(onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"]))
    session = _DNSMOS_SESSION[0]
    length = int(DNSMOS_INPUT_S * SPEECH_RATE)
    audio = np.clip(speech.astype(np.float32), -1.0, 1.0)
    if audio.shape[0] < length:
        audio = np.tile(audio, int(np.ceil(length / audio.shape[0])))[:length]
    count = min(DNSMOS_MAX_WINDOWS, audio.shape[0] // length)
    starts = np.linspace(0, audio.shape[0] - length, count).astype(int) if count > 1 else np.array([0])
    batch = np.stack([audio[s : s + length] for s in starts])
    raw = np.asarray(session.run(None, {"input_1": batch})[0])  # type: ignore[attr-defined]
    sig = np.poly1d([-0.08397278, 1.22083953, 0.0052439])(raw[:, 0])
    bak = np.poly1d([-0.13166888, 1.60915514, -0.39604546])(raw[:, 1])
    ovrl = np.poly1d([-0.06766283, 1.11546468, 0.04602535])(raw[:, 2])
    return {"sig": float(np.mean(sig)), "bak": float(np.mean(bak)), "ovrl": float(np.mean(ovrl)), "windows": float(count)}


def no_audio_metrics(script: PromptScript | None = None) -> dict[str, MetricValue]:
    """A clip without an audio stream: every audio metric that applies is 0 (the suite format's rule) and
    flagged; those that judge something the prompt does not ask for (music, speech) stay not measured."""
    version = tool_versions("av")
    classes = set(script.audio_classes) if script is not None else set()
    applies = {
        "audio_music_consistency": bool(classes & {"music", "singing"}),
        "audio_timbre_consistency": "speech" in classes,
        "audio_speech_quality": "speech" in classes,
        "audio_speech_presence": "speech" in classes,
        "audio_wer": "speech" in classes,
    }
    out = {}
    for name in AUDIO_METRICS:
        if applies.get(name, True):
            out[name] = measured(name, 0.0, "pyav:stream-check", version, {"no_audio": True}, "the clip has no audio stream")
        else:
            out[name] = not_measured(name, "the clip has no audio stream and the prompt does not ask for this", "pyav:stream-check", version)
    return out


def _guard(name: str, compute: Callable[[], MetricValue]) -> MetricValue:
    """One metric raising must not take the others with it: it is 'failed' with the reason."""
    try:
        return compute()
    except Exception as exc:  # noqa: BLE001 - recorded on the metric, never silently dropped
        return failed(name, f"{name} raised {type(exc).__name__}: {exc}")


def audio_metrics(
    decoded: DecodedClip,
    script: PromptScript | None,
    seg: SegmentationResult | None = None,
    *,
    config: EngineConfig = DEFAULT_CONFIG,
) -> dict[str, MetricValue]:
    """Every audio-dimension metric of the clip (AUDIO_METRICS), each with its tool and version: those of
    the whole clip (`clip_audio_metrics`) and those comparing its shots (`shot_audio_metrics`)."""
    values = {**clip_audio_metrics(decoded, script, config=config), **shot_audio_metrics(decoded, script, seg, config=config)}
    return {name: values[name] for name in AUDIO_METRICS}


def clip_audio_metrics(
    decoded: DecodedClip, script: PromptScript | None, *, config: EngineConfig = DEFAULT_CONFIG
) -> dict[str, MetricValue]:
    """The audio metrics that need no shots (CLIP_AUDIO_METRICS), so they can run while the clip is segmented.
    Speech activity is computed once and shared (see speech.speech_activity)."""
    if not decoded.has_audio:
        return {name: value for name, value in no_audio_metrics(script).items() if name in CLIP_AUDIO_METRICS}
    from ..asr import wer_metric

    expert = config.use_expert_models
    activity = speech_activity(decoded, use_expert_models=expert)
    return {
        "audio_loudness": _guard("audio_loudness", lambda: loudness(decoded)),
        "audio_clipping": _guard("audio_clipping", lambda: clipping(decoded)),
        "audio_silence": _guard("audio_silence", lambda: silence(decoded, script)),
        "audio_noise_floor": _guard("audio_noise_floor", lambda: noise_floor(decoded)),
        "audio_bandwidth": _guard("audio_bandwidth", lambda: bandwidth(decoded)),
        "audio_speech_quality": _guard("audio_speech_quality", lambda: speech_quality(decoded, activity, expert)),
        "audio_speech_presence": _guard("audio_speech_presence", lambda: speech_presence(decoded, script, activity)),
        "audio_wer": _guard("audio_wer", lambda: wer_metric(decoded, script, activity, config.asr)),
    }


def shot_audio_metrics(
    decoded: DecodedClip,
    script: PromptScript | None,
    seg: SegmentationResult | None = None,
    *,
    config: EngineConfig = DEFAULT_CONFIG,
) -> dict[str, MetricValue]:
    """The audio metrics that compare the clip's shots (SHOT_AUDIO_METRICS: music, timbre); `seg` gives the
    detected shots, without it the script's shots are used."""
    if not decoded.has_audio:
        return {name: value for name, value in no_audio_metrics(script).items() if name in SHOT_AUDIO_METRICS}
    from .music import music_consistency
    from .voice import timbre_consistency

    expert = config.use_expert_models
    activity = speech_activity(decoded, use_expert_models=expert)
    return {
        "audio_music_consistency": _guard(
            "audio_music_consistency", lambda: music_consistency(decoded, script, seg, activity)
        ),
        "audio_timbre_consistency": _guard(
            "audio_timbre_consistency", lambda: timbre_consistency(decoded, script, seg, activity, expert)
        ),
    }
