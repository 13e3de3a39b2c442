"""Global audio-visual offset: the audio onset envelope cross-correlated with the visual motion-onset envelope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage, signal, special

from ..decode import DecodedClip
from ..features import parabolic_peak, to_float
from ..segmentation import SegmentationResult
from ..speech import mono
from ..versions import tool_versions
from .base import MetricValue, measured, not_measured, rounded

GRID_HZ = 100  # both envelopes are compared on a 10 ms grid
MAX_LAG_S = 2.0  # the score reaches 0 at 2 s, so larger offsets need not be told apart
STFT_WINDOW_S = 0.02
# Thumbnails per block of the visual envelopes: a block's float64 temporaries (about 1.2 MB at 64 frames) stay
# in the processor's cache; with 1024 frames the novelty took 0.069 s on the 60 s clip, with 64 0.031 s.
VISUAL_FRAMES_PER_PASS = 64
STFT_FRAMES_PER_PASS = 2048  # spectra per block (~20 s of sound): the clip's length does not set the memory
DETREND_S = 1.0  # envelopes minus their 1 s moving average: only events correlate, not slow trends
SMOOTH_S = 0.02  # Gaussian smoothing so the peak is parabolic near its top
NOVELTY_MEMORY_S = 0.15  # time constant of the visual "recent past"
EDGE_GUARD_S = 0.25
# A visual event raises a frame's novelty by at least ~2.5 grey levels; camera motion and codec noise
# stay below ~0.6 (measured on pans, zooms and dissolves), so without such an event there is nothing to sync.
VISUAL_EVENT_MIN = 0.01
EDGE_LAG_GUARD_S = 0.05
EXCLUDE_S = 0.12  # the runner-up peak is looked for outside +-EXCLUDE_S of the main one
EVENT_GAP_S = 0.25  # visual events closer than this count once
# One event lines up with some onset at any lag; two already pin the lag when the audio onsets that
# go with them are the loud ones (distinctness checks that no rival lag does as well).
MIN_VISUAL_EVENTS = 2
# Below this the offset is reported as not measured: a wrong offset costs more than none. Set above
# every unrelated-audio control measured on real footage (excerpts of the music video with the sound of
# another part of it, or white noise: confidence up to 0.55), below 0.77 where the demo clips start.
MIN_CONFIDENCE = 0.75
# The significance term assumes a Gaussian null; correlations of rhythmic or sparse envelopes have
# heavier tails: on 20 s splices of a music video (dancing to a 112 BPM beat) the null's own local
# maxima reach 3.5 sd, and one such splice gave a wrong offset at z 3.57 with confidence 0.81. A peak
# must therefore also stand this many null sd high (the demo's measured clips: 4.4 and up).
MIN_PEAK_Z = 4.0
# The correlation coefficient of the two envelopes at the peak: how much of the picture's onsets the
# sound's share. Sound and picture of the same events (a hit, a clap, a door) share most of them (the
# demo's measured clips: 0.39-0.93); dancing to music shares the beat but not its phase: on the real
# music video (whole, splices, excerpts) every peak stays below 0.29, with confidence up to 0.99 on a
# 20 s splice, where it reads the dance's lag (~ -230 ms) instead of the offset.
MIN_PEAK_CORRELATION = 0.35
OFFSET_ZERO_S = 2.0  # MSAVBench: score = max(0, 1 - |dt| / 2 s)


@dataclass(frozen=True)
class SyncEstimate:
    offset_s: float  # positive: the audio is late
    confidence: float
    peak_correlation: float
    runner_up_correlation: float
    visual_events: int
    masked_frames: int
    peak_z: float = 0.0  # the peak in standard deviations of the null correlation (see _correlation_null)
    significance: float = 0.0
    distinctness: float = 0.0
    independent_lags: float = 0.0


def audio_onset_envelope(mono: np.ndarray, rate: int, start_s: float, grid_t: np.ndarray) -> np.ndarray:
    """Spectral flux (rectified increase of linear magnitude, summed over frequency) on the grid.

    Linear, not log, magnitude: the loud transients that go with something seen (a hit, a clap, a
    door) then dominate the envelope, while the many soft onsets of speech syllables, which a log
    scale makes as strong as a hit, stay small. Measured on the demo's 89 clips with speech or music:
    the correlation peak lands within 40 ms of the truth on 88 with linear flux, 60 with log1p(100|X|).
    """
    window = max(64, int(round(STFT_WINDOW_S * rate)))
    hop = max(1, rate // GRID_HZ)
    if mono.shape[0] < window + hop:
        return np.zeros_like(grid_t)
    frames = sliding_window_view(mono, window)[::hop]  # a view: no copy of the sound
    taper = np.hanning(window).astype(np.float32)
    flux = np.zeros(frames.shape[0])
    previous: np.ndarray | None = None  # the last spectrum of the block before, for the first difference
    for first in range(0, frames.shape[0], STFT_FRAMES_PER_PASS):  # the spectra of a block, not of the clip
        magnitude = np.abs(np.fft.rfft(frames[first : first + STFT_FRAMES_PER_PASS] * taper, axis=1))
        if previous is not None:
            magnitude = np.concatenate([previous, magnitude])
        rise = np.maximum(0.0, np.diff(magnitude, axis=0)).sum(axis=1)
        start = first if previous is not None else 1  # flux[k]: the change from spectrum k - 1 to k
        flux[start : start + rise.size] = rise
        previous = magnitude[-1:]
    # flux[k] is the change from frame k-1 to frame k (each covering [k*hop, k*hop + window)): it is
    # dated midway between their centres, where a step onset makes the windowed magnitude rise fastest.
    times = start_s + (np.arange(flux.size) * hop + (window - hop) / 2.0) / rate
    envelope: np.ndarray = np.interp(grid_t, times, flux, left=0.0, right=0.0)
    return envelope


VISUAL_FEATURES = ("novelty_onset", "motion_energy", "motion_onset")


def visual_onset_envelope(
    decoded: DecodedClip, masked: np.ndarray, grid_t: np.ndarray, feature: str = "novelty_onset"
) -> np.ndarray:
    """Visual event onsets on the grid: the rectified increase of each frame's novelty, its mean
    grey difference from an exponential moving average of the frames before it; cut frames masked.

    Novelty against the recent past (not just the previous frame) makes an event's start stand out
    and its end not (a flash switching off looks like the past again); onsets rather than energy
    match the audio's onset envelope, and sustained motion such as a pan gives none.

    `feature` picks an alternative for comparison (scoring.bench.sync_offsets --visual): "motion_energy",
    the mean absolute difference from the previous frame, or "motion_onset", its rectified increase.
    """
    n = decoded.frame_count
    if feature in ("motion_energy", "motion_onset"):
        energy = np.zeros(n)
        last: np.ndarray | None = None  # the frame before the block
        for first, block in _float_blocks(decoded):
            rows = block if last is None else np.concatenate([last, block])
            energy[first + (last is None) : first + block.shape[0]] = np.abs(np.diff(rows, axis=0)).mean(axis=1)
            last = block[-1:]
        if feature == "motion_onset":
            onset = np.zeros_like(energy)
            onset[1:] = np.maximum(0.0, np.diff(energy))
            onset[1:][masked[:-1]] = 0.0  # the frame after a masked one rises from the cut's value: no event
            energy = onset
        energy[masked] = 0.0
        motion: np.ndarray = np.interp(grid_t, decoded.timestamps_s, energy, left=0.0, right=0.0)
        return motion
    if feature != "novelty_onset":
        raise ValueError(f"unknown visual feature {feature!r}; one of {VISUAL_FEATURES}")
    a = 1.0 - np.exp(-1.0 / (NOVELTY_MEMORY_S * max(decoded.fps, 1.0)))
    novelty = np.zeros(n)
    state: np.ndarray | None = None  # the filter's state after the block before
    past_before: np.ndarray | None = None  # the past of the frame before the block
    for first, block in _float_blocks(decoded):
        if state is None:
            state = (1.0 - a) * block[:1].T
        # Filtered along the last axis of the transpose: the same sums, three times faster than along axis 0.
        filtered, state = signal.lfilter([a], [1.0, a - 1.0], block.T, axis=1, zi=state)
        past = filtered.T
        if past_before is None:
            novelty[1 : block.shape[0]] = np.abs(block[1:] - past[:-1]).mean(axis=1)
        else:
            novelty[first : first + block.shape[0]] = np.abs(block - np.concatenate([past_before, past[:-1]])).mean(axis=1)
        past_before = past[-1:]
    onset = np.zeros_like(novelty)
    onset[1:] = np.maximum(0.0, np.diff(novelty))
    onset[masked] = 0.0
    envelope: np.ndarray = np.interp(grid_t, decoded.timestamps_s, onset, left=0.0, right=0.0)
    return envelope


def _float_blocks(decoded: DecodedClip) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, (frames, pixels) float32 grey in [0, 1]) for blocks of VISUAL_FRAMES_PER_PASS thumbnails:
    only a block is ever held in floats."""
    for first in range(0, decoded.frame_count, VISUAL_FRAMES_PER_PASS):
        block = to_float(decoded.thumbs[first : first + VISUAL_FRAMES_PER_PASS])
        yield first, block.reshape(block.shape[0], -1)


