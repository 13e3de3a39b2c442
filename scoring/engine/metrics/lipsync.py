"""Lip sync and sound attribution: mouth opening (dlib landmarks) against the voice-band envelope inside VAD speech.

Mouth tracks come from a targeted PyAV pass over the speech spans where faces are visible.

The main decode keeps only sparse samples (2 a second), too few to follow a mouth; lip sync needs every
frame, but only inside speech and only where a face was seen. This module decodes just those spans (seeking
to each), at the samples' resolution, detects faces every DETECT_EVERY frames, follows them between
detections, and measures each face's mouth opening (inner-lip gap / face height, dlib 68 landmarks) on
every frame. Cost: ~5-8 ms a frame plus decoding; bounded by MAX_SPAN_TOTAL_S.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from av.video.reformatter import VideoReformatter

from ..decode import SAMPLE_MAX_WIDTH, DecodedClip
from ..faces import FaceBox, detect_faces, landmarks_for, mouth_opening
from ..probe import open_container
from .base import MetricValue, linear_map, measured, not_measured

DETECT_EVERY = 5  # frames between face detections (landmarks run on every frame)
MAX_TRACKS = 4
BOX_STABLE = 0.08  # a re-detected box moving less than this share of the face width keeps the old box
TRACK_MATCH = 0.15  # a detection continues a track whose centre is within this share of the frame width
MAX_SPAN_TOTAL_S = 30.0  # at most this much speech is analysed per clip (the longest spans first)
PAD_S = 0.5  # decoded either side of a speech span so lags of +-0.5 s stay inside the data


@dataclass
class MouthTrack:
    """One face followed through a span: the mouth opening on each frame (NaN where it was not seen)."""

    span: tuple[float, float]
    times_s: np.ndarray
    opening: np.ndarray
    centre_x: float  # mean centre (frame-width fraction), for evidence and attribution
    coverage: float  # share of the span's frames with a measurement


@dataclass
class SpanTracks:
    span: tuple[float, float]
    times_s: np.ndarray
    tracks: list[MouthTrack] = field(default_factory=list)


class _Track:
    def __init__(self, box: FaceBox, n: int) -> None:
        self.box = box
        self.values = np.full(n, np.nan, dtype=np.float64)
        self.centres: list[float] = []
        self.last_seen = 0


def _moved(old: FaceBox, new: FaceBox) -> bool:
    """Whether a re-detection really moved the face: the detector's box jitters by a few pixels between
    detections, and landmarks fitted in a jittering box make a still mouth look as if it moved."""
    shift = max(abs(new.left - old.left), abs(new.top - old.top), abs(new.right - old.right), abs(new.bottom - old.bottom))
    return shift > BOX_STABLE * max(1.0, old.width)


def _match(tracks: list[_Track], boxes: list[FaceBox], frame: int, n: int) -> None:
    free = list(boxes)
    for track in tracks:
        if not free:
            break
        cx, _ = track.box.centre
        best = min(free, key=lambda b: abs(b.centre[0] - cx))
        if abs(best.centre[0] - cx) <= TRACK_MATCH:
            if _moved(track.box, best):
                track.box = best
            track.last_seen = frame
            free.remove(best)
    for box in free:
        if len(tracks) < MAX_TRACKS:
            track = _Track(box, n)
            track.last_seen = frame
            tracks.append(track)


def mouth_tracks(
    path: str | Path,
    spans: list[tuple[float, float]],
    *,
    video_start_s: float | None = None,
    max_total_s: float = MAX_SPAN_TOTAL_S,
    timeout_s: float = 120.0,
) -> list[SpanTracks]:
    """Mouth-opening tracks of the faces in each span (clip times, seconds from the first video frame;
    `video_start_s` is the stream time of that frame, read from the file when not given)."""
    chosen: list[tuple[float, float]] = []
    budget = max_total_s
    for span in sorted(spans, key=lambda s: s[0] - s[1]):  # longest first
        length = min(span[1] - span[0], budget)
        if length <= 0.3:
            continue
        chosen.append((span[0], span[0] + length))
        budget -= length
    chosen.sort()
    out: list[SpanTracks] = []
    if not chosen:
        return out
    p = Path(path)
    container = open_container(p, timeout_s)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        scaler = VideoReformatter()
        if video_start_s is None:
            first = next((f for f in container.decode(stream) if f.time is not None), None)
            video_start_s = float(first.time) if first is not None and first.time is not None else 0.0
        for start, end in chosen:
            lo, hi = max(0.0, start - PAD_S), end + PAD_S
            assert stream.time_base is not None
            container.seek(int((lo + video_start_s) / stream.time_base), stream=stream, backward=True, any_frame=False)
            frames: list[tuple[float, np.ndarray]] = []
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = frame.time - video_start_s
                if t < lo - 1e-6:
                    continue
                if t > hi:
                    break
                width = min(frame.width, SAMPLE_MAX_WIDTH) // 2 * 2
                height = max(2, round(width * frame.height / frame.width / 2) * 2)
                rgb = scaler.reformat(frame, width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
                frames.append((t, rgb))
            out.append(_track_span((start, end), frames))
    return out


def _track_span(span: tuple[float, float], frames: list[tuple[float, np.ndarray]]) -> SpanTracks:
    n = len(frames)
    times = np.array([t for t, _ in frames], dtype=np.float64)
    tracks: list[_Track] = []
    for i, (_, rgb) in enumerate(frames):
        if i % DETECT_EVERY == 0:
            _match(tracks, detect_faces(rgb), i, n)
        for track in tracks:
            if i - track.last_seen > 2 * DETECT_EVERY:
                continue  # lost: not re-measured until a detection picks it up again
            points = landmarks_for(rgb, track.box)
            track.values[i] = mouth_opening(points)
            track.centres.append(track.box.centre[0])
    result = SpanTracks(span, times)
    for track in tracks:
        coverage = float(np.mean(np.isfinite(track.values))) if n else 0.0
        result.tracks.append(
            MouthTrack(span, times, track.values, float(np.mean(track.centres)) if track.centres else 0.5, coverage)
        )
    return result


# --- the metrics: lip sync (offset and correlation) and sound attribution ------------------------------

LIP, ATTRIBUTION = "sync_lip", "sync_sound_attribution"
ENVELOPE_BAND_HZ = (300.0, 3000.0)  # the voice band: where articulation moves the energy
ENVELOPE_WINDOW_S = 0.04
ENVELOPE_RATE = 100.0  # Hz
MAX_LAG_S = 0.5
LAG_STEP_S = 0.02
MIN_COVERAGE = 0.3  # a track measured on fewer of its span's frames is not used
MIN_MOUTH_STD = 0.01  # opening / face height: a singing or speaking mouth spreads ~0.03-0.04, a still one < 0.005
MIN_FRAMES = 25  # pooled measured frames needed for a correlation
# Correlation of the z-scored mouth opening with the log voice-band envelope at the best lag: a real
# lip-synced singer filmed at 160x90 reads ~0.2 (pooled over 5 spans); a still mouth reads the noise
# level (< 0.05).
R_NULL, R_GOOD = 0.05, 0.25
OFFSET_ZERO_S = 0.4  # lips 400 ms (or more) off the sound score 0
ATTRIBUTION_MARGIN = 0.2  # the speaking face's correlation above the next face's for a full score


def speech_envelope(mono: np.ndarray, rate: int, start_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, log RMS) of the voice band at ENVELOPE_RATE on the clip timeline."""
    from scipy import ndimage, signal

    nyquist = rate / 2
    sos = signal.butter(4, [ENVELOPE_BAND_HZ[0] / nyquist, min(0.99, ENVELOPE_BAND_HZ[1] / nyquist)], "band", output="sos")
    band = signal.sosfiltfilt(sos, mono.astype(np.float64))
    hop = max(1, int(round(rate / ENVELOPE_RATE)))
    power = ndimage.uniform_filter1d(band**2, max(1, int(ENVELOPE_WINDOW_S * rate)))[::hop]
    times = start_s + np.arange(power.size) * hop / rate
    return times, np.log(np.sqrt(np.maximum(power, 0.0)) + 1e-4)  # the running mean can dip below 0 by rounding


