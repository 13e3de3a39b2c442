"""probe_clip and the ClipDecodeError contract: real streams read, garbage refused with a reason."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from scoring.engine import ClipDecodeError, ClipTimeoutError, probe_clip, score_clip
from scoring.engine.decode import decode_clip


def test_probe_reads_streams(synth) -> None:
    clip = synth("cuts_pans")
    probe = probe_clip(clip.path)
    assert probe.video_codec == "h264"
    assert (probe.width, probe.height) == (320, 180)
    assert probe.fps == pytest.approx(25.0)
    assert probe.frame_count == clip.frame_count
    assert probe.duration_s == pytest.approx(clip.duration_s, abs=0.1)
    assert "mp4" in probe.container_format
    assert probe.has_audio and probe.audio_codec == "aac"
    assert probe.sample_rate == 48_000 and probe.channels == 2
    assert probe.to_dict()["video_codec"] == "h264"


def test_probe_without_audio(synth) -> None:
    probe = probe_clip(synth("no_audio").path)
    assert not probe.has_audio
    assert probe.audio_codec is None and probe.sample_rate is None and probe.channels is None


def _audio_only(path: Path) -> Path:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=48_000, layout="mono")
        for i in range(0, 48_000, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48_000, i, Fraction(1, 48_000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("maker", "fragment"),
    [
        (lambda p: p.write_bytes(b"this is not a video " * 200) or p, "not a decodable media file"),
        (lambda p: p.write_bytes(b"") or p, "empty"),
        (lambda p: p, "does not exist"),
        (lambda p: Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(p, format="PNG") or p, "still image"),
        (_audio_only, "no video stream"),
    ],
    ids=["garbage", "empty", "missing", "png", "audio-only"],
)
def test_undecodable_files_raise_with_a_reason(tmp_path: Path, maker, fragment: str) -> None:
    path = tmp_path / "clip.mp4"
    maker(path)
    with pytest.raises(ClipDecodeError) as caught:
        probe_clip(path)
    assert fragment in caught.value.reason
    assert "clip.mp4" in str(caught.value)
    with pytest.raises(ClipDecodeError):
        score_clip(path, None)


def test_truncated_file_raises(synth, tmp_path: Path) -> None:
    data = synth("no_audio").path.read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])  # the index (moov) sits at the end: nothing is readable
    with pytest.raises(ClipDecodeError):
        score_clip(path, None)


def test_timeouts_are_enforced(synth) -> None:
    path = synth("cuts_pans").path
    with pytest.raises(ClipTimeoutError):
        probe_clip(path, timeout_s=1e-9)
    with pytest.raises(ClipTimeoutError):
        decode_clip(path, timeout_s=1e-9)
