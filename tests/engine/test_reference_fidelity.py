"""Reference fidelity: the subject (dlib face embedding; colour and keypoints without a face) and the scene of the
reference images, judged only in the shots each reference names; bad reference paths give clear reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats
from tests.engine.engine_synth import SynthShot, render_frames, write_clip
from tests.engine.prerequisites import need
from tests.engine.vision_media import SINGER_TIMES_S, astronaut_face_crop, music_video_frames

from scoring.engine.config import EngineConfig
from scoring.engine.faces import faces_available
from scoring.engine.metrics.base import FAILED, MEASURED, NOT_MEASURED
from scoring.engine.pipeline import score_clip
from scoring.engine.script import PromptScript, prompt_from_dict

SIZE = (480, 270)


def _script(references: list[dict[str, object]]) -> PromptScript:
    shots = [
        {"start_s": 2.0 * i, "end_s": 2.0 * (i + 1), "caption": c, "shot_scale": "medium", "camera_angle": "eye-level",
         "camera_motion": "static", "transition_in": "none" if i == 0 else "hard-cut"}
        for i, c in enumerate(["She faces the camera.", "A cup of coffee on the table.", "The street outside."])
    ]
    return prompt_from_dict({
        "id": "ref", "category": "narrative", "style": "photo-realistic", "subject_realism": "real",
        "scene_realism": "real", "languages": [], "audio_classes": [], "duration_s": 6.0, "script": "Three shots.",
        "shots": shots, "references": references,
    })


REFS = [
    {"kind": "subject", "file": "references/astronaut.png", "name": "the astronaut", "shots": [1]},
    {"kind": "scene", "file": "references/cafe.png", "name": "the cafe table", "shots": [2]},
]


@pytest.fixture(scope="module")
def suite_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("suite")
    (root / "references").mkdir()
    Image.fromarray(astronaut_face_crop()).save(root / "references" / "astronaut.png")
    # The scene reference: the coffee photograph (another framing than the clip shows).
    frames, _, _ = render_frames([SynthShot("coffee", 0.04, "static", region=(0.4, 0.45))], 25.0, (400, 300))
    Image.fromarray(np.clip(frames[0], 0, 255).astype(np.uint8)).save(root / "references" / "cafe.png")
    return root


def _still(picture: np.ndarray, seconds: float = 2.0) -> list[np.ndarray]:
    frame = np.asarray(Image.fromarray(picture.astype(np.uint8)).resize(SIZE), dtype=np.float32)
    return [frame] * int(seconds * 25)


@pytest.fixture(scope="module")
def shot_frames() -> dict[str, np.ndarray]:
    """The first two shots' frames: the referenced subject and scene ("follows"), another person and
    another place ("ignores"); and the third shot's, which no reference names ("street")."""
    astronaut_shot, _, _ = render_frames([SynthShot("astronaut", 2.0, "static", region=(0.5, 0.35))], 25.0, SIZE)
    coffee_shot, _, _ = render_frames([SynthShot("coffee", 2.0, "pan")], 25.0, SIZE)
    rocket_shot, _, _ = render_frames([SynthShot("rocket", 2.0, "pan")], 25.0, SIZE)
    street, _, _ = render_frames([SynthShot("chelsea", 2.0, "static")], 25.0, SIZE)
    singer = _still(music_video_frames(SINGER_TIMES_S[:1], width=480)[0])
    return {
        "follows": np.stack(astronaut_shot + coffee_shot),
        "ignores": np.stack(singer + rocket_shot),
        "street": np.stack(street),
    }


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, shot_frames: dict[str, np.ndarray]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ref-clips")
    paths = {}
    for name in ("follows", "ignores"):
        paths[name] = root / f"{name}.mp4"
        write_clip(paths[name], [*shot_frames[name], *shot_frames["street"]], 25.0, audio=None)
    return paths


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "dsp"])
def test_following_the_references_scores_higher(suite_root: Path, clips: dict[str, Path], expert: bool) -> None:
    if expert:
        need(faces_available(), "dlib-bin / face-recognition-models not installed")
    config = EngineConfig(use_expert_models=expert)
    script = _script(REFS)
    follows = score_clip(clips["follows"], script, reference_root=suite_root, config=config).metrics
    ignores = score_clip(clips["ignores"], script, reference_root=suite_root, config=config).metrics
    for name in ("reference_subject_fidelity", "reference_scene_fidelity"):
        a, b = follows[name], ignores[name]
        assert a.status == MEASURED and b.status == MEASURED, (name, a.reason, b.reason)
        assert a.value > b.value + 0.25, (name, a.raw, b.raw)
        # Judged only in the shot the reference names.
        assert [row["scripted_shot"] for row in a.raw["shots"]] == ([1] if "subject" in name else [2])
    subject = follows["reference_subject_fidelity"]
    if expert:
        assert subject.tool == "expert:dlib-face-embedding" and subject.raw["shots"][0]["method"] == "face"
        assert ignores["reference_subject_fidelity"].raw["shots"][0]["method"] == "face"  # another person's face
    else:
        assert not subject.tool.startswith("expert:") and subject.raw["shots"][0]["method"] == "appearance"


