"""decode_clip's per-frame streams: grey thumbnails and 48x27 RGB frames, aligned frame for frame,
bounded per frame (the clip itself is never held), and the pillar-boxed real footage's bars seen."""

from __future__ import annotations

import numpy as np

from scoring.engine.decode import SMALL_RGB_SIZE, THUMB_WIDTH, decode_clip


def test_small_rgb_stream_matches_the_thumbnails(synth) -> None:
    clip = synth("dissolves")
    decoded = decode_clip(clip.path)
    small = decoded.small_rgb
    assert small is not None and small.dtype == np.uint8
    assert small.shape == (decoded.frame_count, SMALL_RGB_SIZE[1], SMALL_RGB_SIZE[0], 3)
    # Same frames in the same order: the brightness of both streams moves together.
    grey_small = small.astype(np.float32).mean(axis=(1, 2, 3))
    grey_thumb = decoded.thumbs.astype(np.float32).mean(axis=(1, 2))
    assert np.corrcoef(grey_small, grey_thumb)[0, 1] > 0.95
    # Per frame the engine keeps ~6 KB, whatever the resolution of the clip.
    per_frame = (decoded.thumbs.nbytes + small.nbytes) / decoded.frame_count
    assert per_frame < 7_000 and decoded.thumbs.shape[2] == THUMB_WIDTH


def test_small_rgb_can_be_left_out(synth) -> None:
    decoded = decode_clip(synth("no_audio").path, keep_small_rgb=False)
    assert decoded.small_rgb is None and decoded.frame_count > 0


def test_sparse_full_resolution_frames_one_per_shot(synth) -> None:
    clip = synth("mixed_640")  # 640x360, five 2 s shots (two joined by a dissolve and a wipe)
    assert decode_clip(clip.path).full_frames == []  # opt-in
    decoded = decode_clip(clip.path, keep_full_frames=True)
    frames = decoded.full_frames
    assert frames and all(f.rgb.shape == (360, 640, 3) for f in frames)
    assert frames[0].index == 0 and frames[0].time_s == 0.0
    # Every hard-cut shot has a native-resolution frame of its own.
    starts = list(clip.shot_starts_s) + [clip.duration_s]
    for k, kind in enumerate(("first",) + clip.kinds):
        if kind in ("first", "cut"):
            assert any(starts[k] <= f.time_s < starts[k + 1] for f in frames), (k, [f.time_s for f in frames])
    assert len(frames) <= 12
