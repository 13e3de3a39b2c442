"""Fixtures of the engine tests: synthetic clips with known ground truth, built once per session on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.engine.engine_synth import AUDIO_RATE, SYNC_FLASHES, SynthClip, SynthShot, click_track, make_clip, tone_track

from scoring.engine.script import PromptScript, prompt_from_dict

S = SynthShot


def _degradation_shots() -> list[SynthShot]:
    return [S("astronaut", 1.5, "pan"), S("coffee", 1.5, "static")]


# name -> (shots, make_clip keyword arguments); see ClipFactory for the 'audio' option.
CLIP_SPECS: dict[str, tuple[list[SynthShot], dict[str, Any]]] = {
    "cuts_pans": (
        [S("astronaut", 2.0, "pan"), S("coffee", 1.6, "tilt"), S("rocket", 2.0, "pan"),
         S("chelsea", 1.4, "zoom"), S("immunohistochemistry", 1.6, "static")],
        {"fps": 25.0},
    ),
    "dissolves": (
        [S("rocket", 2.5, "pan"), S("astronaut", 2.5, "zoom", "dissolve", 12), S("coffee", 2.5, "pan", "dissolve", 12),
         S("chelsea", 2.5, "tilt", "fade", 16), S("immunohistochemistry", 2.5, "static", "dissolve", 24)],
        {"fps": 24.0},
    ),
    "mixed_640": (
        [S("coffee", 2.0, "zoom-out"), S("rocket", 2.0, "pan", "dissolve", 12), S("astronaut", 2.0, "tilt"),
         S("immunohistochemistry", 2.0, "pan", "wipe", 12), S("camera", 2.0, "zoom")],
        {"fps": 30.0, "size": (640, 360)},
    ),
    "single_pan": ([S("astronaut", 5.0, "pan")], {"fps": 25.0}),
    "single_zoom": ([S("coffee", 5.0, "zoom")], {"fps": 25.0}),
    "single_tilt": ([S("hubble_deep_field", 4.0, "tilt")], {"fps": 24.0}),
    "single_zoom_out": ([S("rocket", 4.0, "zoom-out")], {"fps": 30.0}),
    # Things that change the picture without a new shot: objects popping in, flashes dying away.
    "local_events": (
        [S("coffee", 4.0, "pan"), S("chelsea", 4.0, "static"), S("hubble_deep_field", 3.0, "tilt")],
        {"fps": 24.0, "pops_s": (0.8, 2.6, 5.0, 9.2), "decaying_flashes_s": (1.7, 3.3, 6.4, 10.1)},
    ),
    # A sub-threshold boundary: a cut between two regions of the same dim, blurred gravel texture.
    "weak_boundary": (
        [S("rocket", 2.0, "pan"), S("gravel", 2.5, "static", gain=0.4, region=(0.3, 0.5)),
         S("gravel", 2.0, "static", gain=0.4, region=(0.7, 0.5)), S("astronaut", 2.0, "pan")],
        {"fps": 25.0, "blur_sigma": 2.0},
    ),
    # A weak but accepted boundary: the same cut at full contrast.
    "soft_boundary": (
        [S("rocket", 2.0, "pan"), S("gravel", 2.5, "static", region=(0.3, 0.5)),
         S("gravel", 2.0, "static", region=(0.7, 0.5)), S("astronaut", 2.0, "pan")],
        {"fps": 25.0, "blur_sigma": 2.0},
    ),
    "long15": (
        [S("astronaut", 3.0, "pan"), S("coffee", 3.0, "zoom", "dissolve", 12), S("rocket", 3.0, "static"),
         S("chelsea", 3.0, "tilt", "dissolve", 12), S("immunohistochemistry", 3.0, "pan", "fade", 12)],
        {"fps": 25.0, "audio": lambda d: click_track(d, (1.1, 2.3, 4.6, 7.9, 10.2, 13.3), bed_level=0.01)},
    ),
    "no_audio": ([S("rocket", 1.5, "pan"), S("coffee", 1.5, "static")], {"fps": 25.0, "audio": None}),
    "sync_flat": (
        [S("rocket", 4.0, "pan"), S("coffee", 4.0, "static")],
        {"fps": 25.0, "audio": lambda d: click_track(d, SYNC_FLASHES)},
    ),
}
def _clicks(offset_s: float) -> Callable[[float], np.ndarray]:
    return lambda duration: click_track(duration, SYNC_FLASHES, offset_s=offset_s)


def _clipped_tone(gain: float) -> Callable[[float], np.ndarray]:
    # A tone peaking at -6 dBFS, amplified and hard-clipped at full scale before AAC encoding.
    return lambda duration: np.clip(tone_track(duration, level=0.5) * gain, -1.0, 1.0)


def _tone_with_hiss(level: float) -> Callable[[float], np.ndarray]:
    # The tone sounds for the first half of every second; white noise of `level` RMS throughout.
    def build(duration: float) -> np.ndarray:
        n = int(round(duration * AUDIO_RATE))
        gate = (np.arange(n) % AUDIO_RATE) < AUDIO_RATE // 2
        hiss = np.random.default_rng(0).normal(0.0, level, n)
        return (tone_track(duration, level=0.3)[:n] * gate + hiss).astype(np.float32)

    return build


for _offset in (0.0, 0.2, -0.3, 0.5, 1.0):
    CLIP_SPECS[f"sync_{_offset:+.1f}"] = (
        [S("rocket", 4.0, "pan"), S("coffee", 4.0, "static")],
        {"fps": 25.0, "flashes_s": SYNC_FLASHES, "audio": _clicks(_offset)},
    )
# The same five scripted 2 s shots, the later ones left out: the last shot made runs on to the end.
_FIVE = [S("astronaut", 2.0, "pan"), S("coffee", 2.0, "static"), S("rocket", 2.0, "pan"),
         S("chelsea", 2.0, "zoom"), S("immunohistochemistry", 2.0, "static")]
for _made in (5, 4, 3, 2):
    CLIP_SPECS[f"shots_made_{_made}"] = (
        _FIVE[: _made - 1] + [replace(_FIVE[_made - 1], duration_s=2.0 * (6 - _made))],
        {"fps": 25.0},
    )
for _level in (0.0, 1.0, 2.0, 3.0):
    CLIP_SPECS[f"blur_{_level:g}"] = (_degradation_shots(), {"blur_sigma": _level})
for _level in (0.0, 6.0, 12.0, 20.0):
    CLIP_SPECS[f"noise_{_level:g}"] = (_degradation_shots(), {"noise_sigma": _level})
for _level in (1.0, 1.4, 1.8, 2.5):
    CLIP_SPECS[f"gain_{_level:g}"] = (_degradation_shots(), {"gain": _level})
for _level in (0.0, 0.01, 0.03, 0.08):
    CLIP_SPECS[f"flicker_{_level:g}"] = (_degradation_shots(), {"flicker": _level})
for _level in (1.0, 2.0, 4.0, 8.0):
    CLIP_SPECS[f"audio_gain_{_level:g}"] = (_degradation_shots(), {"audio": _clipped_tone(_level)})
for _level in (0.001, 0.01, 0.03, 0.1):
    CLIP_SPECS[f"hiss_{_level:g}"] = (_degradation_shots(), {"audio": _tone_with_hiss(_level)})


class ClipFactory:
    """Builds each named clip once per session, on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[str, SynthClip] = {}

    def __call__(self, name: str) -> SynthClip:
        if name not in self._built:
            shots, options = CLIP_SPECS[name]
            options = dict(options)
            duration = sum(s.duration_s for s in shots)
            # "audio": a function of the duration, None for a clip without an audio stream; default a tone.
            audio = options.pop("audio", tone_track)
            track = audio(duration) if audio is not None else None
            self._built[name] = make_clip(self.root / f"{name}.mp4", shots, audio=track, **options)
        return self._built[name]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> ClipFactory:
    return ClipFactory(tmp_path_factory.mktemp("engine-clips"))


@pytest.fixture(scope="session")
def make_script() -> Callable[..., PromptScript]:
    """A PromptScript whose shots start at the given times (the suite format's shape)."""

    def build(
        starts: list[float],
        duration_s: float,
        transitions: list[str] | None = None,
        audio_classes: tuple[str, ...] = ("sfx", "music"),
    ) -> PromptScript:
        ends = list(starts[1:]) + [duration_s]
        transitions = transitions or (["none"] + ["hard-cut"] * (len(starts) - 1))
        shots = [
            {
                "start_s": round(a, 4),
                "end_s": round(b, 4),
                "caption": f"shot {i + 1}",
                "shot_scale": "medium",
                "camera_angle": "eye-level",
                "camera_motion": "pan",
                "transition_in": t,
            }
            for i, (a, b, t) in enumerate(zip(starts, ends, transitions))
        ]
        return prompt_from_dict(
            {
                "id": "synthetic",
                "category": "action",
                "style": "photo-realistic",
                "subject_realism": "real",
                "scene_realism": "real",
                "languages": [],
                "audio_classes": list(audio_classes),
                "duration_s": duration_s,
                "script": f"This video contains {len(starts)} shots.",
                "shots": shots,
            }
        )

    return build
