"""Technical video and audio metrics: graded degradations are ranked in order, no-audio clips are handled."""

from __future__ import annotations

import pytest

from scoring.engine import score_clip
from scoring.engine.metrics.base import MEASURED, NOT_MEASURED


def _values(synth, names: list[str], metric: str) -> tuple[list[float], list[dict]]:
    results = [score_clip(synth(name).path, None).metrics[metric] for name in names]
    assert all(r.status == MEASURED for r in results), [r.reason for r in results]
    return [r.value for r in results], [r.raw for r in results]


def _strictly_decreasing(values: list[float]) -> bool:
    return all(a > b for a, b in zip(values, values[1:]))


def test_blur_lowers_sharpness_in_order(synth) -> None:
    values, raws = _values(synth, ["blur_0", "blur_1", "blur_2", "blur_3"], "video_sharpness")
    assert _strictly_decreasing(values), values
    assert values[0] > 0.8 and values[-1] < 0.3
    widths = [raw["edge_width_px"] for raw in raws]
    assert widths == sorted(widths)


def test_noise_does_not_pass_for_sharpness(synth) -> None:
    # Grain adds fine gradients; the edge-width measure must not call a noisy picture crisper.
    clean = score_clip(synth("noise_0").path, None).metrics["video_sharpness"]
    noisy = score_clip(synth("noise_20").path, None).metrics["video_sharpness"]
    assert abs(noisy.raw["edge_width_px"] - clean.raw["edge_width_px"]) < 0.5
    blurred = score_clip(synth("blur_2").path, None).metrics["video_sharpness"]
    assert blurred.value < clean.value - 0.2


def test_noise_lowers_the_noise_score_in_order(synth) -> None:
    values, raws = _values(synth, ["noise_0", "noise_6", "noise_12", "noise_20"], "video_noise")
    sigmas = [raw["noise_sigma"] for raw in raws]
    assert sigmas == sorted(sigmas) and sigmas[0] < sigmas[-1]
    assert values[0] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values, values[1:])) and values[0] - values[-1] > 0.5, values
    assert _strictly_decreasing(values[1:]), values


def test_overexposure_lowers_exposure_in_order(synth) -> None:
    values, raws = _values(synth, ["gain_1", "gain_1.4", "gain_1.8", "gain_2.5"], "video_exposure")
    assert _strictly_decreasing(values), values
    clipped = [raw["clipped_share"] for raw in raws]
    assert clipped == sorted(clipped)


def test_flicker_lowers_the_flicker_score_in_order(synth) -> None:
    values, raws = _values(synth, ["flicker_0", "flicker_0.01", "flicker_0.03", "flicker_0.08"], "video_flicker")
    assert _strictly_decreasing(values), values
    assert values[0] == pytest.approx(1.0)


def test_clipping_lowers_the_clipping_score_in_order(synth) -> None:
    values, raws = _values(
        synth, ["audio_gain_1", "audio_gain_2", "audio_gain_4", "audio_gain_8"], "audio_clipping"
    )
    assert _strictly_decreasing(values), values
    assert values[0] == pytest.approx(1.0) and values[-1] < 0.1
    shares = [raw["near_full_scale_share"] for raw in raws]
    assert shares == sorted(shares)
    assert raws[-1]["true_peak_dbtp"] > raws[0]["true_peak_dbtp"]


def test_hiss_lowers_the_noise_floor_score_in_order(synth) -> None:
    values, raws = _values(synth, ["hiss_0.001", "hiss_0.01", "hiss_0.03", "hiss_0.1"], "audio_noise_floor")
    assert _strictly_decreasing(values), values
    floors = [raw["noise_dbfs"] for raw in raws]
    assert floors == sorted(floors)


def test_loudness_is_measured_in_lufs(synth) -> None:
    metric = score_clip(synth("audio_gain_1").path, None).metrics["audio_loudness"]
    assert metric.status == MEASURED and metric.tool.startswith("pyloudnorm")
    # A tone peaking at -6 dBFS in both channels: about -11 LUFS, louder than the -14 LUFS window.
    assert -14.0 < metric.raw["lufs"] < -8.0
    assert 0.0 < metric.value < 1.0
    louder = score_clip(synth("audio_gain_4").path, None).metrics["audio_loudness"]
    assert louder.raw["lufs"] > metric.raw["lufs"] and louder.value < metric.value


def test_silence_where_sound_was_asked(synth, make_script) -> None:
    clip = synth("hiss_0.001")  # the tone sounds half of every second, a -60 dBFS hiss in between
    asks_sound = make_script([0.0, 1.5], 3.0, audio_classes=("music",))
    metric = score_clip(clip.path, asks_sound).metrics["audio_silence"]
    assert metric.status == MEASURED
    assert 0.3 < metric.raw["silent_share"] < 0.6
    # Half-second pauses are how sound is, not drop-outs (runs of >= 1.2 s are; see test_audio_degradations.py).
    assert metric.raw["dropouts"] == 0 and metric.value == pytest.approx(1.0)
    loud = score_clip(synth("hiss_0.01").path, asks_sound).metrics["audio_silence"]
    assert loud.value == pytest.approx(1.0)  # a -40 dBFS hiss is not silence
    asks_silence = make_script([0.0, 1.5], 3.0, audio_classes=("silence",))
    assert score_clip(clip.path, asks_silence).metrics["audio_silence"].status == NOT_MEASURED
    assert score_clip(clip.path, None).metrics["audio_silence"].status == NOT_MEASURED


def test_clip_without_audio_scores_audio_zero_and_is_flagged(synth, make_script) -> None:
    result = score_clip(synth("no_audio").path, make_script([0.0, 1.5], 3.0))
    assert "no_audio" in result.flags
    for name in ("audio_loudness", "audio_clipping", "audio_silence", "audio_noise_floor"):
        metric = result.metrics[name]
        assert metric.status == MEASURED and metric.value == 0.0
        assert metric.raw == {"no_audio": True}
    assert result.dimensions["audio"] == 0.0
    assert result.metrics["sync_offset"].status == NOT_MEASURED
    assert "sync_offset" in result.missing
    assert result.dimensions["video"] is not None and result.dimensions["video"] > 0.5


@pytest.mark.parametrize("shape", [(270, 480), (37, 53), (9, 9), (4, 30)])
def test_the_slice_filters_match_scipy_ndimage(shape: tuple[int, int]) -> None:
    # The sharpness measure's grey range and gradient are computed with slices for speed; they must be
    # what ndimage's filters give (mirrored borders included), or the metric would drift.
    import numpy as np
    from scipy import ndimage

    from scoring.engine.metrics.video import grey_range, sobel_magnitude

    picture = np.random.default_rng(sum(shape)).normal(120.0, 40.0, shape).astype(np.float32)
    expected_range = ndimage.maximum_filter(picture, 9) - ndimage.minimum_filter(picture, 9)
    assert np.array_equal(grey_range(picture, 9), expected_range)
    expected_gradient = np.hypot(ndimage.sobel(picture, axis=1), ndimage.sobel(picture, axis=0))
    np.testing.assert_allclose(sobel_magnitude(picture), expected_gradient, rtol=1e-5, atol=1e-3)
