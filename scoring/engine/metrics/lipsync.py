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
from ..faces import DETECT_WIDTH, FaceBox, detect_faces_in, landmarks_for, mouth_opening
from ..probe import open_container
from ..speech import mono
from .base import MetricValue, linear_map, measured, not_measured
from .sync import offset_score

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
    frame_step: int = 1,
    detect_every: int = DETECT_EVERY,
    detect_width: int | None = None,
) -> list[SpanTracks]:
    """Mouth-opening tracks of the faces in each span (clip times, seconds from the first video frame;
    `video_start_s` is the stream time of that frame, read from the file when not given); landmarks on
    every `frame_step`-th frame, faces detected every `detect_every` of those (on a copy at most
    `detect_width` wide: faces.DETECT_WIDTH when None)."""
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
            seen = 0
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = frame.time - video_start_s
                if t < lo - 1e-6:
                    continue
                if t > hi:
                    break
                seen += 1
                if (seen - 1) % frame_step:
                    continue
                width = min(frame.width, SAMPLE_MAX_WIDTH) // 2 * 2
                height = max(2, round(width * frame.height / frame.width / 2) * 2)
                rgb = scaler.reformat(frame, width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
                frames.append((t, rgb))
            out.append(_track_span((start, end), frames, detect_every, detect_width))
    return out


def _track_span(
    span: tuple[float, float], frames: list[tuple[float, np.ndarray]], detect_every: int = DETECT_EVERY,
    detect_width: int | None = None,
) -> SpanTracks:
    n = len(frames)
    times = np.array([t for t, _ in frames], dtype=np.float64)
    tracks: list[_Track] = []
    # The detections first, several frames at a time; then follow the faces frame by frame, in order.
    detected = detect_faces_in([rgb for _, rgb in frames[::detect_every]],
                               detect_width=DETECT_WIDTH if detect_width is None else detect_width)
    for i, (_, rgb) in enumerate(frames):
        if i % detect_every == 0:
            _match(tracks, detected[i // detect_every], i, n)
        for track in tracks:
            if i - track.last_seen > 2 * detect_every:
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


def _mouth_signal(track: MouthTrack) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, z-scored mouth opening) of a track's measured frames, smoothed over 3 frames (landmark
    jitter); None under 5 frames. A still mouth (spread below MIN_MOUTH_STD: jitter only) gives zeros: it
    moves with nothing, so it pulls a pooled correlation down instead of being amplified into noise."""
    ok = np.isfinite(track.opening)
    if ok.sum() < 5:
        return None
    opening = np.convolve(track.opening[ok], np.ones(3) / 3.0, mode="same")
    return track.times_s[ok], _z(opening, MIN_MOUTH_STD)


def _correlation_curve(
    tracks: list[MouthTrack], env_t: np.ndarray, env: np.ndarray, lags: np.ndarray
) -> tuple[np.ndarray, int]:
    """Pooled Pearson correlation of mouth opening with the envelope shifted by each lag; measured frames."""
    pieces = [piece for piece in map(_mouth_signal, tracks) if piece is not None]
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
    env_t, env = speech_envelope(mono(decoded), decoded.audio_rate, decoded.audio_start_s)
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


# --- the pooled lip offset: the clip's global offset read from the lips of every shot with a face --------
# Used for the sync offset when the motion-based estimate (metrics.sync) is not measured: dancing to a song
# moves with the beat, not with the sound's phase, while a singer's or speaker's mouth follows the voice.
# One 2 s shot's reading scatters by +-500 ms, so the reading is pooled over shots, and judged against its
# own null (the same mouths against the clip's sound circularly shifted by seconds) and its spread
# (a bootstrap over shots). Needs no VAD: singing is not speech to Silero but moves the lips like it.

POOL_MIN_SHOT_S = 1.5  # shorter shots give a face too few frames to follow
POOL_EDGE_S = 0.1  # kept clear of the cuts either side of a shot
POOL_MAX_TOTAL_S = 40.0  # at most this much of the clip's face shots is decoded and landmarked
POOL_FRAME_STEP = 1  # every frame: at every other frame (12.5 fps) tracks lose the face (real video: 531 vs 989 frames, z 2.0 vs 5.9)
# Face detection (HOG, ~80 ms a 480-wide frame) is most of the cost: the pooled reading detects on a
# 320-wide copy (a face of >= ~1/4 of the frame height). Every 5th frame as lip sync: every 10th lost the
# lips' signal on the real video (z 1.2 instead of 5.9: landmarks fitted in stale boxes).
POOL_DETECT_EVERY = 5
POOL_DETECT_WIDTH = 320
# Shots with a sampled face needed before any landmarking: the bootstrap over shots needs several, and on the
# real video readings of <= 6 shots never stood 2 null sd high while 17-18 shots stood 4.6-5.9; it also
# spares the cost (7 s on the 60 s 720p benchmark clip, 5 face shots, a reading at z -0.2).
POOL_MIN_SHOTS = 8
# The face analysis looks at a bounded number of sampled frames spread over the clip (video.face_frames); on
# a long clip with many shots that leaves most shots unseen (the 212 s music video: 36 of its 136 shots,
# 6 with a face, too few to pool). Then up to this many of the unseen shots of >= POOL_MIN_SHOT_S get one
# sampled frame each looked at for a face, at POOL_DETECT_WIDTH (as the pooled reading detects).
POOL_FACE_SEARCH_FRAMES = 64
# The pooled reading searches +-MAX_LAG_S, and only when that reading is not accepted searches again over
# +-POOL_WIDE_LAG_S, judged against the null of that wider search: an offset past the edge would otherwise go
# unmeasured and spare a badly synced clip its sync score. Not wide from the start: on the real video the
# wider null lowers every peak's height by ~1 sd (4.1-4.8 instead of 4.7-6.0), and a -300 ms copy fell to 3.99.
POOL_WIDE_LAG_S = 1.0
POOL_NULL_MIN_S = 2.0  # the null's circular shifts stay this far from the true alignment either way
POOL_NULL_SHIFTS = 40
POOL_BOOT = 300
POOL_TOLERANCE_S = 0.04
POOL_MIN_Z = 4.0
POOL_MIN_CONFIDENCE = 0.75


@dataclass(frozen=True)
class PooledLipOffset:
    offset_s: float  # positive: the audio is late
    correlation: float
    shots: int
    frames: int
    null_mean: float
    null_sd: float
    z: float  # the peak in standard deviations of the null's peaks
    interval_s: tuple[float, float]  # bootstrap over shots, 5th..95th percentile
    concentration: float  # share of the bootstrap's readings within POOL_TOLERANCE_S of the pooled one
    significance: float
    confidence: float
    at_edge: bool
    searched_s: float = MAX_LAG_S  # lags of +-this were searched

    def to_evidence(self) -> dict[str, object]:
        return {
            "offset_ms": round(self.offset_s * 1000.0, 1), "confidence": round(self.confidence, 4),
            "correlation": round(self.correlation, 4), "shots": self.shots, "frames": self.frames,
            "null_mean": round(self.null_mean, 4), "null_sd": round(self.null_sd, 4), "peak_z": round(self.z, 2),
            "interval_ms": [round(self.interval_s[0] * 1000.0, 1), round(self.interval_s[1] * 1000.0, 1)],
            "concentration": round(self.concentration, 4), "significance": round(self.significance, 4),
            "lag_at_search_edge": self.at_edge, "searched_ms": round(self.searched_s * 1000.0),
        }


def face_shot_spans(
    shot_spans: list[tuple[float, float]], face_times: list[float], min_shot_s: float = POOL_MIN_SHOT_S
) -> list[tuple[float, float]]:
    """Shots of at least min_shot_s where a sampled frame showed a face, less POOL_EDGE_S at either cut."""
    return [
        (s0 + POOL_EDGE_S, s1 - POOL_EDGE_S)
        for s0, s1 in shot_spans
        if s1 - s0 >= min_shot_s and any(s0 <= t < s1 for t in face_times)
    ]


def search_face_shots(
    decoded: DecodedClip,
    shot_spans: list[tuple[float, float]],
    faces_by_sample: dict[int, list[object]],
    limit: int = POOL_FACE_SEARCH_FRAMES,
) -> tuple[list[float], int]:
    """(times of sampled frames where a face was found, frames looked at) in shots of >= POOL_MIN_SHOT_S that
    the face analysis did not look at: one sample each, nearest the shot's middle; evenly spaced shots
    when there are more than `limit`."""
    looked_at = [s.time_s for s in decoded.samples if s.index in faces_by_sample]
    unseen = []
    for s0, s1 in shot_spans:
        if s1 - s0 < POOL_MIN_SHOT_S or any(s0 <= t < s1 for t in looked_at):
            continue
        inside = [s for s in decoded.samples if s0 + POOL_EDGE_S <= s.time_s < s1 - POOL_EDGE_S]
        if inside:
            unseen.append(min(inside, key=lambda s: abs(s.time_s - (s0 + s1) / 2.0)))
    if len(unseen) > limit:
        unseen = [unseen[k] for k in np.linspace(0, len(unseen) - 1, limit).round().astype(int)]
    detected = detect_faces_in([s.rgb for s in unseen], detect_width=POOL_DETECT_WIDTH)
    return [s.time_s for s, boxes in zip(unseen, detected) if boxes], len(unseen)


def best_shot_tracks(span_tracks: list[SpanTracks]) -> list[MouthTrack]:
    """Per span, the face that moves its mouth most (coverage x spread), cut to the span itself."""
    out = []
    for st in span_tracks:
        usable = [t for t in st.tracks if t.coverage >= MIN_COVERAGE]
        if not usable:
            continue
        best = max(usable, key=lambda t: t.coverage * float(np.nanstd(t.opening)))
        inside = (best.times_s >= st.span[0]) & (best.times_s <= st.span[1])
        out.append(MouthTrack(st.span, best.times_s[inside], best.opening[inside], best.centre_x, best.coverage))
    return out


def pooled_tracks(path: str | Path, spans: list[tuple[float, float]], max_total_s: float = POOL_MAX_TOTAL_S,
                  timeout_s: float = 120.0) -> list[MouthTrack]:
    """The mouth track of each span's most moving face, as the pooled reading landmarks it."""
    return best_shot_tracks(mouth_tracks(path, spans, max_total_s=max_total_s, timeout_s=timeout_s,
                                         frame_step=POOL_FRAME_STEP, detect_every=POOL_DETECT_EVERY,
                                         detect_width=POOL_DETECT_WIDTH))


def _track_sums(
    tracks: list[MouthTrack], env_t: np.ndarray, env: np.ndarray, lags: np.ndarray, shift_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per track, the sum over its frames of z(mouth) x z(envelope at t + lag + shift_s) for every lag,
    and its frame count: the pooled correlation of any set of tracks is sum(sums) / sum(counts). A
    non-zero shift wraps round the envelope (a circular shift: the null keeps the sound's own rhythm)."""
    period = float(env_t[-1] - env_t[0]) + (float(env_t[1] - env_t[0]) if env_t.size > 1 else 0.0)
    sums, counts = [], []
    for piece in map(_mouth_signal, tracks):
        if piece is None:
            continue
        times, mouth = piece
        at = times[None, :] + lags[:, None]
        if shift_s:
            at = env_t[0] + np.mod(at + shift_s - env_t[0], period)
        sound = np.interp(at, env_t, env)
        sd = sound.std(axis=1, keepdims=True)
        sound = np.where(sd > 1e-9, (sound - sound.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-9), 0.0)
        sums.append(sound @ mouth)
        counts.append(mouth.size)
    if not sums:
        return np.zeros((0, lags.size)), np.zeros(0)
    return np.array(sums), np.array(counts, dtype=np.float64)


def pooled_lip_offset(
    tracks: list[MouthTrack], env_t: np.ndarray, env: np.ndarray, *, seed: int = 0, max_lag_s: float = MAX_LAG_S
) -> PooledLipOffset | None:
    """The offset at which the mouths of all shots, pooled, correlate best with the voice-band envelope.

    Confidence = significance x concentration:
    - significance: (1 - Q(z))^M, z = the peak's height in sd of the null (the pooled peak, searched over
      the same lags, with the envelope circularly shifted by POOL_NULL_SHIFTS amounts of at least
      POOL_NULL_MIN_S), M = the seconds of sound those shifts range over (about the independent tries);
    - concentration: the share of a bootstrap over shots that reads within POOL_TOLERANCE_S of the pooled
      lag (a reading carried by one or two shots spreads).
    None with fewer than POOL_MIN_SHOTS followed shots or MIN_FRAMES frames, or a clip too short for a null.
    """
    from scipy import special

    lags = np.arange(-max_lag_s, max_lag_s + 1e-9, LAG_STEP_S)
    sums, counts = _track_sums(tracks, env_t, env, lags)
    period = float(env_t[-1] - env_t[0]) if env_t.size > 1 else 0.0
    if counts.size < POOL_MIN_SHOTS or counts.sum() < MIN_FRAMES or period < 2 * POOL_NULL_MIN_S + 1.0:
        return None
    curve = sums.sum(axis=0) / counts.sum()
    lag, r = _peak(curve, lags)
    null_peaks = []
    for shift in np.linspace(POOL_NULL_MIN_S, period - POOL_NULL_MIN_S, POOL_NULL_SHIFTS):
        s, c = _track_sums(tracks, env_t, env, lags, float(shift))
        null_peaks.append(float((s.sum(axis=0) / c.sum()).max()))
    null = np.array(null_peaks)
    null_sd = max(float(null.std()), 1e-9)
    z = (r - float(null.mean())) / null_sd
    tries = max(1.0, period - 2 * POOL_NULL_MIN_S)
    significance = float((1.0 - 0.5 * special.erfc(z / np.sqrt(2.0))) ** tries)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(POOL_BOOT):
        pick = rng.integers(0, counts.size, counts.size)
        draws.append(_peak(sums[pick].sum(axis=0) / counts[pick].sum(), lags)[0])
    boot = np.array(draws)
    concentration = float(np.mean(np.abs(boot - lag) <= POOL_TOLERANCE_S))
    at_edge = abs(lag) >= max_lag_s - LAG_STEP_S
    return PooledLipOffset(
        offset_s=lag, correlation=r, shots=int(counts.size), frames=int(counts.sum()),
        null_mean=float(null.mean()), null_sd=null_sd, z=z,
        interval_s=(float(np.percentile(boot, 5)), float(np.percentile(boot, 95))),
        concentration=concentration, significance=significance,
        confidence=0.0 if at_edge else significance * concentration, at_edge=at_edge, searched_s=max_lag_s,
    )


def pooled_lip_offset_widening(tracks: list[MouthTrack], env_t: np.ndarray, env: np.ndarray) -> PooledLipOffset | None:
    """The pooled reading over +-MAX_LAG_S when it is accepted; else the one over +-POOL_WIDE_LAG_S when that
    is accepted (judged against its own, wider null) or the narrow one peaked at its edge; else the narrow one.
    (An offset past the narrow edge may peak there or on a lesser bump inside it.)"""
    narrow = pooled_lip_offset(tracks, env_t, env)
    if narrow is None or lip_offset_accepted(narrow)[0]:
        return narrow
    wide = pooled_lip_offset(tracks, env_t, env, max_lag_s=POOL_WIDE_LAG_S)
    return wide if wide is not None and (lip_offset_accepted(wide)[0] or narrow.at_edge) else narrow


def lip_offset_accepted(pooled: PooledLipOffset | None) -> tuple[bool, str]:
    """Whether the pooled lip reading may stand as the clip's offset, and if not, why."""
    if pooled is None:
        return False, f"fewer than {POOL_MIN_SHOTS} shots of >= {POOL_MIN_SHOT_S} s with a followed face"
    if pooled.at_edge:
        return False, f"the lips' best lag lies at the edge of the +-{pooled.searched_s:g} s searched"
    if pooled.z < POOL_MIN_Z:
        return False, f"the lips' peak stands only {pooled.z:.1f} null sd high (at least {POOL_MIN_Z:.1f} needed)"
    if pooled.confidence < POOL_MIN_CONFIDENCE:
        return False, f"lip reading confidence {pooled.confidence:.2f} < {POOL_MIN_CONFIDENCE:.2f}"
    return True, ""


def with_lip_offset(
    value: MetricValue,
    evidence: dict[str, object],
    path: str | Path,
    decoded: DecodedClip,
    shot_spans: list[tuple[float, float]],
    faces_by_sample: dict[int, list[object]] | None,
    *,
    version: str = "",
) -> tuple[MetricValue, dict[str, object]]:
    """The sync offset metric and evidence: the motion-based one (metrics.sync) when it is measured, else
    the pooled lip reading when it is accepted (evidence "method": "lips", with its own confidence), else
    the motion-based not-measured one with the lip reading's reason added under "lip_offset"."""
    if value.status == "measured":
        return value, evidence
    if faces_by_sample is None or not decoded.has_audio:
        return value, evidence
    face_times = [s.time_s for s in decoded.samples if faces_by_sample.get(s.index)]
    spans = face_shot_spans(shot_spans, face_times)
    search: dict[str, object] = {}
    if len(spans) < POOL_MIN_SHOTS:  # a long clip: the face analysis saw only some of its shots
        found, looked = search_face_shots(decoded, shot_spans, faces_by_sample)
        search = {"face_search": {"frames": looked, "faces": len(found)}}
        spans = face_shot_spans(shot_spans, face_times + found)
    if len(spans) < POOL_MIN_SHOTS:
        evidence["lip_offset"] = {"reason": f"only {len(spans)} shot(s) of >= {POOL_MIN_SHOT_S} s with a face", **search}
        return value, evidence
    tracks = pooled_tracks(path, spans)
    env_t, env = speech_envelope(mono(decoded), decoded.audio_rate, decoded.audio_start_s)
    pooled = pooled_lip_offset_widening(tracks, env_t, env)
    ok, reason = lip_offset_accepted(pooled)
    lip: dict[str, object] = pooled.to_evidence() if pooled is not None else {}
    lip.update(search)
    if not ok:
        lip["reason"] = reason
        evidence["lip_offset"] = lip
        return value, evidence
    assert pooled is not None
    combined = dict(evidence)
    combined.update({
        "method": "lips", "offset_ms": lip["offset_ms"], "confidence": lip["confidence"], "lip_offset": lip,
        "motion_reason": evidence.get("reason"),
    })
    combined.pop("reason", None)
    score = offset_score(pooled.offset_s)  # as the motion-based offset
    tool = "expert:dlib-landmarks+voice-band-envelope (pooled over shots)"
    return measured("sync_offset", score, tool, version, combined), combined