def _z(x: np.ndarray, min_std: float = 1e-9) -> np.ndarray:
    std = float(x.std())
    return (x - x.mean()) / std if std >= min_std else np.zeros_like(x)


def _correlation_curve(
    tracks: list[MouthTrack], env_t: np.ndarray, env: np.ndarray, lags: np.ndarray
) -> tuple[np.ndarray, int]:
    """Pooled Pearson correlation of mouth opening with the envelope shifted by each lag; measured frames."""
    pieces = []
    for track in tracks:
        ok = np.isfinite(track.opening)
        if ok.sum() >= 5:
            # A still mouth (spread below MIN_MOUTH_STD: landmark jitter only) contributes zeros: it moves
            # with nothing, so it pulls the pooled correlation down instead of being amplified into noise.
            opening = np.convolve(track.opening[ok], np.ones(3) / 3.0, mode="same")  # landmark jitter
            pieces.append((track.times_s[ok], _z(opening, MIN_MOUTH_STD)))
    if not pieces:
        return np.zeros(lags.size), 0
    mouth = np.concatenate([m for _, m in pieces])
    curve = []
    for lag in lags:
        sound = np.concatenate([_z(np.interp(t + lag, env_t, env)) for t, _ in pieces])
        curve.append(float(np.mean(mouth * sound)))
    return np.array(curve), int(mouth.size)


