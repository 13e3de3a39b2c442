"""Mouth tracks for lip sync: a targeted PyAV pass over the speech spans where faces are visible.

The main decode keeps only sparse samples (2 a second), too few to follow a mouth; lip sync needs every
frame, but only inside speech and only where a face was seen. This module decodes just those spans (seeking
to each), at the samples' resolution, detects faces every DETECT_EVERY frames, follows them between
detections, and measures each face's mouth opening (inner-lip gap / face height, dlib 68 landmarks) on
every frame. Cost: ~5-8 ms a frame plus decoding; bounded by MAX_SPAN_TOTAL_S.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..decode import SAMPLE_MAX_WIDTH
from ..faces import FaceBox, detect_faces, landmarks_for, mouth_opening
from ..probe import open_container

DETECT_EVERY = 5  # frames between face detections (landmarks run on every frame)
MAX_TRACKS = 4
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


def _match(tracks: list[_Track], boxes: list[FaceBox], frame: int, n: int) -> None:
    free = list(boxes)
    for track in tracks:
        if not free:
            break
        cx, _ = track.box.centre
        best = min(free, key=lambda b: abs(b.centre[0] - cx))
        if abs(best.centre[0] - cx) <= TRACK_MATCH:
            track.box, track.last_seen = best, frame
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
    video_start_s: float = 0.0,
    max_total_s: float = MAX_SPAN_TOTAL_S,
    timeout_s: float = 120.0,
) -> list[SpanTracks]:
    """Mouth-opening tracks of the faces in each span (clip times, seconds from the first video frame;
    `video_start_s` is the stream time of that frame)."""
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