def _normalise(envelope: np.ndarray) -> np.ndarray:
    trend = ndimage.uniform_filter1d(envelope, max(3, int(DETREND_S * GRID_HZ)), mode="nearest")
    smooth = ndimage.gaussian_filter1d(envelope - trend, SMOOTH_S * GRID_HZ)
    std = float(smooth.std())
    return (smooth - smooth.mean()) / std if std > 1e-12 else np.zeros_like(smooth)


def _correlation_null(audio: np.ndarray, visual: np.ndarray, lag: int, exclude: int) -> tuple[float, float, int]:
    """Mean, standard deviation and local-maximum count of the correlation of the two (normalised)
    envelopes at every circular lag more than `exclude` away from `lag`.

    A circular shift keeps each stream's own structure (its rhythm, its event rate, its loudness
    changes) and only breaks their alignment, so these values are what the correlation looks like
    when the sound has nothing to do with the picture: the null against which the peak is judged.
    """
    n = audio.size
    circular = np.fft.irfft(np.fft.rfft(audio) * np.conj(np.fft.rfft(visual)), n) / n
    distance = (np.arange(n) - lag) % n
    far = (distance > exclude) & (distance < n - exclude)
    values = circular[far] if np.count_nonzero(far) > 2 else circular
    maxima, _ = signal.find_peaks(circular)
    return float(values.mean()), float(values.std()), int(maxima.size)


