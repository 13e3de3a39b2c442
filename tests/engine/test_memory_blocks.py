"""The features computed a block at a time (so that a long clip's memory is not held in temporaries of the whole
clip) give what one pass over the whole clip gives (exactly, but for the phase correlation's last bits), and the
streamed BS.1770 loudness equals pyloudnorm's.

Each test shrinks a module's block size to a few frames or samples, so that every block edge is crossed many
times, and compares with a block size larger than the input (one pass)."""

from __future__ import annotations

import warnings
from dataclasses import asdict

import numpy as np
import pyloudnorm
import pytest
from tests.engine.conftest import ClipFactory

from scoring.engine import features, segmentation, speech
from scoring.engine.decode import DecodedClip, decode_clip
from scoring.engine.metrics import audio, sync

ONE_PASS = 1 << 30


def _frames(seed: int = 0, n: int = 90) -> np.ndarray:
    """Thumbnail-sized grey frames in [0, 1]: a few smooth pictures, panning, with cuts between them."""
    rng = np.random.default_rng(seed)
    from scipy import ndimage

    pictures = [ndimage.gaussian_filter(rng.random((60, 100)), 3.0) for _ in range(4)]
    frames = []
    for i in range(n):
        picture = pictures[(i // 25) % len(pictures)]
        frames.append(picture[10 + i % 7 : 46 + i % 7, 12 + i % 11 : 76 + i % 11])
    g = np.stack(frames).astype(np.float32)
    return (g - g.min()) / (g.max() - g.min())


def _both(monkeypatch: pytest.MonkeyPatch, settings: list[tuple[object, str]], small: int, compute):  # type: ignore[no-untyped-def]
    for module, name in settings:
        monkeypatch.setattr(module, name, ONE_PASS)
    whole = compute()
    for module, name in settings:
        monkeypatch.setattr(module, name, small)
    return whole, compute()


def test_pair_distances_by_blocks_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _frames()
    hists = features.histograms(np.round(g * 255).astype(np.uint8))
    rng = np.random.default_rng(1)
    a = rng.integers(0, g.shape[0], 200)
    b = np.clip(a + rng.integers(1, 13, 200), 0, g.shape[0] - 1)
    for spectra in (None, features.frame_spectra(g)):
        whole, blocks = _both(monkeypatch, [(features, "PAIRS_PER_PASS")], 7,
                              lambda: features.pair_distance(g, hists, a, b, spectra))
        # Equal but for the last bits of single precision: pocketfft rounds a batch of transforms a little
        # differently depending on how many it is given at once (motion ~1e-7 px, distances ~1e-8).
        assert np.array_equal(whole.hist, blocks.hist) and np.array_equal(whole.pixel, blocks.pixel)
        assert np.allclose(whole.compensated, blocks.compensated, rtol=0.0, atol=1e-6)
        for field, value in asdict(whole.motion).items():
            assert np.allclose(value, asdict(blocks.motion)[field], rtol=0.0, atol=1e-5), field


def test_per_frame_features_by_blocks_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _frames(2)
    thumbs = np.round(g * 255).astype(np.uint8)
    setting = [(features, "FRAMES_PER_PASS")]
    whole, blocks = _both(monkeypatch, setting, 8, lambda: features.histograms(thumbs))
    assert np.array_equal(whole, blocks)
    whole, blocks = _both(monkeypatch, setting, 8, lambda: features.frame_spectra(g))
    assert np.array_equal(whole, blocks)
    whole, blocks = _both(monkeypatch, setting, 8, lambda: features.picture_energy(g))
    assert all(np.array_equal(x, y) for x, y in zip(whole, blocks, strict=True))
    whole, blocks = _both(monkeypatch, [(segmentation, "FRAMES_PER_PASS")], 8, lambda: segmentation._split_profile(g, 4))
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(whole, blocks, strict=True))


def test_segmentation_by_blocks_equals_one_pass(synth: ClipFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = decode_clip(synth("mixed_640").path, keep_small_rgb=False, with_audio=False)
    settings = [(features, "FRAMES_PER_PASS"), (features, "PAIRS_PER_PASS"), (segmentation, "FRAMES_PER_PASS")]
    whole, blocks = _both(monkeypatch, settings, 16, lambda: segmentation.segment(
        decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s))
    assert whole.boundaries, "the clip has boundaries to find"
    assert [b.to_dict() for b in whole.raw_candidates] == [b.to_dict() for b in blocks.raw_candidates]
    assert [b.to_dict() for b in whole.boundaries] == [b.to_dict() for b in blocks.boundaries]


def _sync_clip(synth: ClipFactory) -> DecodedClip:
    return decode_clip(synth("sync_+0.2").path, keep_small_rgb=False)


def test_sync_envelopes_by_blocks_equal_one_pass(synth: ClipFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _sync_clip(synth)
    seg = segmentation.segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    grid = np.arange(0.0, decoded.duration_s, 1.0 / sync.GRID_HZ)
    masked = seg.transition_mask(decoded.timestamps_s, guard_frames=2)
    settings = [(sync, "VISUAL_FRAMES_PER_PASS"), (sync, "STFT_FRAMES_PER_PASS")]
    for feature in sync.VISUAL_FEATURES:
        whole, blocks = _both(monkeypatch, settings, 37, lambda: sync.visual_onset_envelope(decoded, masked, grid, feature))
        assert whole.max() > 0 and np.array_equal(whole, blocks), feature
    whole, blocks = _both(monkeypatch, settings, 37, lambda: sync.audio_onset_envelope(
        sync.mono(decoded), decoded.audio_rate, decoded.audio_start_s, grid))
    assert whole.max() > 0 and np.array_equal(whole, blocks)
    whole, blocks = _both(monkeypatch, settings, 37, lambda: sync.sync_metric(decoded, seg)[1])
    assert whole["offset_ms"] is not None and whole == blocks


def test_audio_frame_statistics_by_blocks_equal_one_pass(synth: ClipFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = decode_clip(synth("hiss_0.01").path, keep_small_rgb=False)
    whole, blocks = _both(monkeypatch, [(speech, "VAD_FRAMES_PER_PASS")], 13,
                          lambda: speech.energy_vad(speech.audio_16k(decoded)))
    assert np.array_equal(whole, blocks)
    for metric in (audio.noise_floor, audio.bandwidth):
        whole, blocks = _both(monkeypatch, [(audio, "AUDIO_FRAMES_PER_PASS")], 5, lambda: metric(decoded))
        assert whole.status == "measured" and whole == blocks, metric.__name__


def _pyloudnorm(sound: np.ndarray, rate: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(pyloudnorm.Meter(rate).integrated_loudness(sound.astype(np.float64)))


@pytest.mark.parametrize("channels, rate, seconds", [(2, 24_000, 13.37), (1, 16_000, 4.9), (5, 48_000, 2.05)])
def test_streamed_loudness_equals_pyloudnorm(channels: int, rate: int, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(channels)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * t) * (1.0 + 0.5 * np.sin(2 * np.pi * 0.7 * t)))[:, None]
    sound = (tone + rng.normal(0.0, 0.02, (n, channels))).astype(np.float32)
    sound[int(0.3 * n) : int(0.45 * n)] *= 0.001  # a quiet passage: the relative gate leaves its blocks out
    if channels == 1:
        sound = sound[:, 0]
    monkeypatch.setattr(audio, "LOUDNESS_SAMPLES_PER_PASS", 10_007)  # blocks and passes never line up
    assert audio.integrated_loudness(sound, rate) == pytest.approx(_pyloudnorm(sound, rate), abs=1e-9)


def test_streamed_loudness_of_silence_is_minus_infinity() -> None:
    silence = np.zeros((24_000, 2), dtype=np.float32)
    assert audio.integrated_loudness(silence, 24_000) == _pyloudnorm(silence, 24_000) == float("-inf")
