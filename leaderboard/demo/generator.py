"""Writes the whole demo: the msav-demo suite, one submission archive per demo model, and the ground truth."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from scoring.engine.script import MANIFEST_NAME

from . import audio as audio_mod
from .media import render_frames, write_clip
from .photos import subject_crop
from .plan import ClipPlan, clip_seed, plan_clip
from .roster import DEMO_MODELS, DemoModel, get_model
from .suite import demo_suite, get_prompt, prompt_ids, suite_to_dict

GENERATOR_VERSION = "1"
# A small slice for tests that still has hard cuts (dialogue-001), a dissolve (advert-002), a missing
# clip (driftsync has no narrative-001) and an audio offset (driftsync, +400 ms).
STAMP_NAME = "demo-stamp.json"
OWNED_DIRS = ("suite", "submissions", "clips", "truth")  # wiped and rewritten on every run
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates keep archives reproducible


@dataclass
class DemoManifest:
    """What generate_demo wrote; every path is under out_dir."""

    out_dir: Path
    seed: int
    width: int
    height: int
    fps: int
    suite_dir: Path
    suite_json: Path
    models_json: Path
    models: list[str]
    prompts: list[str]
    archives: dict[str, Path] = field(default_factory=dict)
    clips: dict[str, list[Path]] = field(default_factory=dict)
    truth: dict[str, Path] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    elapsed_s: float = 0.0
    workers: int = 1
    params_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        def rel(p: Path) -> str:
            return p.relative_to(self.out_dir).as_posix()

        return {
            "generator_version": GENERATOR_VERSION,
            "params_hash": self.params_hash,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "suite": rel(self.suite_json),
            "models_json": rel(self.models_json),
            "models": self.models,
            "prompts": self.prompts,
            "archives": {k: rel(v) for k, v in self.archives.items()},
            "clips": {k: [rel(p) for p in v] for k, v in self.clips.items()},
            "truth": {k: rel(v) for k, v in self.truth.items()},
            "missing": self.missing,
            "elapsed_s": round(self.elapsed_s, 2),
            "workers": self.workers,
        }


def _resolve(models: list[str] | None, prompts: list[str] | None) -> tuple[list[DemoModel], list[str]]:
    chosen_models = [get_model(slug) for slug in models] if models else list(DEMO_MODELS)
    known = prompt_ids()
    if prompts:
        for pid in prompts:
            get_prompt(pid)  # raises with the list of known ids
        chosen_prompts = [pid for pid in known if pid in set(prompts)]
    else:
        chosen_prompts = list(known)
    return chosen_models, chosen_prompts


def _source_digest() -> str:
    """Hash of this package's code, so a changed generator invalidates earlier output."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def params_hash(seed: int, models: list[str], prompts: list[str], width: int, height: int, fps: int) -> str:
    payload = json.dumps(
        {
            "version": GENERATOR_VERSION,
            "source": _source_digest(),
            "seed": seed,
            "models": models,
            "prompts": prompts,
            "width": width,
            "height": height,
            "fps": fps,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def demo_is_complete(
    out_dir: Path,
    *,
    seed: int = 7,
    models: list[str] | None = None,
    prompts: list[str] | None = None,
    width: int = 320,
    height: int = 180,
    fps: int = 24,
) -> bool:
    """True when out_dir holds a finished run with these parameters (and this generator code): cheap stat()s only."""
    stamp = Path(out_dir) / STAMP_NAME
    try:
        data = json.loads(stamp.read_text())
        chosen_models, chosen_prompts = _resolve(models, prompts)
    except (OSError, ValueError, KeyError):
        return False
    wanted = params_hash(seed, [m.slug for m in chosen_models], chosen_prompts, width, height, fps)
    if data.get("params_hash") != wanted:
        return False
    for rel, size in data.get("files", {}).items():
        path = Path(out_dir) / rel
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_suite(suite_dir: Path, prompts: list[str], seed: int) -> Path:
    """suite.json plus the reference PNGs (photo crops) and WAVs (the synthetic voices) it names."""
    suite = demo_suite(prompts)
    refs = suite_dir / "references"
    refs.mkdir(parents=True, exist_ok=True)
    for prompt in suite.prompts:
        _, direction = get_prompt(prompt.id)
        for source in direction.references:
            target = suite_dir / source.file
            if source.kind == "voice":
                target.write_bytes(audio_mod.voice_reference(source.source, seed))
            else:
                buffer = io.BytesIO()
                Image.fromarray(subject_crop(source.source)).save(buffer, format="PNG")
                target.write_bytes(buffer.getvalue())
    suite_json = suite_dir / "suite.json"
    _write_json(suite_json, suite_to_dict(suite))
    return suite_json


def render_clip(model_slug: str, prompt_id: str, seed: int, width: int, height: int, fps: int, path: Path) -> dict[str, Any]:
    """Render one (model, prompt) clip to `path` and return its ground truth."""
    model = get_model(model_slug)
    prompt, direction = get_prompt(prompt_id)
    plan = plan_clip(prompt, direction, model, seed=seed, fps=fps, width=width, height=height)
    sound, sound_truth = audio_mod.clip_audio(prompt, direction, plan, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_clip(path, render_frames(plan), sound, width=width, height=height, fps=fps)
    return clip_truth(plan, sound_truth, prompt_id, model)


def clip_truth(plan: ClipPlan, sound: dict[str, Any], prompt_id: str, model: DemoModel) -> dict[str, Any]:
    """The ground truth of one rendered clip, straight from its plan."""
    prompt, direction = get_prompt(prompt_id)
    fps = plan.fps
    shots = []
    for index, segment in enumerate(plan.segments, start=1):
        shots.append(
            {
                "index": index,
                "start_frame": segment.start_frame,
                "end_frame": segment.end_frame,
                "start_s": round(segment.start_frame / fps, 6),
                "end_s": round(segment.end_frame / fps, 6),
                "scripted_shots": segment.scripted,
                "photo": segment.photo,
                "swapped_from": segment.swapped_from or None,
                "shot_scale": segment.scale,
                "camera_motion": segment.motion,
                "spurious": segment.spurious,
            }
        )
    boundaries = [
        {
            "frame": b.frame,
            "time_s": round(b.frame / fps, 6),
            "transition": b.transition,
            "frames": b.frames,
            "start_frame": b.start_frame,
            "end_frame": b.end_frame,
            "scripted_shot": b.scripted_shot,
            "spurious": b.scripted_shot is None,
        }
        for b in plan.boundaries
    ]
    defects: list[dict[str, Any]] = []
    if plan.blur_sigma:
        defects.append({"kind": "blur", "sigma": plan.blur_sigma})
    if plan.noise_sigma:
        defects.append({"kind": "noise", "sigma": plan.noise_sigma})
    if plan.merged_shots:
        defects.append({"kind": "merged_shots", "scripted_shots": plan.merged_shots})
    spurious = [b.frame for b in plan.boundaries if b.scripted_shot is None]
    if spurious:
        defects.append({"kind": "spurious_cuts", "frames": spurious})
    forced = [b.frame for b in plan.boundaries if b.scripted_shot is not None
              and b.transition != prompt.shots[b.scripted_shot - 1].transition_in]
    if forced:
        defects.append({"kind": "transition_override", "transition": model.defects.force_transition, "frames": forced})
    swapped = [s["index"] for s in shots if s["swapped_from"]]
    if swapped:
        defects.append({"kind": "subject_swapped", "generated_shots": swapped})
    if plan.voice_swaps:
        defects.append({"kind": "voice_swapped", "voices": plan.voice_swaps})
    defects.extend(sound["defects"])

    references = list(plan.subject_truth)
    for ref, source in zip(prompt.references, direction.references):
        if ref.kind == "voice":
            used = plan.voice_swaps.get(source.source, source.source)
            references.append(
                {
                    "kind": "voice",
                    "name": ref.name,
                    "file": ref.file,
                    "voice": source.source,
                    "voice_used": used,
                    "matches": used == source.source,
                    "expected_shots": list(ref.shots) or [s.index for s in prompt.shots],
                }
            )
        elif ref.kind == "scene":
            references.append({"kind": "scene", "name": ref.name, "file": ref.file, "photo": source.source, "appears": True})

    events = []
    for event in plan.events:
        events.append(event.truth(plan.segment_at(event.frame) + 1))
    return {
        "missing": False,
        "seed": plan.seed,
        "duration_s": round(plan.frame_count / fps, 6),
        "frame_count": plan.frame_count,
        "scripted_shot_count": len(prompt.shots),
        "generated_shot_count": len(plan.segments),
        "shots": shots,
        "boundaries": boundaries,
        "audio_offset_ms": plan.audio_offset_ms,
        "visual_events": events,
        "audio_events": sound["audio_events"],
        "speech": sound["speech"],
        "on_screen_text": [{"start_frame": a, "end_frame": b, "text": t} for a, b, t in plan.texts],
        "references": references,
        "defects": defects,
        "loudness_lufs_clean": sound["loudness_lufs_clean"],
    }


def _job(args: tuple[str, str, int, int, int, int, str]) -> tuple[str, str, dict[str, Any], float]:
    slug, pid, seed, width, height, fps, path = args
    started = time.perf_counter()
    truth = render_clip(slug, pid, seed, width, height, fps, Path(path))
    return slug, pid, truth, time.perf_counter() - started


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is fastest (no re-import), but only safe while this process runs a single thread.
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 7,
    models: list[str] | None = None,
    prompts: list[str] | None = None,
    width: int = 320,
    height: int = 180,
    fps: int = 24,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoManifest:
    """Generate the demo suite, submissions, clips, model registry and ground truth under out_dir.

    workers=None uses every CPU; workers=1 renders serially in this process. Output is identical either way.
    """
    started = time.perf_counter()
    if width % 2 or height % 2 or width < 32 or height < 32:
        raise ValueError("width and height must be even and at least 32 (yuv420p)")
    if not 1 <= fps <= 120:
        raise ValueError("fps must be within 1..120")
    say = progress or (lambda _message: None)
    chosen_models, chosen_prompts = _resolve(models, prompts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / STAMP_NAME).unlink(missing_ok=True)  # an interrupted run must not look complete
    for name in OWNED_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)

    slugs = [m.slug for m in chosen_models]
    manifest = DemoManifest(
        out_dir=out_dir,
        seed=seed,
        width=width,
        height=height,
        fps=fps,
        suite_dir=out_dir / "suite",
        suite_json=out_dir / "suite" / "suite.json",
        models_json=out_dir / "models.json",
        models=slugs,
        prompts=chosen_prompts,
        params_hash=params_hash(seed, slugs, chosen_prompts, width, height, fps),
    )
    write_suite(manifest.suite_dir, chosen_prompts, seed)
    say(f"suite: {manifest.suite_json} ({len(chosen_prompts)} prompts)")
    ranking = sorted(chosen_models, key=lambda m: m.intended_rank)
    # A list (what leaderboard.demo_seed reads), best model first; each entry carries its intended_rank.
    _write_json(manifest.models_json, [m.registry_entry() for m in ranking])
    say(f"models: {manifest.models_json} ({len(slugs)} models)")

    jobs = []
    for model in chosen_models:
        manifest.missing[model.slug] = [pid for pid in chosen_prompts if pid in model.defects.missing]
        for pid in chosen_prompts:
            if pid not in model.defects.missing:
                path = out_dir / "clips" / model.slug / f"{pid}.mp4"
                jobs.append((model.slug, pid, seed, width, height, fps, str(path)))
    # Longest clips first, so the last worker to finish is not stuck with a 15-second prompt.
    # Same-prompt jobs stay adjacent so each worker's stage cache is reused across models.
    jobs.sort(key=lambda j: (-get_prompt(j[1])[0].duration_s, j[1], j[0]))
    count = workers if workers is not None else (os.cpu_count() or 1)
    count = max(1, min(count, len(jobs) or 1))
    if multiprocessing.current_process().daemon:
        count = 1  # e.g. inside a Celery prefork child: daemonic processes may not start a pool
    manifest.workers = count
    results: dict[tuple[str, str], dict[str, Any]] = {}
    if count == 1:
        for job in jobs:
            slug, pid, truth, spent = _job(job)
            results[(slug, pid)] = truth
            say(f"clip: {slug}/{pid}.mp4 ({spent:.1f} s)")
    else:
        with _pool_context().Pool(count) as pool:
            for slug, pid, truth, spent in pool.imap_unordered(_job, jobs):
                results[(slug, pid)] = truth
                say(f"clip: {slug}/{pid}.mp4 ({spent:.1f} s)")

    for model in chosen_models:
        clips: dict[str, Any] = {}
        paths = []
        for pid in chosen_prompts:
            if (model.slug, pid) in results:
                clips[pid] = results[(model.slug, pid)]
                paths.append(out_dir / "clips" / model.slug / f"{pid}.mp4")
            else:
                clips[pid] = {"missing": True, "seed": clip_seed(seed, pid, model.slug)}
        manifest.clips[model.slug] = paths
        truth_path = out_dir / "truth" / f"{model.slug}.json"
        _write_json(
            truth_path,
            {
                "model": model.slug,
                "name": model.name,
                "seed": seed,
                "fps": fps,
                "width": width,
                "height": height,
                "sample_rate": audio_mod.SAMPLE_RATE,
                "defects": model.registry_entry()["defects"],
                "clips": clips,
            },
        )
        manifest.truth[model.slug] = truth_path
        manifest.archives[model.slug] = _write_archive(out_dir / "submissions" / f"{model.slug}.zip", model, paths, clips)
        say(f"submission: {manifest.archives[model.slug]} ({len(paths)} clips, missing: {', '.join(manifest.missing[model.slug]) or 'none'})")

    manifest.elapsed_s = time.perf_counter() - started
    _write_stamp(manifest)
    say(f"done in {manifest.elapsed_s:.1f} s with {count} worker(s)")
    return manifest


def _write_archive(path: Path, model: DemoModel, clips: list[Path], truth: dict[str, Any]) -> Path:
    """The submission: `<prompt id>.mp4` members plus manifest.json, with fixed dates for reproducibility."""
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "model": model.name,
        "notes": model.notes,
        "clips": {clip.stem: {"seed": truth[clip.stem]["seed"]} for clip in clips},
    }
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo(MANIFEST_NAME, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for clip in clips:
            info = zipfile.ZipInfo(clip.name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED  # MP4 is already compressed
            archive.writestr(info, clip.read_bytes())
    return path


def _write_stamp(manifest: DemoManifest) -> None:
    files = {}
    owned = [manifest.models_json] + [p for name in OWNED_DIRS for p in (manifest.out_dir / name).rglob("*")]
    for path in sorted(owned):
        if path.is_file():
            files[path.relative_to(manifest.out_dir).as_posix()] = path.stat().st_size
    data = manifest.to_dict()
    data["files"] = files
    _write_json(manifest.out_dir / STAMP_NAME, data)


def load_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The stamp of the last complete run in out_dir, or None."""
    try:
        stamp: dict[str, Any] = json.loads((Path(out_dir) / STAMP_NAME).read_text())
        return stamp
    except (OSError, ValueError):
        return None


__all__ = [
    "DemoManifest",
    "demo_is_complete",
    "generate_demo",
    "load_manifest",
    "render_clip",
    "write_suite",
]


if __name__ == "__main__":  # pragma: no cover - manual timing aid
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/msav-demo")
    result = generate_demo(target, progress=print)
    print(json.dumps(result.to_dict()["archives"], indent=2))
