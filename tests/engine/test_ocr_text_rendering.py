"""Text rendering with RapidOCR: 1 - CER against the script's on_screen_text, only in the shots that ask for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from tests.engine.engine_synth import SynthShot, render_frames, write_clip

from scoring.engine.decode import decode_clip
from scoring.engine.metrics.base import MEASURED, NOT_MEASURED
from scoring.engine.ocr import character_error_rate, edit_distance, ocr_available, text_rendering_metric
from scoring.engine.script import PromptScript, prompt_from_dict
from scoring.engine.segmentation import segment

SHOTS = [SynthShot("rocket", 2.0, "static"), SynthShot("coffee", 2.0, "static")]


def _titled(path: Path, title: str) -> Path:
    """Two shots of real photographs; the second carries `title` as a white caption with a dark outline."""
    frames, boundaries, _ = render_frames(SHOTS, 25.0, (480, 270))
    font = ImageFont.load_default(size=34)
    out = []
    for n, frame in enumerate(frames):
        if n >= boundaries[0] and title:
            image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
            ImageDraw.Draw(image).text((30, 190), title, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
            frame = np.asarray(image, dtype=np.float32)
        out.append(frame)
    write_clip(path, out, 25.0, audio=None)
    return path


def _script(text: str) -> PromptScript:
    shots = [
        {"start_s": 0.0, "end_s": 2.0, "caption": "the rocket", "shot_scale": "long", "camera_angle": "low",
         "camera_motion": "static", "transition_in": "none"},
        {"start_s": 2.0, "end_s": 4.0, "caption": "a coffee", "shot_scale": "close-up", "camera_angle": "high",
         "camera_motion": "static", "transition_in": "hard-cut", **({"on_screen_text": text} if text else {})},
    ]
    return prompt_from_dict({
        "id": "titled", "category": "advertising", "style": "photo-realistic", "subject_realism": "real",
        "scene_realism": "real", "languages": ["en"], "audio_classes": [], "duration_s": 4.0, "script": "Two shots.",
        "shots": shots,
    })


def _score(path: Path, script: PromptScript, expert: bool = True):  # type: ignore[no-untyped-def]
    decoded = decode_clip(path)
    scripted = [(s.start_s, s.end_s) for s in script.shots]
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s, scripted_shots=scripted,
                  script_duration_s=script.duration_s)
    return text_rendering_metric(script, decoded, seg, expert)


def test_character_error_rate() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert character_error_rate("Grand Opening!", "GRANDOPENING") == 0.0  # case, spaces, punctuation ignored
    assert character_error_rate("MORNING BREW", "MORNlNG BREV") == pytest.approx(2 / 11)
    assert character_error_rate("abc", "") == 1.0


@pytest.mark.skipif(not ocr_available(), reason="rapidocr-onnxruntime not installed")
def test_rendered_text_is_read_and_misspelt_or_missing_text_scores_lower(tmp_path: Path) -> None:
    asked = _script("FRESH COFFEE DAILY")
    right = _score(_titled(tmp_path / "right.mp4", "FRESH COFFEE DAILY"), asked)
    assert right.status == MEASURED and right.tool == "expert:rapidocr-ppocrv4"
    assert right.value >= 0.9, right.raw
    [row] = right.raw["shots"]
    assert row["scripted_shot"] == 2
    misspelt = _score(_titled(tmp_path / "misspelt.mp4", "FRSH CAFE DAYLY"), asked)
    missing = _score(_titled(tmp_path / "missing.mp4", ""), asked)
    assert right.value > misspelt.value + 0.15 > missing.value + 0.15, (right.raw, misspelt.raw, missing.raw)
    # Only where asked: the same clip with a script asking for no text, and on the DSP path.
    assert _score(tmp_path / "right.mp4", _script("")).status == NOT_MEASURED
    dsp = _score(tmp_path / "right.mp4", asked, expert=False)
    assert dsp.status == NOT_MEASURED and "DSP path" in dsp.reason
