"""Shot segmentation on synthetic footage: cuts and gradual transitions at known frames, no false cuts
from camera motion or flashes, the script-driven correction loop, and the DP alignment."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engine.straight_mix import dissolve_mix

from scoring.engine.decode import decode_clip
from scoring.engine.features import frame_spectra, linear_mix_fit, picture_energy
from scoring.engine.segmentation import (
    BLACK_LEVEL,
    BLACK_SPREAD,
    STRAIGHT_MIX_MAX_ENERGY,
    STRAIGHT_MIX_MAX_RATIO,
    STRAIGHT_MIX_MOTION_RATIO,
    Boundary,
    _best_straight_mix,
    _rolling_baseline,
    _through_black,
    align_shots,
    correct_boundaries,
    detect_boundaries,
    segment,
)

TOLERANCE_FRAMES = 2


def _detect(clip) -> list[Boundary]:
    decoded = decode_clip(clip.path)
    return [b for b in detect_boundaries(decoded.thumbs, decoded.timestamps_s, decoded.fps) if b.accepted]


def _match(clip, found: list[Boundary]) -> tuple[int, list[tuple[int, float, str, str]]]:
    """Greedy one-to-one matching of detected to true boundaries within the tolerance."""
    used: set[int] = set()
    matches = []
    for frame, kind in zip(clip.boundary_frames, clip.kinds):
        best = None
        for j, b in enumerate(found):
            error = b.time_s * clip.fps - frame
            if j not in used and abs(error) <= TOLERANCE_FRAMES and (best is None or abs(error) < abs(best[1])):
                best = (j, error)
        if best is not None:
            used.add(best[0])
            matches.append((frame, best[1], kind, found[best[0]].kind))
    return len(matches), matches


def test_cuts_and_gradual_transitions_found_within_two_frames(synth) -> None:
    true_positives = detected = truth = 0
    for name in ("cuts_pans", "dissolves", "mixed_640"):
        clip = synth(name)
        found = _detect(clip)
        tp, matches = _match(clip, found)
        true_positives += tp
        detected += len(found)
        truth += len(clip.boundary_frames)
        # Every matched boundary also has the right kind (cut vs dissolve/fade/wipe).
        assert all(kind == detected_kind for _, _, kind, detected_kind in matches), (name, matches)
    precision = true_positives / detected
    recall = true_positives / truth
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.9, (precision, recall)


def test_gradual_transitions_say_which_they_are(synth) -> None:
    # The expert path treats them apart (TransNet V2 places dissolves, not fades or wipes), and the shot
    # dimension's evidence shows which one was seen.
    dissolves = _detect(synth("dissolves"))  # dissolve, dissolve, fade through black, dissolve
    assert [b.transition for b in dissolves] == ["dissolve", "dissolve", "fade", "dissolve"]
    mixed = _detect(synth("mixed_640"))  # dissolve, cut, wipe, cut
    assert [b.transition for b in mixed] == ["dissolve", None, "wipe", None]


def test_a_fade_with_something_drawn_over_its_black_is_still_a_fade() -> None:
    # A logo, a caption or a graphic often stays on while the picture fades to black: the darkest frame is
    # then neither dark on average nor uniform, but most of it is black.
    rng = np.random.default_rng(5)
    size = (36, 64)
    shot_a, shot_b = rng.uniform(0.2, 0.7, size), rng.uniform(0.15, 0.65, size)
    gains = np.abs(np.linspace(-1.0, 1.0, 13))
    fade = np.stack([(shot_a if k < 6 else shot_b) * gain for k, gain in enumerate(gains)])
    yy, xx = np.mgrid[: size[0], : size[1]]
    disc = (yy - 18) ** 2 + (xx - 32) ** 2 < 9**2  # 12% of the frame
    overlaid = fade.copy()
    overlaid[:, disc] = 0.6
    assert _through_black(fade, 0, 12) and _through_black(overlaid, 0, 12)
    assert float(overlaid[6].mean()) > BLACK_LEVEL and float(overlaid[6].std()) > BLACK_SPREAD
    # Not a dissolve (its middle is a mix of the two pictures), nor a dip that leaves the picture dim but not
    # black (the lights going down to 30%).
    dissolve = np.stack([shot_a * (1 - w) + shot_b * w for w in np.linspace(0.0, 1.0, 13)])
    dimmed = np.stack([shot_a * max(0.3, gain) for gain in gains])
    assert not any(_through_black(clip, 0, 12) for clip in (dissolve, dimmed))


def test_hard_cuts_are_frame_exact(synth) -> None:
    clip = synth("cuts_pans")
    found = _detect(clip)
    assert [b.frame for b in found] == list(clip.boundary_frames)
    assert all(b.kind == "cut" and b.confidence > 0.5 for b in found)


def test_twelve_frame_dissolves_are_centred(synth) -> None:
    clip = synth("dissolves")
    found = _detect(clip)
    _, matches = _match(clip, found)
    assert len(matches) == len(clip.boundary_frames)
    for frame, error, kind, _ in matches:
        assert abs(error) <= TOLERANCE_FRAMES, (frame, error)
    gradual = [b for b in found if b.kind == "gradual"]
    assert all(b.start_s < b.time_s < b.end_s for b in gradual)


@pytest.mark.parametrize("name", ["single_pan", "single_zoom", "single_tilt", "single_zoom_out"])
def test_camera_motion_makes_no_false_cut(synth, name: str) -> None:
    assert _detect(synth(name)) == []


def test_popping_objects_and_decaying_flashes_are_not_boundaries(synth) -> None:
    clip = synth("local_events")  # 4 discs popping in and out, 4 flashes dying away, 2 real cuts
    found = _detect(clip)
    assert [b.frame for b in found] == list(clip.boundary_frames)
    decoded = decode_clip(clip.path)
    # Not even kept as sub-threshold candidates a script-driven split could promote.
    candidates = detect_boundaries(decoded.thumbs, decoded.timestamps_s, decoded.fps)
    assert [b.frame for b in candidates] == list(clip.boundary_frames)


def test_flashes_are_not_cuts(synth) -> None:
    clip = synth("sync_+0.0")  # 7 two-frame flashes and one real cut
    found = _detect(clip)
    assert [b.frame for b in found] == list(clip.boundary_frames)


def test_pure_detection_without_a_script(synth) -> None:
    clip = synth("cuts_pans")
    decoded = decode_clip(clip.path)
    result = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    assert result.scripted_count is None
    assert result.corrections == [] and result.alignment == []
    assert result.detected_count == len(clip.boundary_frames) + 1
    assert result.boundaries_s == pytest.approx(list(clip.boundaries_s), abs=0.05)
    evidence = result.to_evidence()
    assert evidence["scripted_count"] is None and evidence["valid_count"] is None


# --- correction loop --------------------------------------------------------------------------


def test_split_at_sub_threshold_peak_when_script_has_more_shots(synth) -> None:
    clip = synth("weak_boundary")  # 4 shots; the middle cut joins two dim, blurred views of one texture
    decoded = decode_clip(clip.path)
    raw = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    assert raw.detected_count == 3  # the faint boundary is below threshold...
    weak = [b for b in raw.raw_candidates if not b.accepted]
    assert any(abs(b.frame - clip.boundary_frames[1]) <= 1 for b in weak)  # ...but kept as a candidate
    scripted = list(zip(clip.shot_starts_s, list(clip.shot_starts_s[1:]) + [clip.duration_s]))
    fixed = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted, clip.duration_s)
    assert fixed.detected_count == 4
    assert [c.action for c in fixed.corrections] == ["split"]
    assert "split" in fixed.corrections[0].reason and "3 shots, script has 4" in fixed.corrections[0].reason
    assert fixed.boundaries_s == pytest.approx(list(clip.boundaries_s), abs=0.05)
    assert fixed.valid_shot_count == 4
    assert [b.origin for b in fixed.boundaries].count("split") == 1


def test_merge_weakest_boundary_when_script_has_fewer_shots(synth) -> None:
    clip = synth("soft_boundary")  # 4 shots; the middle cut (two views of one texture) is weak but accepted
    decoded = decode_clip(clip.path)
    raw = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    assert raw.detected_count == 4
    weakest = min(raw.boundaries, key=lambda b: b.confidence)
    assert abs(weakest.frame - clip.boundary_frames[1]) <= 1
    assert weakest.confidence < 0.6  # ...weak enough for the first round
    scripted = [(0.0, 2.0), (2.0, 6.5), (6.5, 8.5)]
    fixed = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted, 8.5)
    assert fixed.detected_count == 3
    assert [c.action for c in fixed.corrections] == ["merge"]
    assert fixed.corrections[0].time_s == pytest.approx(weakest.time_s)
    assert fixed.valid_shot_count == 3


def test_strong_cuts_are_never_merged_away(synth) -> None:
    clip = synth("cuts_pans")  # 5 clean shots; the script asks for 3
    decoded = decode_clip(clip.path)
    fixed = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                    [(0.0, 3.0), (3.0, 6.0), (6.0, 8.6)], 8.6)
    assert fixed.detected_count == 5
    assert len(fixed.corrections) == 2  # two rounds tried, nothing weak enough
    assert all(c.action == "none" for c in fixed.corrections)
    assert all("no boundary is weaker" in c.reason for c in fixed.corrections)


def _candidate(t: float, confidence: float, accepted: bool) -> Boundary:
    return Boundary(t, int(t * 25), "cut", confidence, confidence / (1 - confidence), accepted, t, t)


def test_correction_rounds_relax_and_stop_after_two() -> None:
    stamps = np.arange(0, 10, 0.04)
    candidates = [
        _candidate(2.0, 0.9, True),
        _candidate(4.0, 0.55, True),  # merged in round 1 (< 0.6)
        _candidate(6.0, 0.65, True),  # merged in round 2 (< 0.67)
        _candidate(8.0, 0.9, True),
    ]
    kept, corrections = correct_boundaries(candidates, 3, stamps, 10.0, 25.0)
    assert [b.time_s for b in kept] == [2.0, 8.0]
    assert [(c.round, c.action, c.time_s) for c in corrections] == [(1, "merge", 4.0), (2, "merge", 6.0)]

    # Too few shots: the longest shot is split at its strongest sub-threshold peak first.
    candidates = [
        _candidate(1.0, 0.9, True),
        _candidate(3.0, 0.45, False),  # inside the long shot 1-10 s, strongest there
        _candidate(7.0, 0.35, False),
        _candidate(0.5, 0.49, False),  # stronger, but in the short first shot
    ]
    kept, corrections = correct_boundaries(candidates, 3, stamps, 10.0, 25.0)
    assert [b.time_s for b in kept] == [1.0, 3.0]
    assert [(c.round, c.action) for c in corrections] == [(1, "split")]
    # Candidates fainter than both rounds' floors are never promoted.
    kept, corrections = correct_boundaries([_candidate(5.0, 0.1, False)], 2, stamps, 10.0, 25.0)
    assert kept == [] and [c.action for c in corrections] == ["none", "none"]


def test_the_script_says_which_shot_swallowed_a_boundary() -> None:
    # Shots 0-1, 1-6 and 6-10 s; the script changes shot at 1, 6 and 8 s: the last shot runs across a
    # change, so it is split although the middle one is longer, and the middle one, which the script
    # does not change inside, is never split (its peak is motion).
    stamps = np.arange(0, 10, 0.04)
    candidates = [
        _candidate(1.0, 0.9, True),
        _candidate(6.0, 0.9, True),
        _candidate(3.5, 0.48, False),  # the strongest peak, in the longest shot
        _candidate(7.9, 0.40, False),
    ]
    kept, corrections = correct_boundaries(candidates, 5, stamps, 10.0, 25.0, [1.0, 6.0, 8.0, 9.2])
    assert [b.time_s for b in kept] == [1.0, 6.0, 7.9]
    assert [(c.round, c.action, c.time_s) for c in corrections] == [(1, "split", 7.9), (2, "none", None)]
    assert "across 2 scripted shot changes" in corrections[0].reason
    assert "near a scripted shot change inside a detected shot" in corrections[1].reason
    # Without the script's times, the longest shot goes first.
    kept, _ = correct_boundaries(candidates, 4, stamps, 10.0, 25.0)
    assert [b.time_s for b in kept] == [1.0, 3.5, 6.0]


def test_the_script_says_which_boundary_is_the_extra_one() -> None:
    # The script changes shot at 4 and 7 s; two weak boundaries lie near 4 s (a dissolve and, 0.4 s on, a
    # motion peak after it). One shot too many: the weaker of the two is the script's change (the nearest to
    # it), so the other one merges although it is stronger.
    stamps = np.arange(0, 10, 0.04)
    candidates = [
        _candidate(4.0, 0.52, True),
        _candidate(4.4, 0.56, True),
        _candidate(7.0, 0.9, True),
    ]
    kept, corrections = correct_boundaries(candidates, 3, stamps, 10.0, 25.0, [4.0, 7.0])
    assert [b.time_s for b in kept] == [4.0, 7.0]
    assert [(c.round, c.action, c.time_s) for c in corrections] == [(1, "merge", 4.4)]
    assert "weakest cut not at a scripted shot change at 4.40 s" in corrections[0].reason
    # Without the script's times, the weakest merges.
    kept, _ = correct_boundaries(candidates, 3, stamps, 10.0, 25.0)
    assert [b.time_s for b in kept] == [4.4, 7.0]


# --- alignment --------------------------------------------------------------------------------


def test_alignment_marks_unmatched_detected_shots_invalid() -> None:
    scripted = [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0)]
    detected = [(0.0, 2.9), (2.9, 3.4), (3.4, 6.1), (6.1, 9.0)]  # a spurious 0.5 s shot
    alignment, ious = align_shots(scripted, detected)
    assert alignment == [0, 2, 3]
    assert all(iou is not None and iou > 0.8 for iou in ious)


def test_alignment_is_order_preserving_and_leaves_missing_shots_unmatched() -> None:
    scripted = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]
    detected = [(0.0, 4.0), (4.0, 8.0)]  # two scripted boundaries never happened
    alignment, _ = align_shots(scripted, detected)
    assert sum(j is not None for j in alignment) == 2
    matched = [j for j in alignment if j is not None]
    assert matched == sorted(matched)
    # Overlap below the minimum IoU is no match at all.
    alignment, ious = align_shots([(0.0, 10.0)], [(0.0, 1.0), (1.0, 10.0)], min_iou=0.95)
    assert alignment == [None] and ious == [None]


def test_segment_alignment_with_a_shorter_clip_scales_script_time(synth) -> None:
    clip = synth("cuts_pans")  # 8.6 s; the script planned 17.2 s with the same proportions
    decoded = decode_clip(clip.path)
    starts = [2 * t for t in clip.shot_starts_s]
    scripted = list(zip(starts, starts[1:] + [2 * clip.duration_s]))
    result = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted,
                     2 * clip.duration_s)
    assert result.time_scale == pytest.approx(0.5, abs=0.01)
    assert result.alignment == [0, 1, 2, 3, 4]


def _texture(rng: np.random.Generator, h: int = 36, w: int = 64) -> np.ndarray:
    """A smooth, low-contrast grey picture (mid tones), as a float array in [0, 1]."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(rng.standard_normal((h, w)), 3.0)
    return 0.45 + 0.05 * noise / noise.std()


