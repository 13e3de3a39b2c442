"""Vectorised per-frame features of the grey thumbnail stream: histograms, global motion, frame distances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

HIST_BINS = 32
FRAMES_PER_PASS = 1024  # frames per block where a per-frame feature needs temporaries bigger than its result
# Camera motion moves the image by at most this fraction of its size per frame of lag (a fast pan
# crosses the frame in ~0.5 s), and never more than a quarter: larger jumps are cuts, not motion.
MAX_SHIFT_PER_FRAME = 0.08
MAX_SHIFT_FRACTION = 0.25
UNCHANGED_MIN_TOLERANCE = 0.03  # grey change (of 1.0) below which a pixel counts as unchanged, at least
BLEND_BLOCKS = 4  # blend fractions are fitted on a 4 x 4 grid of blocks and the median taken


BORDER_MAX_LEVEL = 40  # grey level (of 255) a letterbox/pillarbox bar never exceeds in any frame
BORDER_MAX_SHARE = 0.35  # at most this share of the width (height) is cut from each side


def active_area(thumbs: np.ndarray) -> tuple[slice, slice]:
    """(rows, columns) of the picture inside constant dark borders (letterbox or pillarbox bars).

    Bars are part of every frame and never change, so they make a cut look like a partial change
    (a third of the pixels "unchanged"); segmentation looks inside them. A border row or column is
    one that stays below BORDER_MAX_LEVEL in every frame (sampled), contiguous from the edge.
    """
    n, h, w = thumbs.shape
    if n == 0:
        return slice(0, h), slice(0, w)
    step = max(1, n // 400)
    brightest_row = thumbs[::step].max(axis=(0, 2))
    brightest_col = thumbs[::step].max(axis=(0, 1))

    def extent(levels: np.ndarray) -> slice:
        size = levels.shape[0]
        limit = int(BORDER_MAX_SHARE * size)
        dark = levels < BORDER_MAX_LEVEL
        start = 0
        while start < limit and dark[start]:
            start += 1
        end = size
        while size - end < limit and dark[end - 1]:
            end -= 1
        # Bars frame a brighter picture: a dark picture (a night scene, a fade) is not cropped.
        framed = end - start >= size // 4 and bool((levels[start:end] >= BORDER_MAX_LEVEL).any())
        return slice(start, end) if framed and (start or end < size) else slice(0, size)

    return extent(brightest_row), extent(brightest_col)


def to_float(thumbs: np.ndarray) -> np.ndarray:
    """(N, h, w) float32 in [0, 1]."""
    scaled = thumbs.astype(np.float32)
    scaled *= np.float32(1.0 / 255.0)  # in place: no second float copy of the clip's thumbnails
    return scaled


def _soft_bin_weights(bins: int) -> np.ndarray:
    """(256, bins) float64: how much of one pixel of each grey level goes to each soft bin."""
    position = np.arange(256, dtype=np.float32) * np.float32(bins / 256.0) - np.float32(0.5)
    lower = np.floor(position)
    upper_weight = (position - lower).astype(np.float64)
    lower_bin = np.clip(lower.astype(np.int64), 0, bins - 1)
    upper_bin = np.clip(lower.astype(np.int64) + 1, 0, bins - 1)
    weights = np.zeros((256, bins), dtype=np.float64)
    levels = np.arange(256)
    np.add.at(weights, (levels, lower_bin), 1.0 - upper_weight)
    np.add.at(weights, (levels, upper_bin), upper_weight)
    return weights


def histograms(thumbs: np.ndarray, bins: int = HIST_BINS) -> np.ndarray:
    """(N, bins) normalised grey histograms with soft (linear) binning and a [1 2 1] smoothing.

    Hard bins make a palette-like picture (flat areas, pixel art) flip whole bins on a one-level
    change; soft binning keeps the distance of near-identical frames near 0. A pixel's soft weights
    depend only on its grey level, so a 256-level count per frame times the level-to-bin weights
    gives them (~5x faster than weighting every pixel).
    """
    n = thumbs.shape[0]
    flat = thumbs.reshape(n, -1)
    if flat.dtype != np.uint8:
        raise ValueError(f"histograms: uint8 grey thumbnails expected, got {flat.dtype}")
    levels = np.empty((n, 256), dtype=np.int64)
    for first in range(0, n, FRAMES_PER_PASS):  # the int64 level indices of a block, not of the clip
        block = flat[first : first + FRAMES_PER_PASS]
        offset = (np.arange(block.shape[0], dtype=np.int64) * 256)[:, None]
        levels[first : first + block.shape[0]] = np.bincount(
            (block + offset).ravel(), minlength=block.shape[0] * 256
        ).reshape(-1, 256)
    return _smoothed(levels @ _soft_bin_weights(bins), thumbs[0].size)


def _smoothed(counts: np.ndarray, size: int) -> np.ndarray:
    smoothed = counts * 0.5
    smoothed[:, 1:] += 0.25 * counts[:, :-1]
    smoothed[:, :-1] += 0.25 * counts[:, 1:]
    smoothed[:, 0] += 0.25 * counts[:, 0]  # keep the mass that would leave the range
    smoothed[:, -1] += 0.25 * counts[:, -1]
    return (smoothed / float(size)).astype(np.float32)


def _hann2d(h: int, w: int) -> np.ndarray:
    return (np.hanning(h)[:, None] * np.hanning(w)[None, :]).astype(np.float32)


def parabolic_peak(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-sample offset of a peak from three samples around it, in [-0.5, 0.5]."""
    denom = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / denom, 0.0)
    return np.clip(offset, -0.5, 0.5)


