"""`decode_clip`: one streaming PyAV pass giving grey thumbnails, sparse RGB samples and the resampled audio."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from .errors import ClipDecodeError, ClipTimeoutError
from .probe import describe_av_error, open_container

THUMB_WIDTH = 64  # px; segmentation and motion features only need coarse structure
# Sparse native-resolution frames (opt-in, `keep_full_frames`): one shortly after every sharp change of
# the picture (a likely new shot) and one every FULL_FRAME_INTERVAL_S inside a shot, at most
# MAX_FULL_FRAMES (then every other one is dropped and the interval doubles): memory stays bounded.
FULL_FRAME_INTERVAL_S = 4.0
FULL_FRAME_SETTLE_S = 0.3  # after a change, wait this long (past a dissolve's middle) before keeping one
FULL_FRAME_CHANGE = 0.1  # mean grey change (of 1.0) between consecutive thumbnails that counts as sharp
MAX_FULL_FRAMES = 32
SMALL_RGB_SIZE = (48, 27)  # px (w, h); the input size of TransNet V2, which reviews doubtful boundaries
SAMPLE_MAX_WIDTH = 480  # px; quality metrics look at these frames
SAMPLE_INTERVAL_S = 0.5  # at least one sample in every shot of half a second or more
MAX_SAMPLES = 120  # bounds memory on long clips: the interval stretches instead
AUDIO_RATE = 24_000  # Hz; keeps the band up to 12 kHz for loudness/noise, 2x cheaper than 48 kHz
NEAR_FULL_SCALE = 10 ** (-0.5 / 20)  # |x| >= -0.5 dBFS counts as at (or near) full scale
TRUE_PEAK_GATE = 0.5  # only blocks with a sample peak above -6 dBFS are oversampled (see AudioPeakMeter)
# PyAV >= 17 scales on automatic swscale threads by default: on these small outputs the threads cost
# more than they save and contend with the decoder's (2.5x the per-frame time of one thread, measured
# at 720p), and the output is the same. Older PyAV always scales on one thread and has no such option.
_ONE_THREAD: dict[str, int] = {"threads": 1} if int(av.__version__.split(".")[0]) >= 17 else {}
# H.264 pictures that no other picture references are decoded without the deblocking filter (FFmpeg's
# skip_loop_filter=noref): nothing is predicted from them, so no other frame changes, and their thumbnails move by
# at most 2 grey levels (the 60 s 720p clip's 714 unreferenced B frames); the decode takes 7% less time. Samples
# and full frames, which the quality metrics read at full detail, are taken only from referenced pictures.
SKIP_DEBLOCKING_OPTIONS = {"skip_loop_filter": "noref"}
_H264_SLICES = (1, 5)  # NAL unit types of coded slices (non-IDR, IDR)
_TRUE_PEAK_FIR = (signal.firwin(48, 1 / 4) * 4).astype(np.float32)  # 4x interpolation low-pass
# The FIR as 4 phases of 12 taps: row i of column p weighs the sample 11 - i places back for the value p/4 on.
_TRUE_PEAK_TAPS = _TRUE_PEAK_FIR.size // 4
_TRUE_PEAK_PHASES = np.stack([_TRUE_PEAK_FIR[p::4][::-1] for p in range(4)], axis=1)
# An interpolated value is at most this times the largest magnitude among the samples it is made of (with a
# margin for single-precision rounding, so that no value a bit over the bound is ever skipped).
_TRUE_PEAK_GAIN = float(np.abs(_TRUE_PEAK_PHASES).sum(axis=0).max()) * (1.0 + 1e-4)


@dataclass(frozen=True)
class SampledFrame:
    """A full-colour frame kept for the quality metrics."""

    index: int  # frame index in the decoded stream
    time_s: float
    rgb: np.ndarray  # (h, w, 3) uint8, at most SAMPLE_MAX_WIDTH wide


@dataclass
class AudioPeakStats:
    """Peak and clipping statistics measured on the decoded samples before any resampling."""

    sample_rate: int
    channels: int
    samples: int = 0  # per channel
    sample_peak: float = 0.0  # max |x| (linear, 1.0 = full scale)
    true_peak: float = 0.0  # 4x oversampled estimate (ITU-R BS.1770 Annex 2 style), >= sample_peak
    near_full_scale: int = 0  # count of samples (all channels) with |x| >= NEAR_FULL_SCALE

    @property
    def near_full_scale_share(self) -> float:
        total = self.samples * max(1, self.channels)
        return self.near_full_scale / total if total else 0.0


class AudioPeakMeter:
    """Streams decoded audio frames and accumulates AudioPeakStats in ~0.5 s blocks.

    True peak needs oversampling, which costs; inter-sample overs only matter near full scale, so
    blocks whose sample peak is below TRUE_PEAK_GATE contribute their sample peak only.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.stats = AudioPeakStats(sample_rate=sample_rate, channels=channels)
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._block = max(1024, sample_rate // 2)

    def add(self, samples: np.ndarray) -> None:
        self._pending.append(samples)
        self._pending_len += samples.shape[0]
        if self._pending_len >= self._block:
            self._flush()

    def finish(self) -> AudioPeakStats:
        self._flush()
        return self.stats

    def _flush(self) -> None:
        if not self._pending:
            return
        block = np.concatenate(self._pending, axis=0)
        self._pending, self._pending_len = [], 0
        magnitude = np.abs(block)
        peak = float(magnitude.max()) if magnitude.size else 0.0
        stats = self.stats
        stats.samples += block.shape[0]
        stats.near_full_scale += int(np.count_nonzero(magnitude >= NEAR_FULL_SCALE))
        stats.sample_peak = max(stats.sample_peak, peak)
        true_peak = peak
        if peak >= TRUE_PEAK_GATE:
            true_peak = max(peak, interpolated_peak(block, floor=max(stats.true_peak, peak), magnitude=magnitude))
        stats.true_peak = max(stats.true_peak, true_peak)


def interpolated_peak(block: np.ndarray, floor: float = 0.0, magnitude: np.ndarray | None = None) -> float:
    """The largest magnitude of the (n, channels) block oversampled 4x, as `signal.upfirdn(_TRUE_PEAK_FIR,
    block, up=4, axis=0)` gives it (the block zero outside), if it exceeds `floor`; else at most `floor`.

    Only the values that could exceed `floor` are computed: each is at most _TRUE_PEAK_GAIN times the
    largest of the 12 samples it is made of, and on music fewer than 1% of the samples are that close to
    the peak (0.7% on the 60 s bench clip: 0.02 s instead of 0.22 s of the sound's 0.36 s decode).
    `magnitude`: `np.abs(block)`, when already at hand.
    """
    taps, n = _TRUE_PEAK_TAPS, block.shape[0]
    magnitude = np.abs(block) if magnitude is None else magnitude
    loudest = np.zeros(n + 2 * (taps - 1), dtype=np.float32)  # the loudest channel, zero beyond the block
    loudest[taps - 1 : taps - 1 + n] = magnitude[:, 0]
    for channel in range(1, block.shape[1]):  # column by column: a max over a short axis is slow in numpy
        np.maximum(loudest[taps - 1 : taps - 1 + n], magnitude[:, channel], out=loudest[taps - 1 : taps - 1 + n])
    # Output sample k (all 4 phases) is made of the padded block's rows k .. k + taps - 1: those within
    # reach of a loud enough row r are k = r - taps + 1 .. r.
    loud = np.flatnonzero(loudest * _TRUE_PEAK_GAIN >= floor)
    if loud.size == 0:
        return 0.0
    candidates = np.unique(loud[:, None] - np.arange(taps))
    candidates = candidates[(candidates >= 0) & (candidates < n + taps - 1)]
    padded = np.zeros((n + 2 * (taps - 1), block.shape[1]), dtype=np.float32)
    padded[taps - 1 : taps - 1 + n] = block
    windows = sliding_window_view(padded, taps, axis=0)[candidates]  # (k, channels, taps): a view, then k rows
    # Summed in single precision in upfirdn's order (the oldest sample first), so the values are its values.
    values = np.zeros((*windows.shape[:2], 4), dtype=np.float32)
    for i in range(taps):
        values += windows[:, :, i, None] * _TRUE_PEAK_PHASES[i]
    return float(np.abs(values).max())


@dataclass
class DecodedClip:
    """Everything the metrics need from one pass over the clip (times relative to the first video frame)."""

    path: str
    width: int
    height: int
    fps: float  # from the median frame interval (variable frame rate is kept in `timestamps_s`)
    timestamps_s: np.ndarray  # (N,) float64 presentation time of every decoded frame
    thumbs: np.ndarray  # (N, h, THUMB_WIDTH) uint8 grey thumbnails (~2.3 KB per frame at 16:9)
    samples: list[SampledFrame]
    duration_s: float  # end of the last frame
    audio: np.ndarray | None  # (n, channels) float32 at `audio_rate`, 1 or 2 channels
    audio_rate: int
    audio_start_s: float  # time of audio sample 0
    audio_source_channels: int
    audio_peaks: AudioPeakStats | None
    video_decode_errors: int = 0
    audio_decode_errors: int = 0
    truncated: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # (N, 27, 48, 3) uint8 RGB of every frame (3.9 KB each), for TransNet V2; None when not asked for.
    small_rgb: np.ndarray | None = None
    # Native-resolution RGB frames, sparse (see FULL_FRAME_*): empty unless `keep_full_frames`.
    full_frames: list[SampledFrame] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def has_audio(self) -> bool:
        return self.audio is not None and self.audio.shape[0] > 0

    @property
    def audio_mono(self) -> np.ndarray:
        """(n,) float32 mono mix of the audio (empty when there is none)."""
        if self.audio is None:
            return np.zeros(0, dtype=np.float32)
        return self.audio.mean(axis=1, dtype=np.float32) if self.audio.shape[1] > 1 else self.audio[:, 0]


def h264_reference_picture(data: bytes | memoryview, length_size: int) -> bool | None:
    """Whether an H.264 access unit holds a reference picture: nal_ref_idc of its first coded slice, which every
    slice of a picture shares. `length_size` is the NAL length prefix of avcC streams (MP4, Matroska), 0 for
    Annex B start codes; None when no slice is found."""
    annex_b = b"" if length_size else bytes(data)
    size = len(data)
    position = 0
    while position < size:
        if length_size:
            if position + length_size >= size:
                return None
            nal_length = int.from_bytes(data[position : position + length_size], "big")
            header = position + length_size
            position = header + nal_length
            if not nal_length:
                continue  # an empty unit (malformed): no header to read
        else:
            start = annex_b.find(b"\x00\x00\x01", position)
            if start < 0 or start + 3 >= size:
                return None
            header = position = start + 3
        if data[header] & 0x1F in _H264_SLICES:
            return bool(data[header] & 0x60)
    return None


def unreferenced_deblocking_skip(codec_context: av.CodecContext) -> int:
    """The NAL length prefix (1, 2 or 4 bytes) of an H.264 stream whose unreferenced pictures the engine decodes
    without deblocking (SKIP_DEBLOCKING_OPTIONS): one with an avcC record, whose packets carry length-prefixed
    NAL units and timestamps (MP4, MOV, Matroska), so that each frame's kind is known; 0 for any other stream,
    which decodes in full."""
    extradata = codec_context.extradata if codec_context.name == "h264" else None
    if extradata and len(extradata) >= 5 and extradata[0] == 1:
        return (extradata[4] & 0x03) + 1
    return 0


def video_decoder_threads() -> int:
    """Frame threads for decoding the clip's pictures: one per core this process may use. FFmpeg's automatic
    count is one more; on 2 cores that decoded the 60 s 720p clip's pictures in 15-18% more time, as its threads
    waited on each other (docs/engine-measurements.md). The decoded pictures are the same either way."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity outside Linux
        return max(1, os.cpu_count() or 1)


def set_up_video_decoder(stream: av.video.stream.VideoStream) -> int:
    """Configure the stream's decoder as the engine decodes every clip: frame threads (video_decoder_threads)
    and, where unreferenced_deblocking_skip allows, no deblocking of unreferenced pictures. Returns that NAL length
    prefix (0: every picture is decoded in full). Call before the first packet is decoded."""
    stream.thread_type = "AUTO"  # frame/slice threads: decoding dominates the cost
    stream.codec_context.thread_count = video_decoder_threads()
    length_size = unreferenced_deblocking_skip(stream.codec_context)
    if length_size:
        stream.codec_context.options = dict(SKIP_DEBLOCKING_OPTIONS)
    return length_size


def _planar_to_samples(frame: av.AudioFrame) -> np.ndarray:
    """(n, channels) float32 in [-1, 1] from any PyAV audio frame sample format."""
    array = frame.to_ndarray()
    channels = frame.layout.nb_channels
    array = array if frame.format.is_planar else array.reshape(-1, channels).T
    if array.dtype == np.int16:
        array = array.astype(np.float32) / 32768.0
    elif array.dtype == np.int32:
        array = array.astype(np.float32) / 2147483648.0
    elif array.dtype == np.uint8:
        array = (array.astype(np.float32) - 128.0) / 128.0
    return np.ascontiguousarray(array.T, dtype=np.float32)


def _thumb_size(width: int, height: int) -> tuple[int, int]:
    return THUMB_WIDTH, max(8, int(round(THUMB_WIDTH * height / max(1, width))))


def _sample_size(width: int, height: int) -> tuple[int, int]:
    w = min(width, SAMPLE_MAX_WIDTH)
    w -= w % 2
    return w, max(2, int(round(w * height / max(1, width) / 2)) * 2)


class _RowBuffer:
    """Rows of one shape (a thumbnail per frame, a sample of sound per channel pair), added one or a block at a
    time into one array made for the expected count and grown by half when full: a list of small arrays joined
    at the end would hold every row twice, and leave the heap fragmented by the freed ones."""

    def __init__(self, expected_rows: int = 0) -> None:
        self.expected = expected_rows
        self._rows: np.ndarray | None = None
        self.count = 0

    def append(self, row: np.ndarray) -> None:
        self.extend(row[None])

    def extend(self, block: np.ndarray) -> None:
        end = self.count + block.shape[0]
        if self._rows is None:
            self._rows = np.empty((max(16, self.expected, end), *block.shape[1:]), dtype=block.dtype)
        elif end > self._rows.shape[0]:
            grown = np.empty((max(end, self._rows.shape[0] * 3 // 2), *block.shape[1:]), dtype=block.dtype)
            grown[: self.count] = self._rows[: self.count]
            self._rows = grown
        self._rows[self.count : end] = block
        self.count = end

    def __len__(self) -> int:
        return self.count

    def last(self, k: int) -> np.ndarray:
        """The k-th row from the end (1: the last one appended)."""
        assert self._rows is not None and 0 < k <= self.count
        row: np.ndarray = self._rows[self.count - k]
        return row

    def finish(self) -> np.ndarray | None:
        """The rows appended, as one array (None if there were none); the unused capacity is handed back."""
        rows, self._rows = self._rows, None
        if rows is None or not self.count:
            return None
        rows.resize((self.count, *rows.shape[1:]), refcheck=False)  # in place: keeps the first rows
        return rows


class _VideoCollector:
    """Turns decoded video frames into thumbnails, timestamps and sparse RGB samples."""

    def __init__(
        self,
        nominal_fps: float,
        sample_interval_s: float,
        max_duration_s: float,
        keep_small_rgb: bool = True,
        keep_full_frames: bool = False,
        expected_frames: int = 0,
    ) -> None:
        self.full_frames: list[SampledFrame] | None = [] if keep_full_frames else None
        self._full_interval = FULL_FRAME_INTERVAL_S
        self._next_full_t = 0.0
        self.thumbs = _RowBuffer(expected_frames)
        self.small_rgb = _RowBuffer(expected_frames) if keep_small_rgb else None
        self.times: list[float] = []
        self.samples: list[SampledFrame] = []
        self.t0: float | None = None
        self.truncated = False
        self._nominal_fps = nominal_fps or 25.0
        self._interval = sample_interval_s
        self._max_duration_s = max_duration_s
        self._next_sample_t = 0.0
        self._thumb_size: tuple[int, int] | None = None
        self._sample_size: tuple[int, int] | None = None
        # One reformatter each, reused: swscale contexts are cached between frames of the same geometry.
        # One scaling thread each (_ONE_THREAD): same output, see there.
        self._thumb_scaler, self._sample_scaler = VideoReformatter(), VideoReformatter()
        self._small_scaler = VideoReformatter()

    def add(self, frame: av.VideoFrame, full_detail: bool = True) -> bool:
        """Take one frame; False once the clip is longer than max_duration_s. A frame decoded without
        `full_detail` (no deblocking) gives its thumbnails, but a sample or full frame only when one is overdue
        by half an interval (a stream whose pictures are all unreferenced still gets its samples)."""
        t = frame.time
        if t is None:  # no pts: continue from the previous frame at the nominal rate
            t = (self.times[-1] + 1.0 / self._nominal_fps) if self.times else 0.0
        if self.t0 is None:
            self.t0 = t
        if t - self.t0 > self._max_duration_s:
            self.truncated = True
            return False
        if self._thumb_size is None:
            self._thumb_size = _thumb_size(frame.width, frame.height)
            self._sample_size = _sample_size(frame.width, frame.height)
        width, height = self._thumb_size
        grey = self._thumb_scaler.reformat(
            frame, width=width, height=height, format="gray", interpolation="AREA", **_ONE_THREAD
        ).to_ndarray()
        self.thumbs.append(grey[:, :width])
        if self.small_rgb is not None:
            small = self._small_scaler.reformat(
                frame, width=SMALL_RGB_SIZE[0], height=SMALL_RGB_SIZE[1], format="rgb24", interpolation="AREA",
                **_ONE_THREAD,
            ).to_ndarray()
            self.small_rgb.append(small[:, : SMALL_RGB_SIZE[0]])
        self.times.append(t)
        if self.full_frames is not None:
            self._maybe_keep_full(frame, t - self.t0, full_detail)
        due = t - self.t0 - self._next_sample_t
        if due >= 0 and (full_detail or due >= self._interval / 2):
            assert self._sample_size is not None
            width, height = self._sample_size
            rgb = self._sample_scaler.reformat(
                frame, width=width, height=height, format="rgb24", interpolation="AREA", **_ONE_THREAD
            ).to_ndarray()
            self.samples.append(SampledFrame(len(self.times) - 1, t - self.t0, rgb))
            self._next_sample_t += self._interval
        return True

    def _maybe_keep_full(self, frame: av.VideoFrame, t: float, full_detail: bool = True) -> None:
        assert self.full_frames is not None
        if len(self.thumbs) >= 2:
            change = float(np.abs(self.thumbs.last(1).astype(np.int16) - self.thumbs.last(2)).mean()) / 255.0
            if change >= FULL_FRAME_CHANGE:  # a likely new shot: keep one of it once it has settled
                self._next_full_t = min(self._next_full_t, t + FULL_FRAME_SETTLE_S)
        if t < self._next_full_t or (not full_detail and t < self._next_full_t + FULL_FRAME_SETTLE_S):
            return
        rgb = frame.to_ndarray(format="rgb24")
        self.full_frames.append(SampledFrame(len(self.times) - 1, t, np.ascontiguousarray(rgb[:, : frame.width])))
        self._next_full_t = t + self._full_interval
        if len(self.full_frames) > MAX_FULL_FRAMES:
            del self.full_frames[1::2]  # thin out evenly; later frames come at twice the interval
            self._full_interval *= 2


class _AudioCollector:
    """Meters the source samples and resamples them once to float32 at the analysis rate."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.expected_s = 0.0  # the stream's announced length: what the sound's buffer is first made for
        self.sound = _RowBuffer()
        self.resampler: av.AudioResampler | None = None
        self.meter: AudioPeakMeter | None = None
        self.t0: float | None = None
        self.source_channels = 0

    def add(self, frame: av.AudioFrame) -> None:
        if self.resampler is None:
            self.source_channels = frame.layout.nb_channels
            # Keep stereo: BS.1770 loudness sums the channels' powers, a mono mix would read up to 3 LU low.
            layout = "mono" if self.source_channels == 1 else "stereo"
            self.resampler = av.AudioResampler(format="flt", layout=layout, rate=self.rate)
            self.meter = AudioPeakMeter(frame.sample_rate, self.source_channels)
            self.t0 = frame.time if frame.time is not None else 0.0
        assert self.meter is not None
        self.meter.add(_planar_to_samples(frame))
        self._keep(self.resampler.resample(frame))

    def finish(self) -> np.ndarray | None:
        if self.resampler is None:
            return None
        self._keep(self.resampler.resample(None))
        return self.sound.finish()

    def _keep(self, frames: list[av.AudioFrame]) -> None:
        for out in frames:
            # Packed 'flt' comes out as (1, n * channels).
            if not len(self.sound):  # the announced length is known once the stream is open
                self.sound.expected = int(self.expected_s * self.rate) + self.rate
            self.sound.extend(out.to_ndarray().reshape(-1, out.layout.nb_channels))


class _AudioReader:
    """Decodes the audio stream in a thread of its own, from a second handle on the file, while the
    calling thread decodes the picture: PyAV releases the GIL while it demuxes, decodes and resamples,
    and frame-threaded video decoding leaves part of a second core idle, so the audio (metering and
    resampling included) costs little wall time. `stop` ends it early (the picture failed or timed out).
    """

    def __init__(self, path: Path, rate: int, deadline: float, timeout_s: float, max_duration_s: float) -> None:
        self.collector = _AudioCollector(rate)
        self.errors = 0
        self.failure: BaseException | None = None
        self._path, self._deadline, self._timeout_s = path, deadline, timeout_s
        self._max_duration_s = max_duration_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clip-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with open_container(self._path, self._timeout_s) as container:
                stream = container.streams.audio[0]
                announced = stream.duration * stream.time_base if stream.duration and stream.time_base else None
                container_s = container.duration / av.time_base if container.duration else 0.0
                self.collector.expected_s = min(float(announced) if announced else container_s, self._max_duration_s)
                try:
                    for packet in container.demux(stream):
                        if self._stop.is_set() or time.monotonic() > self._deadline:
                            return  # the caller raises its own timeout; a stopped read keeps what it had
                        try:
                            frames = packet.decode()
                        except av.FFmpegError:
                            self.errors += 1  # a damaged packet: the rest of the sound may be fine
                            continue
                        now = None
                        for frame in frames:
                            if isinstance(frame, av.AudioFrame):
                                self.collector.add(frame)
                                now = frame.time
                        first = self.collector.t0
                        if first is not None and now is not None and now - first > self._max_duration_s:
                            return  # as long as the picture may be: memory stays bounded on long clips
                except av.FFmpegError:
                    self.errors += 1  # demuxing failed part-way (a truncated file): keep what decoded
        except (ClipDecodeError, av.FFmpegError):
            self.errors += 1  # the sound cannot be read: the clip is scored without it, like a broken track
        except BaseException as exc:  # noqa: BLE001 - anything else is handed to the calling thread by `join`
            self.failure = exc

    def join(self, stop: bool = False) -> None:
        if stop:
            self._stop.set()
        self._thread.join()
        if self.failure is not None and not stop:
            raise self.failure


def decode_clip(
    path: str | Path,
    *,
    timeout_s: float = 120.0,
    max_duration_s: float = 600.0,
    sample_interval_s: float | None = None,
    audio_rate: int = AUDIO_RATE,
    keep_small_rgb: bool = True,
    keep_full_frames: bool = False,
    with_audio: bool = True,
) -> DecodedClip:
    """Decode the clip once, streaming; memory grows only by a thumbnail per frame.

    Raises ClipDecodeError when no video frame decodes, ClipTimeoutError past `timeout_s`.
    Decoding stops at `max_duration_s` (then `truncated` is set).

    Memory: per frame only a 64-px grey thumbnail (`thumbs`, ~2.3 KB at 16:9), its timestamp and, with
    `keep_small_rgb`, a 48x27 RGB frame for TransNet V2 (`small_rgb`, 3.9 KB); full frames are never
    held. `samples` are sparse colour frames (at most MAX_SAMPLES, at most SAMPLE_MAX_WIDTH wide) at
    least every SAMPLE_INTERVAL_S, so every shot of half a second or more has one; metric modules
    read `thumbs`, `timestamps_s`, `samples`, `audio` / `audio_mono`. With `keep_full_frames`,
    `full_frames` holds at most MAX_FULL_FRAMES native-resolution frames: one just after each sharp
    change of picture (so nearly every shot has one) and one every FULL_FRAME_INTERVAL_S.
    `with_audio=False` leaves the audio stream undecoded (segmentation-only callers).
    """
    p = Path(path)
    started = time.monotonic()
    container = open_container(p, timeout_s)
    with container:
        if not container.streams.video:
            raise ClipDecodeError("no video stream", p)
        vstream = container.streams.video[0]
        length_size = set_up_video_decoder(vstream)
        reference_by_pts: dict[int, bool] = {}
        astream = container.streams.audio[0] if container.streams.audio and with_audio else None
        expected = (container.duration / av.time_base) if container.duration else 0.0
        interval = sample_interval_s or max(SAMPLE_INTERVAL_S, expected / MAX_SAMPLES if expected else 0.0)
        rate = float(vstream.average_rate or 0.0)
        # Rows are reserved for the announced length, at most max_duration_s at 120 fps: a header claiming more
        # reserves no more (a stream that really has more frames grows its arrays as it goes).
        expected_frames = int(min(expected, max_duration_s) * min(rate, 120.0)) + 16 if expected and rate else 0
        video = _VideoCollector(rate, interval, max_duration_s, keep_small_rgb, keep_full_frames, expected_frames)
        reader = _AudioReader(p, audio_rate, started + timeout_s, timeout_s, max_duration_s) if astream is not None else None
        video_errors = 0
        try:
            # demux() ends the stream with an empty packet whose decode() flushes the decoder's delayed frames.
            for packet in container.demux(vstream):
                if time.monotonic() - started > timeout_s:
                    raise ClipTimeoutError(f"decoding took longer than {timeout_s:g} s", p)
                if length_size and packet.pts is not None and packet.size:
                    reference_by_pts[packet.pts] = h264_reference_picture(memoryview(packet), length_size) is not False
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    video_errors += 1  # a damaged packet: count it and keep going, the rest may be fine
                    continue
                if not all(
                    video.add(frame, frame.pts is None or reference_by_pts.pop(frame.pts, True))
                    for frame in frames
                    if isinstance(frame, av.VideoFrame)
                ):
                    break
        except av.FFmpegError as exc:
            if not video.times:
                if reader is not None:
                    reader.join(stop=True)
                raise ClipDecodeError(f"the video stream does not decode ({describe_av_error(exc)})", p) from exc
            video_errors += 1  # demuxing failed part-way (e.g. a truncated file): score what decoded
        except BaseException:
            if reader is not None:
                reader.join(stop=True)
            raise
        if reader is not None:
            reader.join(stop=video.truncated)  # past max_duration_s the rest of the sound is not needed either
        sound = reader.collector if reader is not None else _AudioCollector(audio_rate)
        audio_errors = reader.errors if reader is not None else 0
        if time.monotonic() - started > timeout_s:
            raise ClipTimeoutError(f"decoding took longer than {timeout_s:g} s", p)
        audio = sound.finish()

        if not video.times or video.t0 is None:
            raise ClipDecodeError("the video stream holds no decodable frame", p)
        stamps = np.asarray(video.times, dtype=np.float64) - video.t0
        order = np.argsort(stamps, kind="stable")  # presentation order even if a demuxer misorders
        stamps = stamps[order]
        in_order = bool(np.all(order == np.arange(order.size)))  # the usual case: no reordered copy needed
        thumbs = video.thumbs.finish()
        assert thumbs is not None  # as many as video.times
        thumbs = thumbs if in_order else thumbs[order]
        small_rgb = video.small_rgb.finish() if video.small_rgb is not None else None
        if small_rgb is not None and not in_order:
            small_rgb = small_rgb[order]
        steps = np.diff(stamps)
        steps = steps[steps > 0]
        fps = 1.0 / float(np.median(steps)) if steps.size else float(vstream.average_rate or 25.0)
        return DecodedClip(
            path=str(p),
            width=int(vstream.codec_context.width),
            height=int(vstream.codec_context.height),
            fps=fps,
            timestamps_s=stamps,
            thumbs=thumbs,
            samples=video.samples,
            duration_s=float(stamps[-1] + 1.0 / fps),
            audio=audio,
            audio_rate=audio_rate,
            audio_start_s=float((sound.t0 or 0.0) - video.t0) if audio is not None else 0.0,
            audio_source_channels=sound.source_channels,
            audio_peaks=sound.meter.finish() if sound.meter is not None and audio is not None else None,
            video_decode_errors=video_errors,
            audio_decode_errors=audio_errors,
            truncated=video.truncated,
            timings={"decode": time.monotonic() - started},
            small_rgb=small_rgb,
            full_frames=video.full_frames or [],  # times already relative to the first frame
        )
