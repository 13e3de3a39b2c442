"""Synthetic sound for demo clips: formant voices, singing, music, ambience beds and sfx hits, at 48 kHz mono."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage, signal
from scipy.io import wavfile

from scoring.engine.script import PromptScript

from .plan import ClipPlan, VisualEvent, rng_for
from .suite import PromptDirection

SAMPLE_RATE = 48_000
TARGET_LUFS = -20.0
PEAK_CEILING = 0.89  # -1 dBFS: the clean mix never clips; clipping is a model defect only

# Adult vowel formants (Hz) and bandwidths; voices scale them by their vocal-tract factor.
VOWELS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
}
BANDWIDTHS = (80.0, 100.0, 150.0)
FORMANT_GAINS = (1.0, 0.55, 0.3)


@dataclass(frozen=True)
class Voice:
    key: str
    f0: float  # mean pitch, Hz
    formant_scale: float  # > 1 = shorter vocal tract, brighter voice
    rate: float  # syllables per second
    breathiness: float  # share of aspiration noise
    intonation: float  # pitch movement, fraction of f0


VOICES: dict[str, Voice] = {
    v.key: v
    for v in (
        Voice("astronaut", 205.0, 1.16, 4.6, 0.08, 0.18),
        Voice("photographer", 112.0, 0.93, 4.1, 0.05, 0.12),
        Voice("barista", 168.0, 1.08, 4.4, 0.07, 0.2),
        Voice("controller", 122.0, 0.98, 2.8, 0.04, 0.08),
        Voice("singer", 220.0, 1.14, 2.0, 0.06, 0.0),
        Voice("narrator", 102.0, 0.91, 3.8, 0.05, 0.15),
        Voice("cat_it", 196.0, 1.22, 4.2, 0.12, 0.25),
        Voice("cat_ja", 232.0, 1.24, 5.2, 0.1, 0.25),
        Voice("owner_ja", 128.0, 0.97, 5.0, 0.05, 0.15),
        Voice("explainer", 140.0, 1.02, 4.0, 0.05, 0.15),
        Voice("announcer", 96.0, 0.9, 3.4, 0.03, 0.12),
        Voice("voice_de", 176.0, 1.1, 4.0, 0.08, 0.15),
        # What models that ignore voice references use instead: flat, mid-pitched, neutral timbre.
        Voice("generic-a", 150.0, 1.0, 4.0, 0.02, 0.03),
        Voice("generic-b", 135.0, 1.03, 4.0, 0.02, 0.03),
    )
}


def _midi_hz(note: float) -> float:
    return 440.0 * float(2.0 ** ((note - 69) / 12))


def syllable_count(text: str, language: str) -> int:
    """Rough syllables of a line: kana/kanji count as morae in Japanese, vowel groups elsewhere."""
    if language == "ja":
        return max(1, len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", text)))
    return max(1, len(re.findall(r"[aeiouyàáâäèéêëìíîïòóôöùúûü]+", text.lower())))


def _resonate(x: np.ndarray, formants: tuple[float, ...]) -> np.ndarray:
    """Parallel two-pole resonators at the formant frequencies (the vocal tract)."""
    out = np.zeros_like(x)
    for freq, bw, gain in zip(formants, BANDWIDTHS, FORMANT_GAINS):
        freq = min(freq, 0.45 * SAMPLE_RATE)
        r = np.exp(-np.pi * bw / SAMPLE_RATE)
        theta = 2 * np.pi * freq / SAMPLE_RATE
        out += gain * signal.lfilter([1 - r * r, 0.0, -(1 - r * r)], [1.0, -2 * r * np.cos(theta), r * r], x)
    return out


def _glottal(f0: np.ndarray) -> np.ndarray:
    """A glottal pulse train (Rosenberg-like opening, sharp closure) following a per-sample pitch track."""
    phase = np.cumsum(f0 / SAMPLE_RATE) % 1.0
    open_part = np.where(phase < 0.6, 0.5 * (1 - np.cos(np.pi * phase / 0.6)), np.cos(0.5 * np.pi * (phase - 0.6) / 0.4))
    return np.diff(open_part, prepend=open_part[0]) * 20.0


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(attack, n // 2), min(release, n // 2)
    if attack:
        env[:attack] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, attack))
    if release:
        env[-release:] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, release))
    return env


def _syllable(voice: Voice, n: int, f0_start: float, f0_end: float, vowel: str, rng: np.random.Generator,
              *, consonant: bool, vibrato: float = 0.0, legato: bool = False) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    f0 = np.linspace(f0_start, f0_end, n)
    if vibrato:
        f0 = f0 * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t))
    source = _glottal(f0)
    source = source + voice.breathiness * rng.standard_normal(n)
    formants = tuple(f * voice.formant_scale for f in VOWELS[vowel])
    voiced = _resonate(source, formants)
    attack = int((0.06 if legato else 0.025) * SAMPLE_RATE)
    voiced *= _envelope(n, attack, int(0.045 * SAMPLE_RATE))
    if consonant:
        # A short fricative or plosive burst before the vowel gives the syllable an onset.
        m = min(n // 4, int(0.05 * SAMPLE_RATE))
        noise = rng.standard_normal(m)
        low = float(rng.uniform(2500, 4500))
        b, a = signal.butter(2, [low / (SAMPLE_RATE / 2), min(0.95, (low + 3000) / (SAMPLE_RATE / 2))], "band")
        burst = signal.lfilter(b, a, noise) * _envelope(m, m // 5, m // 2) * 0.35
        voiced[:m] = voiced[:m] * np.linspace(0.2, 1.0, m) + burst * np.std(voiced)
    return voiced


def speak(voice: Voice, text: str, language: str, max_seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A speech-like utterance of the line's syllable count, with word pauses and falling or rising pitch."""
    wanted = syllable_count(text, language)
    fit = max(1, int(max_seconds * voice.rate * 0.85))
    count = min(wanted, fit)
    durations = rng.uniform(0.8, 1.2, count) / voice.rate
    pauses = np.where(rng.random(count) < 0.25, rng.uniform(0.05, 0.12, count), 0.0)
    pauses[-1] = 0.0
    total = float(durations.sum() + pauses.sum())
    if total > max_seconds:
        durations *= max_seconds / total
        pauses *= max_seconds / total
    question = text.strip().endswith(("?", "?"))
    out = np.zeros(int(sum(durations + pauses) * SAMPLE_RATE) + 1)
    pos = 0
    for i, (dur, pause) in enumerate(zip(durations, pauses)):
        n = max(64, int(dur * SAMPLE_RATE))
        progress = i / max(1, count - 1)
        contour = (0.5 - progress) * voice.intonation  # declination across the line
        if question and progress > 0.7:
            contour += 2.5 * voice.intonation * (progress - 0.7)
        jitter = rng.normal(0, 0.3) * voice.intonation
        start = voice.f0 * (1 + contour + jitter)
        end = start * (1 - 0.04 + (0.12 if question and progress > 0.7 else 0.0))
        vowel = "aeiou"[int(rng.integers(5))]
        piece = _syllable(voice, n, start, end, vowel, rng, consonant=bool(rng.random() < 0.7))
        out[pos : pos + n] += piece[: len(out) - pos]
        pos += n + int(pause * SAMPLE_RATE)
    return _unit_rms(out)