@dataclass(frozen=True)
class PairMotion:
    """Global translation from frame a to frame b for a batch of frame pairs."""

    dy: np.ndarray  # rows; content of b sits at a's content moved by (dy, dx)
    dx: np.ndarray
    peak: np.ndarray  # phase-correlation peak height in [0, 1]: low means no single global motion


def global_motion(g: np.ndarray, a: np.ndarray, b: np.ndarray, spectra: np.ndarray | None = None) -> PairMotion:
    """Phase correlation between thumbnails g[a] and g[b], vectorised over all pairs."""
    h, w = g.shape[1:]
    if spectra is None:  # only the frames involved
        used, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        local = frame_spectra(g[used])
        spec_a, spec_b = local[inverse[: len(a)]], local[inverse[len(a) :]]
    else:
        spec_a, spec_b = spectra[a], spectra[b]
    cross = spec_b * np.conj(spec_a)
    cross /= np.abs(cross) + np.float32(1e-9)
    corr = sfft.irfft2(cross, s=(h, w), workers=1)  # (P, h, w), real: the spectra are of real frames
    flat = corr.reshape(corr.shape[0], -1)
    best = flat.argmax(axis=1)
    py, px = np.divmod(best, w)
    rows = np.arange(corr.shape[0])
    peak = flat[rows, best]
    # Sub-pixel refinement on the circular correlation surface.
    oy = parabolic_peak(corr[rows, (py - 1) % h, px], peak, corr[rows, (py + 1) % h, px])
    ox = parabolic_peak(corr[rows, py, (px - 1) % w], peak, corr[rows, py, (px + 1) % w])
    dy = np.where(py > h // 2, py - h, py) + oy
    dx = np.where(px > w // 2, px - w, px) + ox
    return PairMotion(dy=dy.astype(np.float32), dx=dx.astype(np.float32), peak=np.clip(peak, 0, 1).astype(np.float32))


def frame_spectra(g: np.ndarray) -> np.ndarray:
    """Real FFT (single precision) of every mean-removed, Hann-windowed thumbnail (the window stops
    border wrap dominating); `global_motion` reads the phase correlation from these."""
    window = _hann2d(g.shape[1], g.shape[2])
    spectra = np.empty((g.shape[0], g.shape[1], g.shape[2] // 2 + 1), dtype=np.complex64)
    for first in range(0, g.shape[0], FRAMES_PER_PASS):  # float temporaries of a block, not of the clip
        block = g[first : first + FRAMES_PER_PASS]
        centred = block.astype(np.float32, copy=False) - block.mean(axis=(1, 2), keepdims=True, dtype=np.float32)
        spectra[first : first + block.shape[0]] = sfft.rfft2(centred * window, workers=1)
    return spectra


def _warp_translate(g: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear translation of each frame g[i] by (dy[i], dx[i]); returns warped frames and a validity mask.

    Output pixel (r, c) reads g at (r - dy, c - dx), indices clamped to the frame (edge padding).
    Frames are grouped by the integer part of their shift, so each group is plain slicing of the padded
    stack (no per-pixel gather).
    """
    p, h, w = g.shape
    dy = np.asarray(dy, dtype=np.float32)
    dx = np.asarray(dx, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)[None, :] - dy[:, None]  # source row for every output row
    xs = np.arange(w, dtype=np.float32)[None, :] - dx[:, None]
    valid = ((ys >= 0) & (ys <= h - 1))[:, :, None] & ((xs >= 0) & (xs <= w - 1))[:, None, :]
    out = np.empty(g.shape, dtype=np.result_type(g.dtype, np.float32))
    if p == 0:
        return out, valid
    iy = np.floor(-dy).astype(np.int64)  # r - dy = r + iy + fy with 0 <= fy < 1
    ix = np.floor(-dx).astype(np.int64)
    fy = (-dy - iy).astype(np.float32)
    fx = (-dx - ix).astype(np.float32)
    # Far shifts read only clamped edge values: clamp them to one step beyond the frame (same values).
    iy = np.clip(iy, -h, h)
    ix = np.clip(ix, -w, w)
    py = int(np.abs(iy).max()) + 1
    px = int(np.abs(ix).max()) + 1
    padded = np.pad(g, ((0, 0), (py, py), (px, px)), mode="edge")
    keys = (iy + h) * (2 * w + 1) + (ix + w)
    order = np.argsort(keys, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1):
        y0, x0 = py + int(iy[group[0]]), px + int(ix[group[0]])
        sub = padded[group, y0 : y0 + h + 1, x0 : x0 + w + 1]
        wy = fy[group, None, None]
        wx = fx[group, None, None]
        top = sub[:, :h, :w] + (sub[:, :h, 1:] - sub[:, :h, :w]) * wx
        bottom = sub[:, 1:, :w] + (sub[:, 1:, 1:] - sub[:, 1:, :w]) * wx
        out[group] = top + (bottom - top) * wy
    return out, valid


@dataclass(frozen=True)
class PairDistance:
    """Distances between frame pairs (a, b): the building block of every segmentation signal."""

    hist: np.ndarray  # half L1 distance of grey histograms, in [0, 1]
    pixel: np.ndarray  # mean absolute grey difference, in [0, 1]
    compensated: np.ndarray  # same after undoing the global translation, in [0, 1]
    motion: PairMotion

    @property
    def combined(self) -> np.ndarray:
        """One change score in ~[0, 1.5]: half the histogram change plus the motion-compensated pixel change.

        The histogram term ignores camera motion; the compensated pixel term catches cuts between
        shots with similar tones. The histogram term is halved because a cut's histogram distance is
        typically about twice its mean grey difference, so both contribute about equally.
        """
        combined: np.ndarray = 0.5 * self.hist + np.minimum(1.0, self.compensated)
        return combined


# Pairs per vectorised pass of pair_distance: its temporaries (about ten float32 thumbnails per pair) then
# stay bounded whatever the clip's length; with every feature in blocks, DSP scoring took 0.97x the one-pass time.
PAIRS_PER_PASS = 256


def pair_distance(
    g: np.ndarray, hists: np.ndarray, a: np.ndarray, b: np.ndarray, spectra: np.ndarray | None = None
) -> PairDistance:
    """Distances between frames g[a] and g[b] (index arrays of equal length), PAIRS_PER_PASS pairs at a time."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size <= PAIRS_PER_PASS:
        return _pair_distance(g, hists, a, b, spectra)
    passes = [
        _pair_distance(g, hists, a[i : i + PAIRS_PER_PASS], b[i : i + PAIRS_PER_PASS], spectra)
        for i in range(0, a.size, PAIRS_PER_PASS)
    ]
    return PairDistance(
        hist=np.concatenate([d.hist for d in passes]),
        pixel=np.concatenate([d.pixel for d in passes]),
        compensated=np.concatenate([d.compensated for d in passes]),
        motion=PairMotion(
            dy=np.concatenate([d.motion.dy for d in passes]),
            dx=np.concatenate([d.motion.dx for d in passes]),
            peak=np.concatenate([d.motion.peak for d in passes]),
        ),
    )


def _pair_distance(g: np.ndarray, hists: np.ndarray, a: np.ndarray, b: np.ndarray, spectra: np.ndarray | None) -> PairDistance:
    if a.size == 0:
        empty = np.zeros(0, dtype=np.float32)
        return PairDistance(empty, empty, empty, PairMotion(empty, empty, empty))
    hist = 0.5 * np.abs(hists[b] - hists[a]).sum(axis=1)
    pixel = np.abs(g[b] - g[a]).mean(axis=(1, 2))
    motion = global_motion(g, a, b, spectra)
    h, w = g.shape[1:]
    # Only translations a camera pan could produce in b - a frames are undone.
    limit = np.minimum(MAX_SHIFT_FRACTION, MAX_SHIFT_PER_FRAME * np.abs(b - a).astype(np.float32))
    plausible = (np.abs(motion.dy) <= limit * h) & (np.abs(motion.dx) <= limit * w)
    dy = np.where(plausible, motion.dy, 0.0).astype(np.float32)
    dx = np.where(plausible, motion.dx, 0.0).astype(np.float32)
    warped, valid = _warp_translate(g[a], dy, dx)
    residual = np.abs(g[b] - warped) * valid
    counted = valid.sum(axis=(1, 2))
    compensated = np.where(counted > 0.25 * h * w, residual.sum(axis=(1, 2)) / np.maximum(counted, 1), pixel)
    # Never report more change than the raw difference: compensation may only explain change away.
    compensated = np.minimum(compensated, pixel)
    return PairDistance(
        hist=hist.astype(np.float32),
        pixel=pixel.astype(np.float32),
        compensated=compensated.astype(np.float32),
        motion=motion,
    )


def lag_distance(g: np.ndarray, hists: np.ndarray, lag: int, spectra: np.ndarray | None = None) -> np.ndarray:
    """(N,) combined distance between frame i - lag and frame i, for every i (0 where i < lag)."""
    n = g.shape[0]
    out = np.zeros(n, dtype=np.float32)
    if lag < n:
        b = np.arange(lag, n)
        out[lag:] = pair_distance(g, hists, b - lag, b, spectra).combined
    return out


def blend_fraction(g: np.ndarray, start: int, end: int, spectra: np.ndarray | None = None) -> np.ndarray:
    """Per frame of a transition g[start..end], how far it has mixed from the outgoing frame
    g[start-1] towards the incoming frame g[end+1] (0 = outgoing, 1 = incoming).

    Least squares of g_j ~ (1 - a) A_j + a B_j, where A_j and B_j are the two end frames moved on by
    each shot's own global motion (measured just outside the transition) so a pan inside either shot
    does not bias the estimate; fitted per block, the median over the blocks taken.
    """
    n = g.shape[0]
    before, after = max(0, start - 1), min(n - 1, end + 1)
    inner = np.arange(start, end + 1)
    if inner.size == 0 or before == after:
        return np.zeros(inner.size, dtype=np.float32)
    p0, p1 = max(0, before - 2), min(n - 1, after + 2)
    out_motion = global_motion(g, np.array([p0]), np.array([before]), spectra)
    in_motion = global_motion(g, np.array([after]), np.array([p1]), spectra)
    out_v = (out_motion.dy[0] / max(1, before - p0), out_motion.dx[0] / max(1, before - p0))
    in_v = (in_motion.dy[0] / max(1, p1 - after), in_motion.dx[0] / max(1, p1 - after))
    steps_out = (inner - before).astype(np.float32)
    steps_in = (inner - after).astype(np.float32)
    outgoing, valid_out = _warp_translate(
        np.repeat(g[before][None], inner.size, 0), out_v[0] * steps_out, out_v[1] * steps_out
    )
    incoming, valid_in = _warp_translate(
        np.repeat(g[after][None], inner.size, 0), in_v[0] * steps_in, in_v[1] * steps_in
    )
    valid = valid_out & valid_in
    direction = (incoming - outgoing) * valid
    offset = (g[inner] - outgoing) * valid
    # Fit per block and take the median over the blocks that change: an object or a flash overlapping
    # part of the transition then cannot drag the estimate.
    h, w = g.shape[1:]
    bh, bw = max(1, h // BLEND_BLOCKS), max(1, w // BLEND_BLOCKS)
    rows, cols = h // bh, w // bw

    def blocks(x: np.ndarray) -> np.ndarray:
        summed: np.ndarray = x[:, : rows * bh, : cols * bw].reshape(x.shape[0], rows, bh, cols, bw).sum(axis=(2, 4))
        return summed

    norm = blocks(direction * direction)
    fit = blocks(direction * offset) / np.maximum(norm, 1e-9)
    changing = norm[0] >= 0.25 * float(np.median(norm[0])) if norm[0].size else np.zeros(0, dtype=bool)
    changing &= norm[0] > 1e-6
    fraction: np.ndarray
    if not changing.any():
        total = np.maximum((direction * direction).sum(axis=(1, 2)), 1e-9)
        fraction = ((direction * offset).sum(axis=(1, 2)) / total).astype(np.float32)
    else:
        fraction = np.median(fit[:, changing], axis=1).astype(np.float32)
    return fraction


def _residuals(
    g: np.ndarray, pairs: list[tuple[int, int]], spectra: np.ndarray | None = None
) -> list[tuple[np.ndarray, float]]:
    """Per pair (a, b): |g[b] - g[a]| (valid pixels) after the better of no motion and the estimated
    global translation (a wrong phase-correlation peak, e.g. locked on a new object, must not make
    everything look changed), and the Pearson correlation of the two frames under that alignment.
    The motions and warps of all pairs are computed in one vectorised pass."""
    if not pairs:
        return []
    a_all = np.array([p[0] for p in pairs], dtype=np.int64)
    b_all = np.array([p[1] for p in pairs], dtype=np.int64)
    motion = global_motion(g, a_all, b_all, spectra)
    h, w = g.shape[1:]
    warped, valid = _warp_translate(g[a_all], motion.dy, motion.dx)
    out: list[tuple[np.ndarray, float]] = []
    for k, (a, b) in enumerate(pairs):
        limit = min(MAX_SHIFT_FRACTION, MAX_SHIFT_PER_FRAME * abs(b - a))
        candidates = [(g[a], np.ones(g[a].shape, dtype=bool))]
        if abs(float(motion.dy[k])) <= limit * h and abs(float(motion.dx[k])) <= limit * w:
            # Only a shift camera motion could make; a bigger jump of the framing is a (jump) cut.
            candidates.append((warped[k], valid[k]))
        best: tuple[np.ndarray, float] | None = None
        best_mean = np.inf
        for source, mask in candidates:
            if mask.sum() < 0.25 * mask.size:
                continue
            diff = np.abs(g[b] - source)[mask]
            if diff.mean() < best_mean:
                p = source[mask] - source[mask].mean()
                q = g[b][mask] - g[b][mask].mean()
                corr = float((p * q).sum() / np.sqrt((p * p).sum() * (q * q).sum() + 1e-12))
                best, best_mean = (diff, corr), float(diff.mean())
        assert best is not None  # the unshifted candidate always covers the whole frame
        out.append(best)
    return out


@dataclass(frozen=True)
class ChangeShape:
    """How a change between two frames looks: a cut replaces the whole picture."""

    correlation: float  # Pearson correlation of the aligned frames: ~1 for a flash (same picture, brighter)
    unchanged_share: float  # share of pixels that did not change beyond the shot's own motion/noise level


def change_shape(
    g: np.ndarray, a: int, b: int, reference: list[tuple[int, int]], spectra: np.ndarray | None = None
) -> ChangeShape:
    """Compare frames a and b; `reference` pairs (inside the same shots) set the level of change that
    motion and noise alone produce. An object popping in leaves most pixels unchanged, a cut does not.
    `spectra` (from `frame_spectra(g)`) saves recomputing the frames' FFTs."""
    usable = [(p, q) for p, q in reference if 0 <= p < g.shape[0] and 0 <= q < g.shape[0] and p != q]
    found = _residuals(g, [(a, b), *usable], spectra)
    diff, corr = found[0]
    ref = [d for d, _ in found[1:]]
    level = float(np.percentile(np.concatenate(ref), 95)) if ref else 0.0
    tolerance = max(UNCHANGED_MIN_TOLERANCE, level)
    return ChangeShape(correlation=corr, unchanged_share=float(np.mean(diff < tolerance)))


def picture_energy(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) grey variance and (N,) mean squared gradient of every frame: how much contrast and structure
    it holds. Neither depends on where things are in the frame, so motion leaves both about unchanged,
    while a 50/50 mix of two unrelated pictures holds about half of their mean of either."""
    n = g.shape[0]
    variance = np.empty(n, dtype=np.float32)
    gradient = np.empty(n, dtype=np.float32)
    for first in range(0, n, FRAMES_PER_PASS):
        block = g[first : first + FRAMES_PER_PASS]
        last = first + block.shape[0]
        variance[first:last] = block.reshape(block.shape[0], -1).var(axis=1)
        gy = np.diff(block, axis=1)[:, :, :-1]
        gx = np.diff(block, axis=2)[:, :-1, :]
        gradient[first:last] = (gy * gy + gx * gx).mean(axis=(1, 2))
    return variance, gradient


@dataclass(frozen=True)
class MixFit:
    """How well the frames strictly between g[first] and g[last] are a straight mix of those two."""

    ratio: float  # error of the linear mix / error of the best hard split between the two ends
    ends_distance: float  # mean absolute grey difference of the two ends
    first: int
    last: int

    @property
    def half_point(self) -> float:
        """Where the fitted mix is half done (frames)."""
        return (self.first + self.last) / 2.0


def linear_mix_fit(g: np.ndarray, first: int, last: int) -> MixFit:
    """Compares two explanations of the frames between `first` and `last`: a dissolve (frame j is
    (1 - a) g[first] + a g[last], a rising linearly from 0 to 1) and a hard split (each frame is one end
    or the other, the best switching point taken). A dissolve leaves the mix only the shots' own motion
    to explain (ratio well below 1); motion inside one shot ghosts under the mix and fits it barely
    better than a split (~0.9 for independent pixels, measured 0.66 at the least over in-shot motion of
    real footage)."""
    return linear_mix_fits(g, [(first, last)])[0]


def linear_mix_fits(g: np.ndarray, windows: Sequence[tuple[int, int]]) -> list[MixFit]:
    """`linear_mix_fit` for many (first, last) windows (last >= first + 2) at once: every inner frame of
    every window in one array operation (a DK bump tries ~40 windows)."""
    if not windows:
        return []
    firsts = np.array([w[0] for w in windows])
    lengths = np.array([w[1] - w[0] for w in windows])
    owner = np.repeat(np.arange(len(windows)), lengths - 1)  # window of each inner frame
    step = np.concatenate([np.arange(1, length) for length in lengths])  # its place inside the window
    a_end, b_end, inner = g[firsts[owner]], g[(firsts + lengths)[owner]], g[firsts[owner] + step]
    alpha = (step / lengths[owner]).astype(np.float32)[:, None, None]
    mix_error = np.abs(inner - ((1 - alpha) * a_end + alpha * b_end)).mean(axis=(1, 2))
    to_a = np.abs(inner - a_end).mean(axis=(1, 2))
    to_b = np.abs(inner - b_end).mean(axis=(1, 2))
    ends = np.abs(g[firsts] - g[firsts + lengths]).mean(axis=(1, 2))
    fits = []
    starts = np.concatenate([[0], np.cumsum(lengths - 1)])
    for k, (first, last) in enumerate(windows):
        part = slice(int(starts[k]), int(starts[k + 1]))
        # Split after inner frame p (p = 0..m): frames before it are the first end, the rest the last.
        before, after = np.cumsum(to_a[part]), np.cumsum(to_b[part])
        split = np.concatenate([[0.0], before]) + (float(after[-1]) - np.concatenate([[0.0], after]))
        fits.append(MixFit(
            ratio=float(mix_error[part].sum()) / max(float(split.min()), 1e-9),
            ends_distance=float(ends[k]),
            first=int(first),
            last=int(last),
        ))
    return fits
