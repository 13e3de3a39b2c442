"""decode_clip: one streaming pass, timestamps from pts (variable frame rate), thumbnails, samples, audio."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from scoring.engine.decode import AUDIO_RATE, SAMPLE_MAX_WIDTH, THUMB_WIDTH, decode_clip, h264_reference_picture


def test_decode_outputs(synth) -> None:
    clip = synth("mixed_640")
    decoded = decode_clip(clip.path)
    assert decoded.frame_count == clip.frame_count
    assert decoded.fps == pytest.approx(30.0, rel=1e-3)
    assert decoded.timestamps_s[0] == 0.0 and np.all(np.diff(decoded.timestamps_s) > 0)
    assert decoded.duration_s == pytest.approx(clip.duration_s, abs=0.05)
    assert decoded.thumbs.shape == (clip.frame_count, 36, THUMB_WIDTH) and decoded.thumbs.dtype == np.uint8
    # About two RGB samples a second, at most SAMPLE_MAX_WIDTH wide, keeping the aspect ratio.
    assert len(decoded.samples) == pytest.approx(clip.duration_s * 2, abs=1)
    assert decoded.samples[0].rgb.shape == (270, SAMPLE_MAX_WIDTH, 3)
    assert decoded.audio is not None and decoded.audio.dtype == np.float32
    assert decoded.audio_rate == AUDIO_RATE and decoded.audio.shape[1] == 2
    assert decoded.audio.shape[0] / AUDIO_RATE == pytest.approx(clip.duration_s, abs=0.1)
    assert decoded.audio_mono.shape == (decoded.audio.shape[0],)
    assert decoded.audio_peaks is not None and decoded.audio_peaks.sample_rate == 48_000


def test_h264_reference_pictures_are_read_from_the_slice_header() -> None:
    # nal_ref_idc (bits 5-6 of a NAL header) of the first coded slice, after any SEI or delimiter.
    sei, aud = b"\x06\x05\x01\x80", b"\x09\xf0"
    unreferenced_b, referenced_p, idr = b"\x01\x9e\x00", b"\x41\x9a\x00", b"\x65\x88\x84"

    def avcc(*units: bytes, size: int = 4) -> bytes:
        return b"".join(len(unit).to_bytes(size, "big") + unit for unit in units)

    assert h264_reference_picture(avcc(aud, sei, unreferenced_b), 4) is False
    assert h264_reference_picture(avcc(sei, referenced_p), 4) is True
    assert h264_reference_picture(memoryview(avcc(idr, size=2)), 2) is True
    assert h264_reference_picture(b"\x00\x00\x00\x01" + aud + b"\x00\x00\x01" + unreferenced_b, 0) is False
    assert h264_reference_picture(avcc(sei), 4) is None  # no slice: not known
    assert h264_reference_picture(avcc(sei)[:-2], 4) is None  # cut short
    assert h264_reference_picture(avcc(b"", unreferenced_b), 4) is False  # an empty unit is stepped over


def test_samples_come_from_fully_decoded_pictures(synth) -> None:
    # The decoder skips deblocking on unreferenced pictures (B frames here): the samples the quality metrics read
    # must be pixel for pixel what a plain decode gives, and so must every referenced picture's thumbnail.
    clip = synth("mixed_640")
    decoded = decode_clip(clip.path)
    referenced: dict[int, bool] = {}
    plain: dict[int, av.VideoFrame] = {}
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        length_size = (stream.codec_context.extradata[4] & 3) + 1
        for packet in container.demux(stream):
            if packet.size:
                referenced[packet.pts] = bool(h264_reference_picture(bytes(packet), length_size))
            plain.update((frame.pts, frame) for frame in packet.decode())
    by_index = [plain[pts] for pts in sorted(plain)]
    flags = [referenced[pts] for pts in sorted(plain)]
    assert len(by_index) == decoded.frame_count and 0 < flags.count(False) < len(flags) // 2 + 1
    for sample in decoded.samples:
        assert flags[sample.index], f"sample at frame {sample.index} is an unreferenced picture"
        height, width = sample.rgb.shape[:2]
        expected = by_index[sample.index].reformat(width=width, height=height, format="rgb24", interpolation="AREA")
        assert np.array_equal(sample.rgb, expected.to_ndarray()[:, :width])
    height = decoded.thumbs.shape[1]
    for index, frame in enumerate(by_index):
        thumb = frame.reformat(width=THUMB_WIDTH, height=height, format="gray", interpolation="AREA").to_ndarray()
        if flags[index]:
            assert np.array_equal(decoded.thumbs[index], thumb[:, :THUMB_WIDTH]), index
        else:  # decoded without deblocking: nearly the same
            assert np.abs(decoded.thumbs[index].astype(int) - thumb[:, :THUMB_WIDTH]).mean() < 0.5
    # Sampling keeps its pace: about two a second, each at most a couple of frames after its due time.
    assert len(decoded.samples) == pytest.approx(clip.duration_s * 2, abs=1)
    due = np.arange(len(decoded.samples)) * 0.5
    assert np.all((np.array([s.time_s for s in decoded.samples]) - due) < 0.12)


def test_a_stream_of_unreferenced_pictures_still_gets_its_samples() -> None:
    # Were no picture ever referenced, each sample is taken half an interval late rather than never.
    from scoring.engine.decode import _VideoCollector

    collector = _VideoCollector(25.0, 0.5, 600.0, keep_small_rgb=False)
    for n in range(100):
        frame = av.VideoFrame.from_ndarray(np.full((90, 160, 3), n, dtype=np.uint8), format="rgb24")
        frame.pts, frame.time_base = n, Fraction(1, 25)
        assert collector.add(frame, full_detail=False)
    assert [s.index for s in collector.samples] == [7, 19, 32, 44, 57, 69, 82, 94]


def test_variable_frame_rate_timestamps(tmp_path: Path) -> None:
    # Frames at irregular times (ms): the decoder must report the pts, not index / fps.
    times_ms = [0, 40, 80, 160, 200, 300, 340, 500, 520, 560, 700, 760]
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((90, 160, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    decoded = decode_clip(path)
    assert decoded.timestamps_s == pytest.approx(np.array(times_ms) / 1000.0, abs=1e-3)
    assert not decoded.has_audio and decoded.audio is None and decoded.audio_peaks is None


def test_mono_audio_stays_mono(synth, tmp_path: Path) -> None:
    from tests.engine.engine_synth import SynthShot, make_clip, tone_track

    clip = make_clip(tmp_path / "mono.mp4", [SynthShot("coffee", 1.0)], audio=tone_track(1.0), channels=1)
    decoded = decode_clip(clip.path)
    assert decoded.audio is not None and decoded.audio.shape[1] == 1
    assert decoded.audio_source_channels == 1


def test_the_sound_stops_where_the_picture_is_cut_off(synth) -> None:
    # The audio is read by a thread of its own: past max_duration_s it stops too, so memory stays bounded.
    clip = synth("mixed_640")
    whole = decode_clip(clip.path)
    cut = decode_clip(clip.path, max_duration_s=1.0)
    assert cut.truncated and not whole.truncated
    assert cut.duration_s == pytest.approx(1.0, abs=0.1)
    assert whole.audio is not None and cut.audio is not None
    assert cut.audio.shape[0] / AUDIO_RATE <= 1.0 + 0.25 < whole.audio.shape[0] / AUDIO_RATE
    # The first second of sound is the same whichever thread decoded how much of it.
    n = int(0.9 * AUDIO_RATE)
    np.testing.assert_allclose(cut.audio[:n], whole.audio[:n], atol=1e-6)


def test_a_soundtrack_that_cannot_be_read_leaves_the_picture_scored(synth, monkeypatch) -> None:
    from scoring.engine import decode as decode_module

    clip = synth("mixed_640")
    opened = decode_module.open_container

    def audio_handle_fails(path, timeout_s):  # type: ignore[no-untyped-def]
        import threading

        if threading.current_thread().name == "clip-audio":
            raise decode_module.ClipDecodeError("the second handle could not be opened", path)
        return opened(path, timeout_s)

    monkeypatch.setattr(decode_module, "open_container", audio_handle_fails)
    decoded = decode_clip(clip.path)
    assert decoded.frame_count == clip.frame_count
    assert decoded.audio is None and decoded.audio_decode_errors == 1


@pytest.mark.parametrize("expected_s", [0.0, 0.3, 10.0])
def test_resampled_sound_is_the_same_whatever_length_was_announced(expected_s: float) -> None:
    # The collector writes into one buffer sized from the stream's announced length and grows it when the
    # sound runs longer (or nothing was announced): the samples must come out the same either way.
    from scoring.engine.decode import _AudioCollector

    rng = np.random.default_rng(3)
    rate = 24_000
    blocks = 40  # 1.7 s: past the one second of slack the buffer starts with beyond the announced length
    tone = (0.2 * rng.standard_normal((2, blocks * 1024))).astype(np.float32)
    frames = []
    for i in range(blocks):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, i * 1024 : (i + 1) * 1024]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, i * 1024, Fraction(1, rate)
        frames.append(frame)
    collector = _AudioCollector(rate)
    collector.expected_s = expected_s
    for frame in frames:
        collector.add(frame)
    sound = collector.finish()
    assert sound is not None and sound.dtype == np.float32 and sound.shape == (blocks * 1024, 2)
    assert np.allclose(sound, tone.T, atol=1e-6)  # same rate and layout: the resampler only interleaves


@pytest.mark.parametrize("expected_rows", [0, 40, 1000])
def test_thumbnail_rows_are_kept_whatever_count_was_expected(expected_rows: int) -> None:
    # Thumbnails go into one array made for the frame count the container announces and grown when it runs
    # longer (or announced nothing): the rows must come out as appended either way.
    from scoring.engine.decode import _RowBuffer

    rng = np.random.default_rng(4)
    rows = [rng.integers(0, 256, (36, 64), dtype=np.uint8) for _ in range(123)]
    buffer = _RowBuffer(expected_rows)
    for k, row in enumerate(rows):
        buffer.append(row)
        assert np.array_equal(buffer.last(1), row) and (k == 0 or np.array_equal(buffer.last(2), rows[k - 1]))
    kept = buffer.finish()
    assert kept is not None and kept.shape == (123, 36, 64) and np.array_equal(kept, np.stack(rows))
    assert _RowBuffer(expected_rows).finish() is None


def test_true_peak_is_the_oversampled_sounds_largest_value() -> None:
    # Only the values that could beat the floor are oversampled; the peak found must be what oversampling the
    # whole block with scipy's upfirdn gives, to the last bit, whatever the floor below it.
    from scipy import signal

    from scoring.engine.decode import _TRUE_PEAK_FIR, TRUE_PEAK_GATE, AudioPeakMeter, interpolated_peak

    rng = np.random.default_rng(11)
    t = np.arange(4800)
    blocks = [
        rng.normal(0.0, 0.3, (3000, 2)),  # noise: loud samples scattered
        np.clip(rng.normal(0.0, 1.2, (3000, 2)), -1.0, 1.0),  # clipped: many samples at full scale
        0.9 * np.sign(np.sin(t * 0.7))[:, None],  # a square wave overshoots between samples
        # a high tone: its peaks fall between samples
        0.95 * np.sin(2 * np.pi * 11_000 / 48_000 * t + 0.4)[:, None] * np.ones((1, 2)),
        rng.normal(0.0, 0.3, (5, 1)),  # shorter than the filter
    ]
    for block in (b.astype(np.float32) for b in blocks):
        whole = float(np.abs(signal.upfirdn(_TRUE_PEAK_FIR, block, up=4, axis=0)).max())
        assert interpolated_peak(block) == whole
        for floor in (float(np.abs(block).max()), 0.99 * whole):  # what the meter passes, and just under the answer
            assert interpolated_peak(block, floor) == whole
        assert interpolated_peak(block, 1.01 * whole) <= 1.01 * whole  # nothing above the floor: at most the floor
        meter = AudioPeakMeter(48_000, block.shape[1])
        meter.add(block)
        stats = meter.finish()
        sample_peak = float(np.abs(block).max())  # below the gate, the meter keeps the sample peak
        assert stats.true_peak == (max(whole, sample_peak) if sample_peak >= TRUE_PEAK_GATE else sample_peak)
