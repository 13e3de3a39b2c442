"""Cross-shot consistency and layout on clips of real photographs: the same scene across shots scores higher than
different scenes, graded colour casts and lighting jumps rank in order, faces drive subject and layout metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tests.engine.engine_synth import SynthShot, render_frames, write_clip
from tests.engine.vision_media import SINGER_TIMES_S, astronaut, music_video_frames, requires_face_models

from scoring.engine.config import EngineConfig
from scoring.engine.decode import decode_clip
from scoring.engine.faces import faces_available, faces_for_frames
from scoring.engine.metrics.base import NOT_MEASURED
from scoring.engine.metrics.video import consistency_metrics, expected_people, shot_samples
from scoring.engine.pipeline import score_clip
from scoring.engine.script import PromptScript, prompt_from_dict
from scoring.engine.segmentation import segment

S = SynthShot
SAME_SCENE = [S("astronaut", 2.0, "pan", region=(0.4, 0.4)), S("astronaut", 2.0, "static", region=(0.5, 0.6)),
              S("astronaut", 2.0, "zoom", region=(0.45, 0.5))]
DIFFERENT_SCENES = [S("astronaut", 2.0, "pan"), S("rocket", 2.0, "static"), S("coffee", 2.0, "zoom")]


def _clip(path: Path, shots: list[SynthShot], alter: Callable[[int, np.ndarray], np.ndarray] | None = None) -> Path:
    """Render shots of real photographs (hard cuts), optionally altering each frame by its shot index."""
    frames, boundaries, _ = render_frames(shots, 25.0, (320, 180))
    if alter is not None:
        starts = [0, *boundaries]
        frames = [alter(int(np.searchsorted(starts, n, side="right") - 1), f) for n, f in enumerate(frames)]
    write_clip(path, frames, 25.0, audio=None)
    return path


def _script(captions: list[str], lighting: list[str] | None = None) -> PromptScript:
    shots = [
        {"start_s": 2.0 * i, "end_s": 2.0 * (i + 1), "caption": c, "shot_scale": "medium", "camera_angle": "eye-level",
         "camera_motion": "static", "transition_in": "none" if i == 0 else "hard-cut",
         **({"lighting": lighting[i]} if lighting else {})}
        for i, c in enumerate(captions)
    ]
    return prompt_from_dict({
        "id": "consistency", "category": "narrative", "style": "photo-realistic", "subject_realism": "real",
        "scene_realism": "real", "languages": [], "audio_classes": [], "duration_s": 2.0 * len(captions),
        "script": "A test.", "shots": shots,
    })


def _measure(path: Path, script: PromptScript | None = None, faces: bool = False) -> dict[str, object]:
    decoded = decode_clip(path)
    scripted = [(s.start_s, s.end_s) for s in script.shots] if script else None
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted_shots=scripted,
                  script_duration_s=script.duration_s if script else None)
    by_sample = None
    if faces:
        picked = [s for shot in shot_samples(decoded, seg, 3) for s in shot]
        by_sample = faces_for_frames([(s.index, s.rgb) for s in picked])
    metrics, _ = consistency_metrics(decoded, seg, script, by_sample, "dlib")
    return dict(metrics)


def test_the_same_scene_is_more_consistent_than_different_scenes(tmp_path: Path) -> None:
    same = _measure(_clip(tmp_path / "same.mp4", SAME_SCENE))
    different = _measure(_clip(tmp_path / "different.mp4", DIFFERENT_SCENES))
    for name in ("video_colour_consistency", "video_background_consistency", "video_style_consistency",
                 "video_subject_consistency"):
        a, b = same[name], different[name]
        assert a.measured and b.measured, (name, a.reason, b.reason)  # type: ignore[attr-defined]
        assert a.value > b.value + 0.2, (name, a.value, b.value)  # type: ignore[attr-defined]
    # Without the face analysis the subject is compared by colour and keypoints (DSP path).
    assert same["video_subject_consistency"].tool.startswith("numpy:centre-colour-histogram")  # type: ignore[attr-defined]
    assert same["video_layout_consistency"].status == NOT_MEASURED  # type: ignore[attr-defined]


def test_graded_colour_casts_and_lighting_jumps_rank_in_order(tmp_path: Path) -> None:
    casts = (0.0, 0.1, 0.2, 0.35, 0.5)
    colour, illumination = [], []
    for k, level in enumerate(casts):
        cast = np.array([1 + level, 1.0, 1 - level], dtype=np.float32)  # warmer: red up, blue down

        def warm(shot: int, frame: np.ndarray, cast: np.ndarray = cast) -> np.ndarray:
            return frame * cast if shot == 1 else frame

        colour.append(_measure(_clip(tmp_path / f"cast{k}.mp4", SAME_SCENE, warm))["video_colour_consistency"].value)  # type: ignore[attr-defined]
        gain = 1.0 - level  # the middle shot darker by up to half

        def dim(shot: int, frame: np.ndarray, gain: float = gain) -> np.ndarray:
            return frame * gain if shot == 1 else frame

        illumination.append(
            _measure(_clip(tmp_path / f"dim{k}.mp4", SAME_SCENE, dim))["video_illumination_consistency"].value  # type: ignore[attr-defined]
        )
    assert -stats.spearmanr(casts, colour).statistic >= 0.95, colour
    assert -stats.spearmanr(casts, illumination).statistic >= 0.95, illumination
    assert colour[0] > 0.8 and illumination[0] > 0.8


def test_a_scripted_lighting_change_is_not_an_inconsistency(tmp_path: Path) -> None:
    path = _clip(tmp_path / "night.mp4", SAME_SCENE, lambda shot, f: f * 0.35 if shot == 1 else f)
    plain = _measure(path, _script(["a", "b", "c"]))["video_illumination_consistency"]
    scripted = _measure(path, _script(["a", "b", "c"], ["daylight", "night", "daylight"]))["video_illumination_consistency"]
    assert plain.measured and plain.value < 0.2  # type: ignore[attr-defined]
    # Both pairs involve the night shot: nothing is left to compare, and the result says why.
    assert scripted.status == NOT_MEASURED and "lighting differs" in scripted.reason  # type: ignore[attr-defined]


def test_expected_people_from_captions() -> None:
    assert expected_people("Two dancers spin under the lights.") == 2
    assert expected_people("A woman reads by the window.") == 1
    assert expected_people("She looks towards the shuttle model.") == 1
    assert expected_people("Three friends laugh at the table.") == 3
    assert expected_people("The rocket stands on the pad.") is None
    assert expected_people("They walk into the crowd.") is None


@requires_face_models
def test_faces_drive_subject_consistency_and_layout(tmp_path: Path) -> None:
    singer = music_video_frames(SINGER_TIMES_S[:3], width=320)
    other = np.asarray(astronaut()[0:288, 0:512:1][::1], dtype=np.float32)
    from PIL import Image

    other_frame = np.asarray(Image.fromarray(other.astype(np.uint8)).resize((320, 180)), dtype=np.float32)

    def still_shots(pictures: list[np.ndarray], path: Path) -> Path:
        frames = [np.asarray(p, dtype=np.float32) for p in pictures for _ in range(50)]
        write_clip(path, frames, 25.0, audio=None)
        return path

    same = _measure(still_shots([singer[0], singer[1], singer[2]], tmp_path / "singer.mp4"),
                    _script(["A singer.", "The singer.", "He sings."]), faces=True)
    swapped = _measure(still_shots([singer[0], other_frame, singer[2]], tmp_path / "swap.mp4"),
                       _script(["A singer.", "Two singers.", "He sings."]), faces=True)
    subject_same, subject_swapped = same["video_subject_consistency"], swapped["video_subject_consistency"]
    assert subject_same.tool == "expert:dlib-face-embedding"  # type: ignore[attr-defined]
    assert subject_same.value > subject_swapped.value + 0.1, (subject_same.raw, subject_swapped.raw)  # type: ignore[attr-defined]
    # Captions name one person per shot: the singer's clip matches; 'Two singers.' over one face does not.
    assert same["video_layout_alignment"].value == pytest.approx(1.0)  # type: ignore[attr-defined]
    assert swapped["video_layout_alignment"].value < 1.0  # type: ignore[attr-defined]
    assert same["video_layout_consistency"].measured  # type: ignore[attr-defined]


def test_both_engine_paths_say_which_ran(tmp_path: Path) -> None:
    path = _clip(tmp_path / "paths.mp4", SAME_SCENE)
    dsp = score_clip(path, None, config=EngineConfig(use_expert_models=False)).to_dict()
    assert dsp["evidence"]["engine"]["path"] == "dsp"
    assert dsp["evidence"]["engine"]["faces"]["ran"] is False
    assert not [n for n, m in dsp["metrics"].items() if m["status"] == "measured" and m["tool"].startswith("expert:")]
    paths = dsp["evidence"]["engine"]["paths"]
    assert paths["expert"] == [] and "video_sharpness" in paths["dsp"] and "video_layout_consistency" in paths["not_measured"]
    if faces_available():
        expert = score_clip(path, None, config=EngineConfig(use_expert_models=True)).to_dict()
        assert expert["evidence"]["engine"]["path"] == "expert"
        assert expert["evidence"]["engine"]["faces"]["ran"] is True
        assert len(expert["evidence"]["faces"]) >= 3  # the sampled frames the face analysis looked at
        assert "video_sharpness" in expert["evidence"]["engine"]["paths"]["dsp"]  # DSP metrics run on both paths
    for result in (dsp,):
        for entry in result["metrics"].values():
            assert entry["version"].startswith("engine ") or entry["status"] != "measured"
