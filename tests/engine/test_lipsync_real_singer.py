"""Lip sync on real footage: a close-up of the singer in the transnetv2 music video, with its soundtrack shifted by
known offsets; the measured offset follows the shift, and a frozen picture (a still mouth) scores 0.

Silero VAD does not call singing over music speech, so the test gives the singing span as the speech
segment (what the VAD hands over on dialogue); the rest (faces, mouth tracks, envelope, offset) runs as in
score_clip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.engine.engine_synth import write_clip
from tests.engine.vision_media import SINGING_SPANS_S, music_video_span, requires_face_models

from scoring.engine.config import EngineConfig
from scoring.engine.decode import decode_clip
from scoring.engine.faces import faces_for_frames
from scoring.engine.metrics.base import MEASURED, NOT_MEASURED
from scoring.engine.metrics.lipsync import lipsync_metrics, speech_spans_with_faces
from scoring.engine.metrics.video import shot_samples
from scoring.engine.pipeline import score_clip
from scoring.engine.segmentation import segment

pytestmark = requires_face_models
SHIFT_S = 0.2


def _build(path: Path, frames: list[np.ndarray], audio: np.ndarray, rate: int, shift_s: float = 0.0, freeze: bool = False) -> Path:
    n = int(round(abs(shift_s) * rate))
    if shift_s > 0:  # audio late
        audio = np.concatenate([np.zeros((n, 2), np.float32), audio])[: len(audio)]
    elif shift_s < 0:
        audio = np.concatenate([audio[n:], np.zeros((n, 2), np.float32)])
    write_clip(path, [frames[0]] * len(frames) if freeze else frames, 25.0, audio=audio, audio_rate=rate)
    return path


def _lip(path: Path) -> tuple[dict[str, object], dict[str, object]]:
    decoded = decode_clip(path)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    picked = [s for shot in shot_samples(decoded, seg, 3) for s in shot]
    faces = faces_for_frames([(s.index, s.rgb) for s in picked])
    shots = [(shot.start_s, shot.end_s) for shot in seg.shots]
    metrics, evidence = lipsync_metrics(path, decoded, shots, ((0.0, decoded.duration_s),), faces)
    return dict(metrics), evidence


@pytest.fixture(scope="module")
def singer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, object], dict[str, object]]]:
    root = tmp_path_factory.mktemp("lipsync")
    frames, audio, rate = music_video_span(*SINGING_SPANS_S[1])
    return {
        "in_sync": _lip(_build(root / "sync.mp4", frames, audio, rate)),
        "late": _lip(_build(root / "late.mp4", frames, audio, rate, SHIFT_S)),
        "early": _lip(_build(root / "early.mp4", frames, audio, rate, -SHIFT_S)),
        "frozen": _lip(_build(root / "frozen.mp4", frames, audio, rate, freeze=True)),
    }


def test_the_measured_lip_offset_follows_a_known_audio_shift(singer) -> None:  # type: ignore[no-untyped-def]
    base = singer["in_sync"][1]["offset_ms"]
    late, early = singer["late"][1]["offset_ms"], singer["early"][1]["offset_ms"]
    assert base is not None and late is not None and early is not None
    # The source is lip-synced playback: about 0 (measured 52 ms); the shifts move it by +-200 ms (+-40 ms).
    assert abs(base) <= 120
    assert late - base == pytest.approx(SHIFT_S * 1000, abs=40)
    assert base - early == pytest.approx(SHIFT_S * 1000, abs=40)
    sync = singer["in_sync"][0]["sync_lip"]
    assert sync.status == MEASURED and sync.tool.startswith("expert:dlib-landmarks")  # type: ignore[attr-defined]
    assert sync.value > singer["late"][0]["sync_lip"].value  # type: ignore[attr-defined]
    assert sync.value > singer["early"][0]["sync_lip"].value  # type: ignore[attr-defined]
    assert singer["in_sync"][1]["correlation"] > 0.1


def test_a_still_mouth_during_speech_scores_zero(singer) -> None:  # type: ignore[no-untyped-def]
    frozen = singer["frozen"][0]["sync_lip"]
    assert frozen.status == MEASURED and frozen.value == 0.0  # type: ignore[attr-defined]
    # One face only: sound attribution needs several faces.
    attribution = singer["in_sync"][0]["sync_sound_attribution"]
    assert attribution.status == NOT_MEASURED and "two or more faces" in attribution.reason  # type: ignore[attr-defined]


def test_speech_spans_are_cut_at_shots_and_need_a_face() -> None:
    spans = speech_spans_with_faces(((1.0, 5.0), (7.0, 7.3)), [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0)], [2.5, 7.1])
    assert spans == [(1.0, 3.0)]  # shot 2 showed no face; the 0.3 s segment is too short


def test_not_measured_with_reasons_through_score_clip(tmp_path: Path) -> None:
    frames, audio, rate = music_video_span(204.2, 206.2)
    path = _build(tmp_path / "short.mp4", frames, audio, rate)
    dsp = score_clip(path, None, config=EngineConfig(use_expert_models=False))
    assert dsp.metrics["sync_lip"].status == NOT_MEASURED and "face landmarks" in dsp.metrics["sync_lip"].reason
    expert = score_clip(path, None, config=EngineConfig(use_expert_models=True))
    # Singing over music is not speech to Silero VAD: nothing to line the lips up with.
    assert expert.metrics["sync_lip"].status == NOT_MEASURED and "no speech" in expert.metrics["sync_lip"].reason
    assert expert.evidence["sync"]["lip"]["offset_ms"] is None


def test_sound_attribution_picks_the_face_whose_mouth_moves(tmp_path: Path) -> None:
    # Two faces side by side: the singing close-up on the left, a frozen frame of it on the right.
    frames, audio, rate = music_video_span(*SINGING_SPANS_S[1], size=(240, 180))
    duo = [np.concatenate([frame, frames[0]], axis=1) for frame in frames]
    path = tmp_path / "duo.mp4"
    write_clip(path, duo, 25.0, audio=audio, audio_rate=rate)
    metrics, _ = _lip(path)
    attribution = metrics["sync_sound_attribution"]
    assert attribution.status == MEASURED, attribution.reason  # type: ignore[attr-defined]
    [span] = attribution.raw["spans"]  # type: ignore[attr-defined]
    assert span["faces"] == 2 and span["speaker_x"] < 0.5  # the singing face, not its frozen twin
    assert span["margin"] > 0.05 and attribution.value > 0.2  # type: ignore[attr-defined]