def _dip(first: np.ndarray, second: np.ndarray, fade: int = 8, shot: int = 40, floor: float = 0.0) -> np.ndarray:
    """`first` for a shot, fading to `floor` x its brightness over `fade` frames, then `second` fading
    in from there over `fade` frames and holding; light noise on every frame. uint8 (N, h, w)."""
    rng = np.random.default_rng(5)
    ramp = np.linspace(1.0, floor, fade + 1)[1:]
    gains = np.concatenate([np.ones(shot), ramp, ramp[::-1], np.ones(shot)])
    pictures = [first] * (shot + fade) + [second] * (fade + shot)
    frames = np.stack([p * k for p, k in zip(pictures, gains)])
    frames += rng.normal(0.0, 0.004, frames.shape)
    return np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)


def test_fade_through_black_between_pictures_of_similar_tones_is_found() -> None:
    """Two different pictures of the same tones (the second is the first mirrored: an identical histogram
    and a small grey difference) joined by a fade through black: one gradual boundary, at the black frame."""
    picture = _texture(np.random.default_rng(11))
    thumbs = _dip(picture, picture[:, ::-1].copy())
    fps = 25.0
    timestamps = np.arange(thumbs.shape[0]) / fps
    found = [b for b in detect_boundaries(thumbs, timestamps, fps) if b.accepted]
    assert [b.kind for b in found] == ["gradual"], found
    assert abs(found[0].frame - 48) <= TOLERANCE_FRAMES, found  # the fade is frames 40..55, black at 47/48


