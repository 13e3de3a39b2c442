"""Sound for the audio tests: the demo generator's formant voices and songs, and DecodedClips built
straight from samples (the decoder's own resampler and peak meter, no video encoding), so graded
degradations can be scored in milliseconds."""

from __future__ import annotations

import numpy as np
from scipy import signal

from leaderboard.demo.audio import SAMPLE_RATE, VOICES, music, speak
from scoring.engine.decode import AUDIO_RATE, AudioPeakMeter, DecodedClip
from scoring.engine.script import PromptScript, prompt_from_dict

FPS = 25.0
LINES = (
    "Start with a warm cup and a fresh shot of espresso.",
    "Look for a thick golden crema on the top.",
    "Rest the spoon on the saucer, handle to the right.",
    "And that is a perfect espresso, enjoy it slowly.",
)


def speech_track(seconds: float, voice: str = "barista", shot_s: float = 3.0, seed: int = 0) -> np.ndarray:
    """One spoken line per `shot_s` shot (starting 0.2 s in), 48 kHz mono at about -20 dBFS RMS in speech."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n)
    for i, start in enumerate(np.arange(0.0, seconds - 0.5, shot_s)):
        line = speak(VOICES[voice], LINES[i % len(LINES)], "en", shot_s - 0.6, np.random.default_rng(seed + i))
        a = int((start + 0.2) * SAMPLE_RATE)
        line = line[: n - a]
        out[a : a + len(line)] += 0.3 * line
    return out


def song_track(seconds: float, tempo: float = 110.0, key: int = 57, seed: int = 0) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    return 0.3 * music(n, tempo, key, "pop", np.random.default_rng(seed))


def normalise(x: np.ndarray, rms_dbfs: float = -20.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2)))
    return x * (10 ** (rms_dbfs / 20) / max(rms, 1e-12))


def decoded_from_audio(audio_48k: np.ndarray, *, width: int = 64, height: int = 36) -> DecodedClip:
    """A DecodedClip whose audio went through what decode_clip does to it (peak meter on the source
    samples, one resampling to the analysis rate); the picture is a grey still at 25 fps."""
    mono = np.asarray(audio_48k, dtype=np.float32)
    meter = AudioPeakMeter(SAMPLE_RATE, 1)
    for start in range(0, mono.size, 1024):
        meter.add(mono[start : start + 1024, None])
    resampled = signal.resample_poly(mono, AUDIO_RATE // 1000, SAMPLE_RATE // 1000).astype(np.float32)
    duration = mono.size / SAMPLE_RATE
    frames = int(round(duration * FPS))
    return DecodedClip(
        path="<synthetic>",
        width=width,
        height=height,
        fps=FPS,
        timestamps_s=np.arange(frames) / FPS,
        thumbs=np.full((frames, height, width), 128, dtype=np.uint8),
        samples=[],
        duration_s=frames / FPS,
        audio=resampled[:, None],
        audio_rate=AUDIO_RATE,
        audio_start_s=0.0,
        audio_source_channels=1,
        audio_peaks=meter.finish(),
    )


def script_for(
    seconds: float,
    shot_s: float = 3.0,
    *,
    audio_classes: tuple[str, ...] = ("speech", "music"),
    dialogue: bool = True,
    references: list[dict[str, object]] | None = None,
    language: str = "en",
) -> PromptScript:
    shots = []
    for i, start in enumerate(np.arange(0.0, seconds - 1e-9, shot_s)):
        entry: dict[str, object] = {
            "start_s": round(float(start), 3),
            "end_s": round(float(min(seconds, start + shot_s)), 3),
            "caption": f"shot {i + 1}",
            "shot_scale": "medium",
            "camera_angle": "eye-level",
            "camera_motion": "static",
            "transition_in": "none" if i == 0 else "hard-cut",
        }
        if dialogue:
            entry["audio"] = {"language": language, "dialogue": LINES[i % len(LINES)]}
        shots.append(entry)
    return prompt_from_dict(
        {
            "id": "audio-test",
            "category": "tutorial",
            "style": "photo-realistic",
            "subject_realism": "real",
            "scene_realism": "real",
            "languages": [language] if dialogue else [],
            "audio_classes": list(audio_classes),
            "duration_s": seconds,
            "script": "A barista explains espresso.",
            "shots": shots,
            "references": references or [],
        }
    )
