"""Cross-shot audio consistency (music key/tempo, speaker timbre) and voice fidelity to a reference
recording: the consistent or faithful version scores above the drifting or swapped one, on both paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leaderboard.demo.audio import voice_reference
from scoring.engine.metrics.base import MEASURED, NOT_MEASURED
from scoring.engine.metrics.music import key_agreement, music_consistency, tempo_distance
from scoring.engine.metrics.voice import timbre_consistency, voice_fidelity
from scoring.engine.speech import speech_activity
from tests.engine.audio_synth import SAMPLE_RATE, decoded_from_audio, normalise, script_for, song_track, speech_track

SHOT_S = 3.0
SHOTS = 4
SECONDS = SHOT_S * SHOTS


def _per_shot(pieces: list[np.ndarray]) -> np.ndarray:
    n = int(SHOT_S * SAMPLE_RATE)
    return np.concatenate([p[:n] for p in pieces])


def _voices(names: list[str]) -> np.ndarray:
    return normalise(_per_shot([speech_track(SHOT_S, voice=v, seed=i) for i, v in enumerate(names)]), -22.0)


def test_music_in_one_key_is_consistent_and_a_key_change_is_not() -> None:
    script = script_for(SECONDS, SHOT_S, audio_classes=("music",), dialogue=False)
    same = decoded_from_audio(normalise(song_track(SECONDS), -20.0))
    shifted = decoded_from_audio(
        normalise(_per_shot([song_track(SHOT_S, key=57 + 6 * (i % 2), seed=0) for i in range(SHOTS)]), -20.0)
    )
    consistent = music_consistency(same, script, None, speech_activity(same))
    changing = music_consistency(shifted, script, None, speech_activity(shifted))
    assert consistent.status == MEASURED and changing.status == MEASURED
    assert consistent.tool.startswith("dsp:") and consistent.version.startswith("engine ")
    assert consistent.value >= 0.8 and changing.value <= 0.3, (consistent.raw, changing.raw)
    no_music = script_for(SECONDS, SHOT_S, audio_classes=("speech",))
    assert music_consistency(same, no_music, None, None).status == NOT_MEASURED


def test_key_and_tempo_helpers() -> None:
    chroma = np.array([1.0, 0, 0.5, 0, 0.8, 0.6, 0, 0.9, 0, 0.5, 0, 0.3])
    assert key_agreement(chroma, chroma) == pytest.approx(1.0)
    assert key_agreement(chroma, np.roll(chroma, 6)) < 0.0
    assert tempo_distance(120.0, 60.0) == pytest.approx(0.0)  # the same pulse counted in halves
    assert tempo_distance(120.0, 132.0) > tempo_distance(120.0, 121.0)


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "dsp"])
def test_a_voice_that_keeps_its_timbre_scores_above_one_that_drifts(expert: bool) -> None:
    script = script_for(SECONDS, SHOT_S, audio_classes=("speech",))
    steady = decoded_from_audio(_voices(["barista"] * SHOTS))
    drifting = decoded_from_audio(_voices(["barista", "announcer", "cat_ja", "narrator"]))
    values = []
    for decoded in (steady, drifting):
        metric = timbre_consistency(decoded, script, None, speech_activity(decoded, use_expert_models=expert), expert)
        assert metric.status == MEASURED, metric.reason
        assert metric.tool.startswith("expert:resemblyzer" if expert else "dsp:")
        values.append(metric.value)
    assert values[0] > values[1] + 0.2, values


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "dsp"])
def test_voice_fidelity_prefers_the_referenced_voice(tmp_path: Path, expert: bool) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "barista.wav").write_bytes(voice_reference("barista", seed=7))
    refs = [{"kind": "voice", "file": "refs/barista.wav", "name": "the barista's voice", "shots": [1, 2]}]
    script = script_for(SECONDS, SHOT_S, audio_classes=("speech",), references=refs)
    faithful = decoded_from_audio(_voices(["barista"] * SHOTS))
    swapped = decoded_from_audio(_voices(["generic-a"] * SHOTS))
    values = []
    for decoded in (faithful, swapped):
        metric = voice_fidelity(decoded, script, tmp_path, use_expert_models=expert)
        assert metric.status == MEASURED, metric.reason
        assert metric.raw["references"][0]["shots"] == [1, 2]
        values.append(metric.value)
    assert values[0] > values[1] + 0.2, values


def test_voice_fidelity_says_why_it_is_not_measured(tmp_path: Path) -> None:
    decoded = decoded_from_audio(_voices(["barista"] * SHOTS))
    no_refs = script_for(SECONDS, SHOT_S, audio_classes=("speech",))
    assert "no voice reference" in voice_fidelity(decoded, no_refs, tmp_path).reason
    missing = script_for(SECONDS, SHOT_S, audio_classes=("speech",),
                         references=[{"kind": "voice", "file": "refs/nobody.wav", "name": "x", "shots": []}])
    metric = voice_fidelity(decoded, missing, tmp_path)
    assert metric.status == NOT_MEASURED and "refs/nobody.wav" in metric.reason and "not found" in metric.reason
    escaping = script_for(SECONDS, SHOT_S, audio_classes=("speech",),
                          references=[{"kind": "voice", "file": "../../etc/passwd", "name": "x", "shots": []}])
    assert "leaves the suite folder" in voice_fidelity(decoded, escaping, tmp_path).reason
    assert "reference_root" in voice_fidelity(decoded, missing, None).reason
