"""Camera adherence: pan / tilt / zoom / static from global motion per shot, and its metric against the script."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.engine.prerequisites import need

from scoring.engine.decode import decode_clip
from scoring.engine.metrics.shot import measure_camera_motion, scale_from_face, shot_metrics
from scoring.engine.segmentation import active_area, segment


def test_each_shot_camera_motion_is_classified(synth) -> None:
    clip = synth("cuts_pans")  # astronaut pan, coffee tilt, rocket pan, chelsea zoom, immunohistochemistry static
    decoded = decode_clip(clip.path)
    result = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    kinds = [
        measure_camera_motion(decoded.thumbs, decoded.timestamps_s, s.start_frame, s.end_frame, decoded.fps)
        for s in result.shots
    ]
    assert [k.kind for k in kinds if k is not None] == ["pan", "tilt", "pan", "zoom", "static"]
    pan = kinds[0]
    assert pan is not None and pan.pan_per_s > 0  # the virtual camera moves right across the photo


@pytest.mark.parametrize(("name", "kind"), [("single_zoom_out", "zoom"), ("single_tilt", "tilt")])
def test_single_shot_motion(synth, name: str, kind: str) -> None:
    decoded = decode_clip(synth(name).path)
    motion = measure_camera_motion(decoded.thumbs, decoded.timestamps_s, 0, decoded.frame_count, decoded.fps)
    assert motion is not None and motion.kind == kind
    if name == "single_zoom_out":
        assert motion.zoom_per_s < 0


def test_camera_motion_metric_against_the_script(synth, make_script) -> None:
    clip = synth("cuts_pans")
    decoded = decode_clip(clip.path)
    script = make_script(list(clip.shot_starts_s), clip.duration_s)  # every shot scripted as "pan"
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                  [(s.start_s, s.end_s) for s in script.shots], script.duration_s)
    metrics = shot_metrics(seg, script, decoded, use_expert_models=False)
    motion = metrics["shot_camera_motion"]
    assert motion.status == "measured" and motion.value == pytest.approx(2 / 5)  # two of five shots pan
    assert [row["kind"] for row in motion.raw["shots"]] == ["pan", "tilt", "pan", "zoom", "static"]
    # Shot scale needs the face detector: with the expert models off it is not measured, with a reason.
    scale = metrics["shot_camera_scale"]
    assert scale.status == "not_measured" and "face detector" in scale.reason
    # Without decoded frames, camera metrics are not measured rather than guessed.
    bare = shot_metrics(seg, script)
    assert bare["shot_camera_motion"].status == "not_measured"


def test_scale_from_face_height() -> None:
    assert [scale_from_face(h) for h in (0.02, 0.07, 0.15, 0.35, 0.7)] == [
        "extreme-long", "long", "medium", "close-up", "extreme-close-up"
    ]


def test_letterbox_and_pillarbox_bars_are_cropped() -> None:
    rng = np.random.default_rng(0)
    thumbs = np.zeros((20, 36, 64), dtype=np.uint8)
    thumbs[:, 4:32, 8:56] = rng.integers(30, 255, size=(20, 28, 48), dtype=np.uint8)
    rows, cols = active_area(thumbs)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (4, 32, 8, 56)
    # A dark picture without bars is left whole (no more than BORDER_MAX_SHARE is ever cut).
    dark = np.full((10, 36, 64), 10, dtype=np.uint8)
    assert active_area(dark) == (slice(0, 36), slice(0, 64))


def test_shot_scale_from_the_face_size(tmp_path, make_script) -> None:
    from scoring.engine.faces import faces_available
    from tests.engine.engine_synth import SynthShot, make_clip

    need(faces_available(), "dlib-bin / face-recognition-models are not installed (the `models` extra)")
    # A static close view of the astronaut's face (about half the frame height), then a coffee cup.
    clip = make_clip(tmp_path / "face.mp4", [SynthShot("astronaut", 2.0, "static", region=(0.45, 0.25)),
                                             SynthShot("coffee", 2.0, "static")], fps=25.0, size=(640, 360))
    decoded = decode_clip(clip.path)
    script = make_script(list(clip.shot_starts_s), clip.duration_s)
    script = replace(script, shots=(replace(script.shots[0], shot_scale="close-up"), *script.shots[1:]))
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                  [(s.start_s, s.end_s) for s in script.shots], script.duration_s)
    scale = shot_metrics(seg, script, decoded, use_expert_models=True)["shot_camera_scale"]
    assert scale.status == "measured" and scale.tool.startswith("expert:dlib")
    # Only the shot with a face is judged; its face fills ~half the height: a close-up, as scripted.
    assert scale.raw["compared"] == 1 and scale.raw["shots"][0]["measured"] == "close-up"
    assert scale.value == 1.0