def _peak(curve: np.ndarray, lags: np.ndarray) -> tuple[float, float]:
    k = int(np.argmax(curve))
    lag = float(lags[k])
    if 0 < k < curve.size - 1:
        a, b, c = curve[k - 1], curve[k], curve[k + 1]
        denom = a - 2 * b + c
        if abs(denom) > 1e-12:
            lag += float(0.5 * (a - c) / denom) * LAG_STEP_S
    return lag, float(curve[k])


def speech_spans_with_faces(
    speech_segments: tuple[tuple[float, float], ...],
    shot_spans: list[tuple[float, float]],
    face_times: list[float],
) -> list[tuple[float, float]]:
    """Speech segments cut at shot boundaries, kept where a sampled frame of that shot showed a face."""
    spans = []
    for a, b in speech_segments:
        for s0, s1 in shot_spans:
            lo, hi = max(a, s0), min(b, s1)
            if hi - lo >= 0.5 and any(s0 <= t < s1 for t in face_times):
                spans.append((lo, hi))
    return spans


def lipsync_metrics(
    path: str | Path,
    decoded: DecodedClip,
    shot_spans: list[tuple[float, float]],
    speech_segments: tuple[tuple[float, float], ...] | None,
    faces_by_sample: dict[int, list[object]] | None,
    *,
    speech_tool: str = "",
    version: str = "",
) -> tuple[dict[str, MetricValue], dict[str, object]]:
    """sync_lip and sync_sound_attribution, with evidence (offset_ms: positive = audio late, the correlation,
    frames used). Not measured without faces (expert path), without speech, or without a face during speech."""
    tool = "expert:dlib-landmarks+voice-band-envelope" + (f" ({speech_tool})" if speech_tool else "")
    evidence: dict[str, object] = {"offset_ms": None, "correlation": None}

    def none(reason: str) -> tuple[dict[str, MetricValue], dict[str, object]]:
        evidence["reason"] = reason
        return {LIP: not_measured(LIP, reason, tool, version), ATTRIBUTION: not_measured(ATTRIBUTION, reason, tool, version)}, evidence

    if faces_by_sample is None:
        return none("lip sync needs face landmarks (expert models off or dlib not installed)")
    if not decoded.has_audio:
        return none("the clip has no audio")
    if not speech_segments:
        return none("no speech found by the VAD")
    face_times = [s.time_s for s in decoded.samples if faces_by_sample.get(s.index)]
    spans = speech_spans_with_faces(speech_segments, shot_spans, face_times)
    if not spans:
        return none("no face visible in the shots with speech")
    span_tracks = mouth_tracks(path, spans)
    env_t, env = speech_envelope(decoded.audio_mono, decoded.audio_rate, decoded.audio_start_s)
    lags = np.arange(-MAX_LAG_S, MAX_LAG_S + 1e-9, LAG_STEP_S)
    main = []
    for st in span_tracks:
        usable = [t for t in st.tracks if t.coverage >= MIN_COVERAGE]
        if usable:
            main.append(max(usable, key=lambda t: t.coverage * float(np.nanstd(t.opening))))
    curve, frames = _correlation_curve(main, env_t, env, lags)
    evidence.update({"spans_s": [[round(a, 3), round(b, 3)] for a, b in spans], "frames": frames})
    if frames < MIN_FRAMES:
        return none(f"faces followed on only {frames} frames during speech (needs {MIN_FRAMES})")
    lag, r = _peak(curve, lags)
    at_edge = abs(lag) >= MAX_LAG_S - LAG_STEP_S
    corr_term = linear_map(r, R_GOOD, R_NULL)
    offset_term = 0.0 if at_edge else max(0.0, 1.0 - abs(lag) / OFFSET_ZERO_S)
    evidence.update({
        "offset_ms": None if at_edge else round(lag * 1000.0, 1),
        "correlation": round(r, 4),
        "correlation_at_zero": round(float(curve[int(np.argmin(np.abs(lags)))]), 4),
        "lag_at_search_edge": at_edge,
    })
    metrics = {LIP: measured(LIP, corr_term * offset_term, tool, version, dict(evidence))}
    rows = []
    for st in span_tracks:
        usable = [t for t in st.tracks if t.coverage >= MIN_COVERAGE]
        if len(usable) < 2:
            continue
        scores = sorted((_correlation_curve([t], env_t, env, np.array([lag]))[0][0], t.centre_x) for t in usable)[::-1]
        margin = scores[0][0] - scores[1][0]
        rows.append({"span_s": [round(st.span[0], 3), round(st.span[1], 3)], "faces": len(usable),
                     "speaker_x": round(scores[0][1], 3), "margin": round(margin, 4),
                     "score": round(linear_map(margin, ATTRIBUTION_MARGIN, 0.0), 4)})
    metrics[ATTRIBUTION] = (
        measured(ATTRIBUTION, float(np.mean([r_["score"] for r_ in rows])), tool, version, {"spans": rows})
        if rows else not_measured(ATTRIBUTION, "never two or more faces followed during speech", tool, version)
    )
    return metrics, evidence
