"""Which sampled frames the face analysis runs on: spread over every shot of the clip, within its budget."""

from __future__ import annotations

import numpy as np

from scoring.engine.decode import DecodedClip, SampledFrame
from scoring.engine.metrics.video import FACES_PER_SHOT, MAX_FACE_FRAMES, face_frames, shot_samples
from scoring.engine.segmentation import Boundary, SegmentationResult, shots_from_boundaries

FPS = 25.0


def _clip(shots: int, shot_frames: int = 100, sample_every: int = 12) -> tuple[DecodedClip, SegmentationResult]:
    """`shots` hard-cut shots of `shot_frames` frames, a sampled frame every `sample_every` frames."""
    n = shots * shot_frames
    timestamps = np.arange(n) / FPS
    pixel = np.zeros((2, 2, 3), dtype=np.uint8)
    samples = [SampledFrame(index, index / FPS, pixel) for index in range(0, n, sample_every)]
    decoded = DecodedClip(
        path="synthetic.mp4", width=64, height=36, fps=FPS, timestamps_s=timestamps,
        thumbs=np.zeros((n, 36, 64), dtype=np.uint8), samples=samples, duration_s=n / FPS, audio=None,
        audio_rate=24_000, audio_start_s=0.0, audio_source_channels=0, audio_peaks=None,
    )
    boundaries = [
        Boundary(time_s=k * shot_frames / FPS, frame=k * shot_frames, kind="cut", confidence=0.9, strength=3.0,
                 accepted=True, start_s=k * shot_frames / FPS, end_s=k * shot_frames / FPS)
        for k in range(1, shots)
    ]
    seg = SegmentationResult(raw_candidates=boundaries, boundaries=boundaries, corrections=[],
                             shots=shots_from_boundaries(boundaries, timestamps, n / FPS), scripted_count=None)
    return decoded, seg


def _shots_of(frames: list[SampledFrame], seg: SegmentationResult) -> list[int]:
    return [next(s.index for s in seg.shots if s.start_frame <= f.index < s.end_frame) for f in frames]


def test_a_few_shots_get_every_frame_shot_samples_would_pick() -> None:
    decoded, seg = _clip(shots=6)
    expected = [s for chosen in shot_samples(decoded, seg, FACES_PER_SHOT) for s in chosen]
    assert [f.index for f in face_frames(decoded, seg)] == sorted(f.index for f in expected)
    assert len(expected) == 6 * FACES_PER_SHOT


def test_fifteen_shots_each_get_a_face_frame_within_the_budget() -> None:
    # A script of MSAVBench's longest (15 shots) needs more than MAX_FACE_FRAMES / FACES_PER_SHOT shots:
    # the budget goes to every shot first, then to second and third frames.
    decoded, seg = _clip(shots=15)
    picked = face_frames(decoded, seg)
    assert len(picked) == MAX_FACE_FRAMES
    per_shot = np.bincount(_shots_of(picked, seg), minlength=15)
    assert per_shot.min() >= 2 and per_shot.max() <= FACES_PER_SHOT
    assert [f.index for f in picked] == sorted(f.index for f in picked)


def test_a_long_clip_spreads_its_budget_over_the_whole_clip() -> None:
    decoded, seg = _clip(shots=136, shot_frames=40, sample_every=10)
    picked = face_frames(decoded, seg)
    shots = _shots_of(picked, seg)
    assert len(picked) == MAX_FACE_FRAMES and len(set(shots)) == MAX_FACE_FRAMES  # one frame in each of 36 shots
    assert shots[0] == 0 and shots[-1] == 135  # from the first shot to the last, not the first 12 shots
    gaps = np.diff(shots)
    assert gaps.min() >= 3 and gaps.max() <= 5  # evenly spaced: 135 / 35 shots apart
