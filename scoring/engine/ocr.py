"""Text rendering: RapidOCR (PP-OCRv4 ONNX models inside the `rapidocr-onnxruntime` wheel) reads the shots whose
script asks for on-screen text; the score is 1 - CER against the scripted text.

Only on the expert path and only in the shots that ask: OCR costs ~0.5 s a frame on this CPU.
Comparison ignores case, whitespace and punctuation (PP-OCR's recogniser often drops the spaces between
words, and a title's styling is not the model's error to count).
"""

from __future__ import annotations

import importlib.util
import threading
import unicodedata
from functools import lru_cache
from typing import Any

import numpy as np

from .decode import DecodedClip
from .metrics.base import MetricValue, measured, not_measured
from .script import PromptScript
from .segmentation import SegmentationResult
from .versions import package_version, tool_versions

NAME = "video_text_rendering"
TOOL = "expert:rapidocr-ppocrv4"
SAMPLES_PER_SHOT = 2  # the best-read of these counts (text may fade in)
MIN_LINE_SCORE = 0.5


@lru_cache(maxsize=1)
def ocr_available() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


_engine: Any = None
_engine_lock = threading.Lock()


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

            _engine = RapidOCR()
        return _engine


def normalise_text(text: str) -> str:
    """Case-folded letters and digits only (NFKC), the unit the character error rate counts."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions); on-screen texts are short."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise_text(reference), normalise_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def read_text(rgb: np.ndarray) -> tuple[str, list[dict[str, Any]]]:
    """The text lines in a frame, top to bottom then left to right, joined by spaces; and the lines."""
    result, _ = _get_engine()(np.ascontiguousarray(rgb), use_cls=False)
    lines: list[dict[str, Any]] = []
    for box, text, score in result or []:
        if float(score) < MIN_LINE_SCORE:
            continue
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        lines.append({"text": str(text), "score": round(float(score), 3), "top": float(min(ys)), "left": float(min(xs))})
    lines.sort(key=lambda line: (round(line["top"] / 20), line["left"]))
    return " ".join(line["text"] for line in lines), lines


def text_rendering_metric(
    script: PromptScript | None, decoded: DecodedClip, seg: SegmentationResult, use_expert_models: bool
) -> MetricValue:
    asked = [shot for shot in (script.shots if script else ()) if shot.on_screen_text.strip()]
    version = tool_versions() + f"; rapidocr-onnxruntime {package_version('rapidocr-onnxruntime')}"
    if not asked:
        return not_measured(NAME, "the script asks for no on-screen text", TOOL, version)
    if not use_expert_models:
        return not_measured(NAME, "OCR is an expert model and expert models are off (DSP path)", TOOL, version)
    if not ocr_available():
        return not_measured(NAME, "rapidocr-onnxruntime is not installed", TOOL, version)
    rows: list[dict[str, Any]] = []
    for shot in asked:
        detected = seg.alignment[shot.index - 1] if shot.index - 1 < len(seg.alignment) else None
        if detected is None:
            rows.append({"scripted_shot": shot.index, "expected": shot.on_screen_text, "read": None,
                         "cer": None, "note": "the shot was not generated (counted by the shot-completion penalty)"})
            continue
        span = seg.shots[detected]
        inside = [s for s in decoded.samples if span.start_frame <= s.index < span.end_frame]
        if not inside:
            rows.append({"scripted_shot": shot.index, "expected": shot.on_screen_text, "read": None, "cer": None,
                         "note": "no sampled frame inside the shot"})
            continue
        picks = np.linspace(0, len(inside) - 1, min(SAMPLES_PER_SHOT, len(inside))).round().astype(int)
        best: tuple[float, str] | None = None
        for i in sorted(set(picks.tolist())):
            text, _ = read_text(inside[i].rgb)
            cer = character_error_rate(shot.on_screen_text, text)
            if best is None or cer < best[0]:
                best = (cer, text)
        assert best is not None
        rows.append({"scripted_shot": shot.index, "expected": shot.on_screen_text, "read": best[1],
                     "cer": round(best[0], 4), "score": round(1.0 - min(1.0, best[0]), 4)})
    scored = [r for r in rows if r["cer"] is not None]
    if not scored:
        return not_measured(NAME, "none of the shots asking for text was generated or sampled", TOOL, version, {"shots": rows})
    value = float(np.mean([r["score"] for r in scored]))
    return measured(NAME, value, TOOL, version, {"shots": rows})