def test_blackout_back_to_the_same_picture_is_not_a_boundary() -> None:
    """Lights out and on again inside one shot: it passes through black, but both ends are one picture."""
    picture = _texture(np.random.default_rng(12))
    thumbs = _dip(picture, picture)
    fps = 25.0
    timestamps = np.arange(thumbs.shape[0]) / fps
    assert [b for b in detect_boundaries(thumbs, timestamps, fps) if b.accepted] == []


def _wipe(first: np.ndarray, second: np.ndarray, frames: int, axis: int, reverse: bool, shot: int = 40) -> np.ndarray:
    """`first`, then `second` uncovered by a soft straight edge sweeping across the frame over `frames`
    frames (along columns for axis 1, rows for axis 0; from the far side when `reverse`). uint8 (N, h, w)."""
    rng = np.random.default_rng(6)
    size = first.shape[axis]
    soft = max(2.0, 0.08 * size)
    position = np.arange(size, dtype=np.float64)
    if reverse:
        position = position[::-1]
    pictures = []
    for n in range(2 * shot + frames):
        alpha = np.clip((n - shot + 0.5) / frames, 0.0, 1.0)
        edge = alpha * (size + 2 * soft) - soft
        weight = np.clip((edge - position) / soft + 0.5, 0.0, 1.0)
        weight = weight[None, :] if axis == 1 else weight[:, None]
        pictures.append(first * (1.0 - weight) + second * weight)
    frames_out = np.stack(pictures) + rng.normal(0.0, 0.004, (len(pictures), *first.shape))
    return np.clip(np.round(frames_out * 255.0), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("length", "axis", "reverse"), [(24, 1, False), (16, 0, True), (10, 1, True)])