def sing(voice: Voice, text: str, seconds: float, tempo: float, key: int, rng: np.random.Generator) -> np.ndarray:
    """A sung phrase: one sustained vowel per note on the beat, with vibrato, in the song's key."""
    beat = 60.0 / tempo
    notes = max(1, int(seconds / beat))
    scale = (0, 2, 4, 7, 9, 12)
    out = np.zeros(int(seconds * SAMPLE_RATE))
    degree = 2
    for i in range(notes):
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(scale) - 1))
        f0 = _midi_hz(key + 12 + scale[degree])
        n = int(beat * SAMPLE_RATE)
        start = i * n
        if start + n > len(out):
            break
        vowel = "aoe"[int(rng.integers(3))]
        out[start : start + n] += _syllable(voice, n, f0, f0, vowel, rng, consonant=i == 0, vibrato=0.02, legato=True)
    return _unit_rms(out)


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    return x / rms if rms > 0 else x


def _tone(freq: float, n: int, shape: str) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    if shape == "square":
        square: np.ndarray = np.sign(np.sin(2 * np.pi * freq * t)) * 0.5
        return square
    if shape == "saw":
        return sum((np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 7)), np.zeros(n)) * 0.6
    # Soft piano-ish: a few decaying harmonics.
    return sum((np.sin(2 * np.pi * freq * k * t) * 0.5**k for k in range(1, 5)), np.zeros(n))


