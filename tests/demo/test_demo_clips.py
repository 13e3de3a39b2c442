"""Rendered demo clips: real H.264 + AAC, and the picture and sound really match the ground truth."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from leaderboard.demo.generator import DemoManifest, render_clip

from .conftest import SLICE_MODELS, SLICE_PROMPTS
from .probe import audio_lag_ms, decode_audio, decode_grey, decode_rgb, frame_differences


def _truth(manifest: DemoManifest, slug: str) -> dict[str, Any]:
    return json.loads(manifest.truth[slug].read_text())


def _clip(manifest: DemoManifest, slug: str, prompt_id: str) -> Path:
    return manifest.out_dir / "clips" / slug / f"{prompt_id}.mp4"


def test_archives_hold_only_prompt_clips_and_a_manifest(demo_slice: DemoManifest) -> None:
    for slug in SLICE_MODELS:
        truth = _truth(demo_slice, slug)
        with zipfile.ZipFile(demo_slice.archives[slug]) as archive:
            names = sorted(archive.namelist())
            manifest = json.loads(archive.read("manifest.json"))
            present = [pid for pid in SLICE_PROMPTS if not truth["clips"][pid]["missing"]]
            assert names == sorted(["manifest.json"] + [f"{pid}.mp4" for pid in present])
            for pid in present:
                assert archive.read(f"{pid}.mp4") == _clip(demo_slice, slug, pid).read_bytes()
        assert set(manifest) == {"model", "notes", "clips"}
        assert manifest["clips"] == {pid: {"seed": truth["clips"][pid]["seed"]} for pid in present}


def test_the_missing_clip_model_leaves_its_prompt_out(demo_slice: DemoManifest) -> None:
    truth = _truth(demo_slice, "driftsync")
    assert truth["clips"]["narrative-001"]["missing"] is True
    assert demo_slice.missing["driftsync"] == ["narrative-001"]
    with zipfile.ZipFile(demo_slice.archives["driftsync"]) as archive:
        assert "narrative-001.mp4" not in archive.namelist()
    assert not _clip(demo_slice, "driftsync", "narrative-001").exists()


def test_clips_decode_as_h264_and_aac_with_the_right_size_and_duration(demo_slice: DemoManifest) -> None:
    for slug in SLICE_MODELS:
        truth = _truth(demo_slice, slug)
        for pid, clip in truth["clips"].items():
            if clip["missing"]:
                continue
            with av.open(str(_clip(demo_slice, slug, pid))) as container:
                video, sound = container.streams.video[0], container.streams.audio[0]
                assert video.codec_context.name == "h264"
                assert video.codec_context.pix_fmt == "yuv420p"
                assert (video.codec_context.width, video.codec_context.height) == (320, 180)
                assert sound.codec_context.name == "aac" and sound.codec_context.sample_rate == 48_000
                frames = sum(1 for _ in container.decode(video=0))
            assert frames == clip["frame_count"] == round(clip["duration_s"] * 24)
            samples, rate = decode_audio(_clip(demo_slice, slug, pid))
            assert abs(len(samples) / rate - clip["duration_s"]) < 0.05
            assert 0.02 < float(np.sqrt(np.mean(samples**2))) < 0.4  # sane level, not silent


def _within_shot_frames(clip: dict[str, Any]) -> list[int]:
    """Frames that should look like their predecessor: not a boundary, not an event's onset or decay."""
    excluded: set[int] = {0}
    for boundary in clip["boundaries"]:
        excluded.update(range(boundary["start_frame"], boundary["end_frame"] + 1))
    for event in clip["visual_events"]:
        excluded.update(range(event["frame"], event["frame"] + 16))
    return [k for k in range(clip["frame_count"]) if k not in excluded]