def estimate_offset(
    decoded: DecodedClip, seg: SegmentationResult, max_lag_s: float = MAX_LAG_S, visual_feature: str = "novelty_onset"
) -> SyncEstimate | None:
    """The global offset (positive: audio late), or None when either stream has no events to line up.

    Confidence = significance x distinctness, both measured against the correlation's own null (its
    values at circular lags away from the peak, see _correlation_null; sd = their standard deviation):
    - significance: the probability that none of the M roughly independent lags searched would reach
      the peak's height z = (peak - null mean) / sd by chance, (1 - Q(z))^M, M = the null's local
      maxima per lag x the lags searched (a smooth or rhythmic envelope has fewer independent lags);
    - distinctness: erf((peak - best rival lag more than EXCLUDE_S away) / (2 sd)), about the
      probability that the peak beats its runner-up not by noise (0 when they tie: a rhythm that
      lines up every beat or bar tells no offset).
    0 when the best lag lies within EDGE_LAG_GUARD_S of the searched range's edge.
    """
    grid_t = np.arange(0.0, decoded.duration_s, 1.0 / GRID_HZ)
    masked = seg.transition_mask(decoded.timestamps_s, guard_frames=2)
    visual = visual_onset_envelope(decoded, masked, grid_t, visual_feature)
    audio = audio_onset_envelope(mono(decoded), decoded.audio_rate, decoded.audio_start_s, grid_t)
    # The clip's first and last moments are an "event" in both streams (things start): not evidence.
    edge = (grid_t < EDGE_GUARD_S) | (grid_t > decoded.duration_s - EDGE_GUARD_S)
    visual[edge] = 0.0
    audio[edge] = 0.0
    if float(visual.max(initial=0.0)) < VISUAL_EVENT_MIN or float(audio.max(initial=0.0)) <= 0.0:
        return None  # nothing happens on screen (or in the sound) that could be lined up
    events, _ = signal.find_peaks(
        visual, height=max(VISUAL_EVENT_MIN, 0.3 * float(visual.max())), distance=int(EVENT_GAP_S * GRID_HZ)
    )
    visual, audio = _normalise(visual), _normalise(audio)
    corr = signal.correlate(audio, visual, mode="full", method="fft") / grid_t.size
    zero = visual.size - 1
    max_lag = min(int(round(max_lag_s * GRID_HZ)), grid_t.size - 2)
    window = corr[zero - max_lag : zero + max_lag + 1]
    best = int(np.argmax(window))
    peak = float(window[best])
    offset = 0.0
    if 0 < best < window.size - 1:
        offset = float(parabolic_peak(window[best - 1 : best], window[best : best + 1], window[best + 1 : best + 2])[0])
    lag_s = (best - max_lag + offset) / GRID_HZ
    # A maximum on (or within 50 ms of) the edge of the searched range is no peak: the true lag may
    # lie beyond it, or nothing lines up and the correlation merely drifts upwards to the edge.
    guard = int(round(EDGE_LAG_GUARD_S * GRID_HZ))
    interior = guard <= best < window.size - guard
    exclude = int(round(EXCLUDE_S * GRID_HZ))
    others = np.concatenate([window[: max(0, best - exclude)], window[best + exclude + 1 :]])
    null_mean, null_sd, null_maxima = _correlation_null(audio, visual, best - max_lag, exclude)
    null_sd = max(null_sd, 1e-9)
    runner_up = float(others.max()) if others.size else null_mean
    z = (peak - null_mean) / null_sd
    tries = max(1.0, null_maxima * window.size / grid_t.size)
    significance = float((1.0 - 0.5 * special.erfc(z / np.sqrt(2.0))) ** tries)
    distinctness = float(special.erf(max(0.0, peak - runner_up) / (2.0 * null_sd)))
    return SyncEstimate(
        offset_s=lag_s,
        confidence=significance * distinctness if interior else 0.0,
        visual_events=int(events.size),
        peak_correlation=peak,
        runner_up_correlation=runner_up,
        masked_frames=int(masked.sum()),
        peak_z=z,
        significance=significance,
        distinctness=distinctness,
        independent_lags=tries,
    )