def test_bad_references_and_absent_ones_say_why(suite_root: Path, clips: dict[str, Path]) -> None:
    config = EngineConfig(use_expert_models=False)
    escaping = _script([{"kind": "subject", "file": "../outside.png", "name": "x", "shots": [1]}])
    metric = score_clip(clips["follows"], escaping, reference_root=suite_root, config=config).metrics["reference_subject_fidelity"]
    assert metric.status == FAILED and "leaves the suite folder" in metric.reason
    missing = _script([{"kind": "scene", "file": "references/nope.png", "name": "x", "shots": [2]}])
    metric = score_clip(clips["follows"], missing, reference_root=suite_root, config=config).metrics["reference_scene_fidelity"]
    assert metric.status == FAILED and "not found" in metric.reason
    (suite_root / "references" / "broken.png").write_bytes(b"not a png")
    broken = _script([{"kind": "scene", "file": "references/broken.png", "name": "x", "shots": [2]}])
    metric = score_clip(clips["follows"], broken, reference_root=suite_root, config=config).metrics["reference_scene_fidelity"]
    assert metric.status == FAILED and "not a readable image" in metric.reason
    result = score_clip(clips["follows"], _script([]), reference_root=suite_root, config=config)
    for name in ("reference_subject_fidelity", "reference_scene_fidelity", "reference_voice_fidelity"):
        assert result.metrics[name].status == NOT_MEASURED and "has no" in result.metrics[name].reason
    assert result.dimensions["reference"] is None and "reference_fidelity" in result.evidence["aggregate"]["missing_dimensions"]
    no_root = score_clip(clips["follows"], _script(REFS), reference_root=None, config=config)
    assert "no reference_root" in no_root.metrics["reference_scene_fidelity"].reason


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "dsp"])
def test_graded_departures_from_the_references_rank_in_order(
    suite_root: Path, shot_frames: dict[str, np.ndarray], tmp_path: Path, expert: bool
) -> None:
    """The referenced subject and scene fade, step by step, into another person and another place (each frame
    a mix of the two clips above): the reference dimension falls at every step (Spearman -1)."""
    if expert:
        need(faces_available(), "dlib-bin / face-recognition-models not installed")
    config = EngineConfig(use_expert_models=expert)
    departures = [0.0, 0.25, 0.5, 0.75, 1.0]
    scores = []
    for share in departures:
        path = tmp_path / f"departed-{share:g}.mp4"
        mixed = (1.0 - share) * shot_frames["follows"] + share * shot_frames["ignores"]
        write_clip(path, [*mixed, *shot_frames["street"]], 25.0, audio=None)
        scores.append(score_clip(path, _script(REFS), reference_root=suite_root, config=config).dimensions["reference"])
    assert all(s is not None for s in scores), scores
    assert stats.spearmanr(departures, scores).statistic <= -0.95, scores
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores), scores