def test_wipes_are_found_where_the_edge_crosses_the_middle(length: int, axis: int, reverse: bool) -> None:
    rng = np.random.default_rng(21)
    thumbs = _wipe(_texture(rng), _texture(rng), length, axis, reverse)
    fps = 25.0
    timestamps = np.arange(thumbs.shape[0]) / fps
    found = [b for b in detect_boundaries(thumbs, timestamps, fps) if b.accepted]
    assert len(found) == 1, found
    assert abs(found[0].frame - (40 + length // 2)) <= TOLERANCE_FRAMES, found


def test_an_object_crossing_the_frame_is_not_a_wipe() -> None:
    """A wide bright bar sliding across an unchanged backdrop moves a split between 'old' and 'new'
    steadily across the frame as a wipe does, but leaves the backdrop, not a new picture, behind it."""
    rng = np.random.default_rng(22)
    backdrop = _texture(rng)
    frames = []
    for n in range(100):
        picture = backdrop.copy()
        x = int(round(-30 + n * 1.5))
        picture[:, max(0, x) : max(0, x + 30)] = 0.85
        frames.append(picture)
    noise = rng.normal(0.0, 0.004, (100, *backdrop.shape))
    thumbs = np.clip(np.round((np.stack(frames) + noise) * 255), 0, 255).astype(np.uint8)
    fps = 25.0
    timestamps = np.arange(thumbs.shape[0]) / fps
    assert [b for b in detect_boundaries(thumbs, timestamps, fps) if b.accepted] == []


def test_straight_mix_fit_tells_a_dissolve_from_motion_and_cuts() -> None:
    """`linear_mix_fit` over 13 frames: a dissolve between two pictures, even with both panning, is a
    straight mix; one picture panning (its frames ghost under a mix) and a hard cut are not. (Faster
    motion inside the dissolving pictures raises the ratio: a pixel a frame here reads ~0.8.)"""
    rng = np.random.default_rng(21)
    wide, other_wide = _texture(rng, 36, 120), _texture(rng, 36, 120)
    alphas = np.linspace(0.0, 1.0, 13)
    still = np.stack([(1 - a) * wide[:, :64] + a * other_wide[:, :64] for a in alphas])
    panning = np.stack(  # both pictures moving a pixel every third frame
        [(1 - a) * wide[:, k // 3 : k // 3 + 64] + a * other_wide[:, k // 3 : k // 3 + 64] for k, a in enumerate(alphas)]
    )
    pan = np.stack([wide[:, 4 * k : 4 * k + 64] for k in range(13)])
    cut = np.stack([wide[:, :64]] * 6 + [other_wide[:, :64]] * 7)
    assert linear_mix_fit(still, 0, 12).ratio < 0.05
    assert linear_mix_fit(panning, 0, 12).ratio < STRAIGHT_MIX_MAX_RATIO
    assert linear_mix_fit(pan, 0, 12).ratio > STRAIGHT_MIX_MOTION_RATIO
    assert linear_mix_fit(cut, 0, 12).ratio > 1.0
    fit = linear_mix_fit(still, 3, 10)
    assert fit.half_point == 6.5 and fit.ends_distance > 0.0


def test_change_level_near_the_start_ignores_the_undefined_frames() -> None:
    """DK is undefined for the first K frames (it would compare with frames before the clip; it reads 0).
    Those zeros once pulled the local level down there, so the first shot's own motion passed as a
    transition (spliced real footage: a false boundary in the first second of 9 of 12 clips)."""
    lag = 12
    values = np.concatenate([np.zeros(lag), np.full(100, 0.2)])
    assert np.allclose(_rolling_baseline(values, 38, 1, defined_from=lag), 0.2)
    assert _rolling_baseline(values, 38, 1)[lag] < 0.2  # the level before: pulled down by the zeros


def test_smooth_picture_panning_is_no_straight_mix_dissolve() -> None:
    """A smooth picture panning (as the demo generator's shots do) fits a straight mix about as well as a
    dissolve of real footage does, but its middle frames keep their contrast and structure, which a mix of
    two pictures never does: no dissolve. A dissolve between two such pictures is one."""
    from scipy import ndimage

    rng = np.random.default_rng(5)

    def smooth(width: int) -> np.ndarray:
        noise = ndimage.gaussian_filter(rng.standard_normal((36, width)), 8.0)
        return (0.45 + 0.2 * noise / noise.std()).astype(np.float32)

    wide = smooth(300)
    pan = np.stack([wide[:, 2 * k : 2 * k + 64] for k in range(60)])  # two pixels a frame
    fit = _best_straight_mix(pan, 30, [])
    assert fit is not None and fit.ratio <= STRAIGHT_MIX_MAX_RATIO, fit
    half = [int(np.floor(fit.half_point)), int(np.ceil(fit.half_point))]
    variance, gradient = picture_energy(pan[[fit.first, *half, fit.last]])
    held = 0.5 * sum(float(e[1] + e[2]) / float(e[0] + e[3]) for e in (variance, gradient))
    assert held > STRAIGHT_MIX_MAX_ENERGY
    assert dissolve_mix(pan, picture_energy(pan), 30, [], frame_spectra(pan)) is None

    first, second = smooth(64), smooth(64)
    alpha = np.clip((np.arange(60) - 24) / 12, 0.0, 1.0)[:, None, None]  # a 12-frame dissolve, half done at 30
    dissolve = ((1 - alpha) * first + alpha * second).astype(np.float32)
    found = dissolve_mix(dissolve, picture_energy(dissolve), 30, [], frame_spectra(dissolve))
    assert found is not None and abs(found.half_point - 30) <= 1, found


def test_long_blank_stretches_cost_no_long_mix_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    # A failed generation can hold minutes of black. Between blank frames every frame is a minimum of the
    # energy ratio the long-dissolve pass starts from, and no mix can fit there: none is tried. The cut
    # into and out of the black are still found.
    from scoring.engine import segmentation

    rng = np.random.default_rng(0)
    thumbs = np.zeros((3000, 36, 64), dtype=np.uint8)
    picture = rng.integers(0, 255, (36, 64), dtype=np.uint8)
    thumbs[:100], thumbs[-100:] = picture, picture[::-1]
    fits: list[float] = []
    best = segmentation._best_straight_mix

    def counted(g: np.ndarray, centre: float, *args: object, **kwargs: object) -> object:
        fits.append(centre)
        return best(g, centre, *args, **kwargs)

    monkeypatch.setattr(segmentation, "_best_straight_mix", counted)
    result = segment(thumbs, np.arange(3000) / 25.0, 25.0, 120.0)
    assert [round(t * 25) for t in result.boundaries_s] == [100, 2900]
    assert len(fits) <= 2, fits