def sync_metric(
    decoded: DecodedClip, seg: SegmentationResult, visual_feature: str = "novelty_onset"
) -> tuple[MetricValue, dict[str, object]]:
    """The sync metric and evidence["sync"] (`visual_feature`: see visual_onset_envelope)."""
    name, tool = "sync_offset", "numpy+scipy:onset-xcorr"
    version = tool_versions("av", "numpy", "scipy")
    if not decoded.has_audio:
        return not_measured(name, "the clip has no audio stream", tool, version), {
            "offset_ms": None,
            "confidence": None,
            "reason": "no audio",
        }
    estimate = estimate_offset(decoded, seg, visual_feature=visual_feature)
    if estimate is None:
        reason = "no audio onsets or no visual motion events to line up"
        return not_measured(name, reason, tool, version), {"offset_ms": None, "confidence": 0.0, "reason": reason}
    evidence: dict[str, object] = {
        "method": "motion",  # which reading the offset is (metrics.lipsync.with_lip_offset may use the lips)
        "offset_ms": round(estimate.offset_s * 1000.0, 1),
        "confidence": round(estimate.confidence, 4),
        "peak_correlation": rounded(estimate.peak_correlation),
        "runner_up_correlation": rounded(estimate.runner_up_correlation),
        "peak_z": round(estimate.peak_z, 2),
        "significance": round(estimate.significance, 4),
        "distinctness": round(estimate.distinctness, 4),
        "independent_lags": round(estimate.independent_lags, 1),
        "max_lag_ms": MAX_LAG_S * 1000.0,
        "visual_events": estimate.visual_events,
        "masked_frames": estimate.masked_frames,
    }
    # Each check the estimate must pass, in order, with why it is refused when it does not.
    refusals = (
        (estimate.visual_events < MIN_VISUAL_EVENTS,
         f"only {estimate.visual_events} distinct visual event(s): too few to tell the offset "
         f"(at least {MIN_VISUAL_EVENTS} needed)"),
        (estimate.confidence < MIN_CONFIDENCE,
         f"no clear audio-visual correlation peak (confidence {estimate.confidence:.2f} < {MIN_CONFIDENCE:.2f})"),
        (estimate.peak_correlation < MIN_PEAK_CORRELATION,
         f"the envelopes correlate only {estimate.peak_correlation:.2f} at the peak (at least "
         f"{MIN_PEAK_CORRELATION:.2f} needed): the picture's events are mostly not the sound's"),
        (estimate.peak_z < MIN_PEAK_Z,
         f"the correlation peak stands only {estimate.peak_z:.1f} null standard deviations high "
         f"(at least {MIN_PEAK_Z:.1f} needed)"),
    )
    for refused, reason in refusals:
        if refused:
            return _rejected(name, reason, tool, version, evidence)
    return measured(name, offset_score(estimate.offset_s), tool, version, evidence), evidence


def offset_score(offset_s: float) -> float:
    """MSAVBench's sync score of a global offset: max(0, 1 - |dt| / 2 s)."""
    return max(0.0, 1.0 - abs(offset_s) / OFFSET_ZERO_S)


def _rejected(
    name: str, reason: str, tool: str, version: str, evidence: dict[str, object]
) -> tuple[MetricValue, dict[str, object]]:
    """Not measured: the estimate stays in the evidence as rejected, so no reader takes it for the offset."""
    evidence["rejected_offset_ms"] = evidence["offset_ms"]
    evidence["offset_ms"] = None
    evidence["method"] = None
    evidence["reason"] = reason
    return not_measured(name, reason, tool, version, raw=evidence), evidence