def _kick(n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    freq = 50 + 70 * np.exp(-t / 0.03)
    kick: np.ndarray = np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(-t / 0.12)
    return kick


def _hat(n: int, rng: np.random.Generator) -> np.ndarray:
    b, a = signal.butter(2, 7000 / (SAMPLE_RATE / 2), "high")
    hat: np.ndarray = signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-np.arange(n) / (0.02 * SAMPLE_RATE))
    return hat


def music(n: int, tempo: float, key: int, style: str, rng: np.random.Generator) -> np.ndarray:
    """A looping four-chord song at the prompt's tempo: pads, bass, drums and a plucked melody."""
    beat = 60.0 / tempo
    beat_n = int(round(beat * SAMPLE_RATE))
    out = np.zeros(n)
    lead = {"chiptune": "square", "synthwave": "saw", "driving rock": "saw", "ambient synth": "saw"}.get(style, "soft")
    chords = ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12))  # I V vi IV
    bar_n = 4 * beat_n
    four_on_floor = tempo >= 115
    for bar in range(n // bar_n + 1):
        chord = chords[bar % 4]
        start = bar * bar_n
        length = min(bar_n, n - start)
        if length <= 0:
            break
        pad = sum(_tone(_midi_hz(key + c), length, "soft") for c in chord) / 3
        out[start : start + length] += 0.35 * pad * _envelope(length, int(0.08 * SAMPLE_RATE), int(0.1 * SAMPLE_RATE))
        for b in range(4):
            s = start + b * beat_n
            if s >= n:
                break
            m = min(beat_n, n - s)
            bass = _tone(_midi_hz(key - 12 + chord[0]), m, "soft") * np.exp(-np.arange(m) / (0.25 * SAMPLE_RATE))
            out[s : s + m] += 0.5 * bass
            if four_on_floor or b in (0, 2):
                k = min(m, int(0.25 * SAMPLE_RATE))
                out[s : s + k] += 0.45 * _kick(k)
            h = s + beat_n // 2
            if h < n:
                k = min(int(0.05 * SAMPLE_RATE), n - h)
                out[h : h + k] += 0.12 * _hat(k, rng)
    # Melody: eighth notes on a pentatonic random walk.
    penta = (0, 2, 4, 7, 9, 12, 14, 16)
    step = beat_n // 2
    degree = 3
    for s in range(0, n, step):
        if rng.random() < 0.3:
            continue
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(penta) - 1))
        m = min(step, n - s)
        note = _tone(_midi_hz(key + 12 + penta[degree]), m, lead)
        out[s : s + m] += 0.25 * note * _envelope(m, int(0.004 * SAMPLE_RATE), m // 2) * np.exp(-np.arange(m) / (0.15 * SAMPLE_RATE))
    return _unit_rms(out)


def ambience(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A background bed; smooth on purpose so it adds no onsets that could be mistaken for events."""
    white = rng.standard_normal(n)
    t = np.arange(n) / SAMPLE_RATE
    if kind == "cafe":
        b, a = signal.butter(2, [300 / 24000, 3000 / 24000], "band")
        babble = signal.lfilter(b, a, white)
        wobble = 1 + 0.4 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) * np.sin(2 * np.pi * 0.23 * t)
        return _unit_rms(babble * wobble)
    if kind in ("wind", "birds"):
        b, a = signal.butter(2, [150 / 24000, 900 / 24000], "band")
        gust = 1 + 0.5 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6))
        bed = _unit_rms(signal.lfilter(b, a, white) * gust)
        if kind == "birds":
            bed *= 0.6
            for start in rng.uniform(0, n / SAMPLE_RATE, size=int(1.2 * n / SAMPLE_RATE)):
                m = int(0.09 * SAMPLE_RATE)
                s = int(start * SAMPLE_RATE)
                if s + m > n:
                    continue
                tt = np.arange(m) / SAMPLE_RATE
                f = float(rng.uniform(3000, 4500)) + 1500 * tt / tt[-1]
                chirp = np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * _envelope(m, m // 2, m // 2)
                bed[s : s + m] += 0.8 * chirp
        return bed
    # "room" and "night": a dark, steady rumble.
    b, a = signal.butter(2, 400 / 24000, "low")
    return _unit_rms(signal.lfilter(b, a, white) + 0.05 * np.sin(2 * np.pi * 100 * t))


def hit(kind: str, rng: np.random.Generator) -> np.ndarray:
    """The sound of a visual event: a sharp attack exactly at its first sample."""
    if kind == "flash":  # a snap / clap
        n = int(0.15 * SAMPLE_RATE)
        b, a = signal.butter(2, [1000 / 24000, 6000 / 24000], "band")
        x = signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-np.arange(n) / (0.03 * SAMPLE_RATE))
        x[:48] += np.hanning(96)[48:] * 3 * np.std(x)
    elif kind == "pop":  # a bright blip
        n = int(0.12 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        f = 1400 - 700 * t / t[-1]
        x = np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * np.exp(-t / 0.04)
    else:  # "jump": a low thud
        n = int(0.3 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        f = 50 + 60 * np.exp(-t / 0.05)
        b, a = signal.butter(2, 800 / 24000, "low")
        x = np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * np.exp(-t / 0.09)
        x += signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t / 0.02) * 2
    normalised: np.ndarray = x / np.max(np.abs(x))
    return normalised


HIT_SOUND = {"flash": "snap", "pop": "blip", "jump": "thud"}


def loudness_lufs(x: np.ndarray) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(x))


def _normalise(x: np.ndarray) -> np.ndarray:
    """Bring the mix to about -20 LUFS, lowering it further only if a peak would pass -1 dBFS."""
    loud = loudness_lufs(x)
    if np.isfinite(loud):
        x = x * 10 ** ((TARGET_LUFS - loud) / 20)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > PEAK_CEILING:
        x = x * (PEAK_CEILING / peak)
    return x


def clip_audio(prompt: PromptScript, direction: PromptDirection, plan: ClipPlan, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The clip's soundtrack as the model delivers it, and its ground truth (speech, events, defects)."""
    # Prompt-level generators, one per sound source, so every model starts from the same sound world
    # (a swapped voice must not reshuffle the ambience or the hits).
    n = plan.frame_count * SAMPLE_RATE // plan.fps
    mix = np.zeros(n)
    speech_truth = []

    silent = np.zeros(n, dtype=bool)
    for shot, staging in zip(prompt.shots, direction.shots):
        if staging.silent:
            silent[int(shot.start_s * SAMPLE_RATE) : int(shot.end_s * SAMPLE_RATE)] = True

    if direction.ambience:
        for shot, staging in zip(prompt.shots, direction.shots):
            kind = staging.ambience or direction.ambience
            a, b = int(shot.start_s * SAMPLE_RATE), min(n, int(shot.end_s * SAMPLE_RATE))
            # Each shot's bed with short ramps, so the sound changes with the picture at a cut.
            bed = ambience(kind, b - a, rng_for(seed, prompt.id, "ambience", str(shot.index)))
            mix[a:b] += 0.15 * bed * _envelope(b - a, 480, 480)

    if direction.tempo_bpm and "music" in prompt.audio_classes:
        level = 0.25 if ("speech" in prompt.audio_classes or "singing" in prompt.audio_classes) else 0.4
        song = music(n, direction.tempo_bpm, direction.music_key, direction.music_style, rng_for(seed, prompt.id, "music"))
        mix += level * song

    for shot, staging in zip(prompt.shots, direction.shots):
        if not (shot.audio and shot.audio.dialogue and staging.speaker):
            continue
        voice_key = plan.voice_swaps.get(staging.speaker, staging.speaker)
        voice = VOICES[voice_key]
        rng = rng_for(seed, prompt.id, "line", str(shot.index))
        start = shot.start_s + 0.2
        if "singing" in prompt.audio_classes:
            beat = 60.0 / direction.tempo_bpm
            start = float(np.ceil((shot.start_s + 0.05) / beat) * beat)  # sung notes sit on the beat
        room = shot.end_s - 0.15 - start
        if "singing" in prompt.audio_classes:
            line = sing(voice, shot.audio.dialogue, room, direction.tempo_bpm, direction.music_key, rng)
            level = 0.35
        else:
            line = speak(voice, shot.audio.dialogue, shot.audio.language, room, rng)
            level = 0.3
        s = int(start * SAMPLE_RATE)
        line = line[: n - s]
        mix[s : s + len(line)] += level * line
        speech_truth.append(
            {
                "scripted_shot": shot.index,
                "speaker": staging.speaker,
                "voice": voice_key,
                "kind": "singing" if "singing" in prompt.audio_classes else "speech",
                "start_s": round(start, 6),
                "end_s": round(start + len(line) / SAMPLE_RATE, 6),
            }
        )

    hits = []
    for event in plan.events:
        s = int(round(event.frame * SAMPLE_RATE / plan.fps))
        sound = hit(event.kind, rng_for(seed, prompt.id, "hit", str(event.frame)))[: n - s]
        # Hits are the loudest onsets of the mix, well above syllables and drums: they carry the sync.
        mix[s : s + len(sound)] += 2.2 * sound
        hits.append(event)

    if silent.any():
        # 20 ms ramps into and out of the requested silence, so muting adds no click onsets.
        mix *= 1.0 - np.clip(ndimage.uniform_filter1d(silent.astype(float), 960), 0, 1)
    mix = _normalise(mix)

    out, defects, audio_events = apply_audio_defects(mix, plan, hits)
    truth = {
        "sample_rate": SAMPLE_RATE,
        "loudness_lufs_clean": round(loudness_lufs(mix), 2),
        "speech": speech_truth,
        "audio_events": audio_events,
        "defects": defects,
    }
    return out.astype(np.float32), truth


def apply_audio_defects(mix: np.ndarray, plan: ClipPlan, hits: list[VisualEvent]) -> tuple[np.ndarray, list[dict[str, Any]], list[dict[str, Any]]]:
    """Shift, mute and overdrive the clean mix as the model's defects say; report where events ended up."""
    n = len(mix)
    out = mix.copy()
    defects: list[dict[str, Any]] = []
    shift = int(round(plan.audio_offset_ms * SAMPLE_RATE / 1000))
    if shift > 0:
        out = np.concatenate([np.zeros(shift), out[: n - shift]])
    elif shift < 0:
        out = np.concatenate([out[-shift:], np.zeros(-shift)])
    if shift:
        defects.append({"kind": "audio_offset", "offset_ms": plan.audio_offset_ms})
    for a, b in plan.silence_spans:
        s, e = int(a * SAMPLE_RATE), min(n, int(b * SAMPLE_RATE))
        out[s:e] *= 1.0 - _envelope(e - s, 240, 240)
    if plan.silence_spans:
        defects.append({"kind": "silence", "spans_s": [list(span) for span in plan.silence_spans]})
    if plan.clip_gain > 1.0:
        driven = out * plan.clip_gain
        clipped = float(np.mean(np.abs(driven) >= 1.0))
        out = np.clip(driven, -1.0, 1.0)
        defects.append({"kind": "clipping", "gain": plan.clip_gain, "clipped_fraction": round(clipped, 5)})
    events = []
    for event in hits:
        t = event.time_s + plan.audio_offset_ms / 1000
        muted = any(a <= t < b for a, b in plan.silence_spans)
        events.append(
            {
                "kind": HIT_SOUND[event.kind],
                "time_s": round(t, 6),
                "visual_frame": event.frame,
                "audible": bool(0 <= t < n / SAMPLE_RATE and not muted),
            }
        )
    return out, defects, events


def voice_reference(voice_key: str, seed: int) -> bytes:
    """A 4-second WAV (48 kHz, 16-bit mono) of the voice saying an unrelated line: a speaker reference."""
    rng = rng_for(seed, "voice-reference", voice_key)
    voice = VOICES[voice_key]
    line = speak(voice, "Hello, this is a short sample of my voice for reference, thank you.", "en", 3.6, rng)
    out = np.zeros(4 * SAMPLE_RATE)
    start = int(0.2 * SAMPLE_RATE)
    out[start : start + len(line)] = line[: len(out) - start]
    out = _normalise(0.3 * out)
    pcm = np.round(np.clip(out, -1, 1) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    wavfile.write(buffer, SAMPLE_RATE, pcm)
    return buffer.getvalue()