def test_hard_cuts_are_exactly_where_the_truth_says_and_nowhere_else(demo_slice: DemoManifest) -> None:
    for pid in ("dialogue-001", "narrative-001"):
        clip = _truth(demo_slice, "aurora-av")["clips"][pid]
        cuts = [b["frame"] for b in clip["boundaries"] if b["transition"] == "hard-cut"]
        assert len(cuts) >= 4
        diffs = frame_differences(decode_grey(_clip(demo_slice, "aurora-av", pid)))
        within = diffs[_within_shot_frames(clip)]
        weakest_cut = min(diffs[k] for k in cuts)
        assert weakest_cut > 3 * within.max(), (pid, weakest_cut, within.max())
        # Each cut is the largest change of its neighbourhood, so it sits on the stated frame.
        for k in cuts:
            assert diffs[k] == diffs[k - 3 : k + 4].max(), (pid, k)


def test_a_dissolve_blends_linearly_over_the_stated_frames(demo_slice: DemoManifest) -> None:
    clip = _truth(demo_slice, "aurora-av")["clips"]["advert-002"]
    (boundary,) = clip["boundaries"]
    assert boundary["transition"] == "dissolve" and boundary["frames"] == 12
    frames = decode_rgb(_clip(demo_slice, "aurora-av", "advert-002"))
    start, end = boundary["start_frame"], boundary["end_frame"]
    before, after = frames[start - 1], frames[end]
    direction = (after - before).ravel()
    alphas = []
    for k in range(start, end):
        # Least-squares share of the incoming picture in frame k (both shots move a little: approximate).
        alphas.append(float(np.dot((frames[k] - before).ravel(), direction) / np.dot(direction, direction)))
    expected = [(i + 1) / (boundary["frames"] + 1) for i in range(boundary["frames"])]
    assert np.all(np.diff(alphas) > 0), alphas
    assert np.max(np.abs(np.array(alphas) - expected)) < 0.12, alphas
    # No single frame carries the change: every step inside is a fraction of the whole transition.
    diffs = frame_differences(decode_grey(_clip(demo_slice, "aurora-av", "advert-002")))
    total = float(np.abs(frames[end].mean(axis=2) - frames[start - 1].mean(axis=2)).mean())
    assert diffs[start : end + 1].max() < 0.3 * total


@pytest.mark.parametrize("slug,stated", [("aurora-av", 0), ("driftsync", 400)])
def test_audio_events_lag_visual_events_by_the_stated_offset(demo_slice: DemoManifest, slug: str, stated: int) -> None:
    truth = _truth(demo_slice, slug)
    for pid in ("dialogue-001", "advert-002"):
        clip = truth["clips"][pid]
        assert clip["audio_offset_ms"] == stated
        for visual, sound in zip(clip["visual_events"], clip["audio_events"]):
            assert sound["time_s"] == pytest.approx(visual["time_s"] + stated / 1000, abs=1e-6)
        measured = audio_lag_ms(_clip(demo_slice, slug, pid), clip, fps=24)
        assert abs(measured - stated) <= 42, (pid, measured)  # within one frame at 24 fps


def test_truth_is_consistent_with_itself(demo_slice: DemoManifest) -> None:
    for slug in SLICE_MODELS:
        for pid, clip in _truth(demo_slice, slug)["clips"].items():
            if clip["missing"]:
                continue
            assert clip["generated_shot_count"] == len(clip["boundaries"]) + 1 == len(clip["shots"])
            frames = [b["frame"] for b in clip["boundaries"]]
            assert frames == sorted(frames) and all(0 < f < clip["frame_count"] for f in frames)
            for boundary in clip["boundaries"]:
                assert boundary["time_s"] == pytest.approx(boundary["frame"] / 24)
            for event in clip["visual_events"]:
                assert 0 < event["frame"] < clip["frame_count"]


def test_rendering_is_deterministic_and_the_same_serially_as_in_the_pool(demo_slice: DemoManifest, tmp_path: Path) -> None:
    again = tmp_path / "again.mp4"
    truth = render_clip("driftsync", "advert-002", 7, 320, 180, 24, again)
    assert again.read_bytes() == _clip(demo_slice, "driftsync", "advert-002").read_bytes()
    assert json.loads(json.dumps(truth)) == _truth(demo_slice, "driftsync")["clips"]["advert-002"]
