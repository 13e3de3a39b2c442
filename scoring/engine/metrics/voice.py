"""Speaker timbre: consistency of each voice across shots, and fidelity to a reference recording.

Expert path: the Resemblyzer speaker encoder (GE2E, 3-layer LSTM over 40-band mel frames, 256-d
embedding; weights `pretrained.pt` inside the `resemblyzer` wheel) run with torch. Its network is
built here and the wheel's weights loaded into it, because `import resemblyzer` pulls in webrtcvad,
which needs setuptools' pkg_resources at import time (absent from modern environments); the
features (librosa mel, 25 ms / 10 ms, 40 bands), the 1.6 s partial utterances and their averaging
follow resemblyzer's own `embed_utterance`. DSP path: the long-term average spectrum of the speech
(mean log-mel, dB) compared between segments: a classic, weaker, speaker-timbre cue.

`voice_fidelity(...)` is the function the reference dimension calls (scoring/engine/metrics/reference.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..decode import DecodedClip
from ..script import PromptScript, ReferenceSpec
from ..segmentation import SegmentationResult
from ..speech import SPEECH_RATE, SpeechActivity, speech_activity, speech_audio
from ..versions import tool_versions
from .base import MetricValue, linear_map, measured, not_measured

MIN_SPEECH_S = 1.0  # per shot (or reference): a speaker embedding needs about a second of voice
PARTIAL_FRAMES = 160  # resemblyzer: 1.6 s partial utterances
PARTIAL_RATE = 1.3  # partials per second
MIN_COVERAGE = 0.75
NORM_TARGET_DBFS = -30.0  # resemblyzer's volume normalisation (increase only)
# Cosine similarity of Resemblyzer embeddings: >= 0.85 reads as the same voice, <= 0.60 as another one.
EXPERT_SAME, EXPERT_OTHER = 0.85, 0.60
# DSP: mean absolute difference of long-term log-mel spectra (dB): 1.5 dB alike, 4 dB different (measured
# on the demo's voices: the same voice 1.1-1.5 dB between lines, different voices 2-4.3 dB).
DSP_SAME_DB, DSP_OTHER_DB = 1.5, 4.0
MEL_BANDS = 40
MEL_FFT = 400  # 25 ms at 16 kHz
MEL_HOP = 160  # 10 ms

EXPERT_TOOL = "expert:resemblyzer-ge2e"
DSP_TOOL = "dsp:long-term-average-spectrum"


@dataclass(frozen=True)
class VoiceModel:
    """How embeddings are made and compared: the tool that ran and its similarity -> [0, 1] mapping."""

    tool: str
    version: str
    path: str  # "expert" | "dsp"
    fallback_reason: str = ""

    def embed(self, audio: np.ndarray) -> np.ndarray:
        return _resemblyzer_embed(audio) if self.path == "expert" else long_term_spectrum(audio)

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        """Cosine for embeddings; minus the mean dB difference for spectra (larger is more alike)."""
        if self.path == "expert":
            return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))
        return -float(np.mean(np.abs(a - b)))

    def score(self, similarity: float) -> float:
        if self.path == "expert":
            return linear_map(similarity, EXPERT_SAME, EXPERT_OTHER)
        return linear_map(-similarity, DSP_SAME_DB, DSP_OTHER_DB)


_ENCODER: list[Any] = []


def _expert_unavailable() -> str:
    try:
        import librosa  # noqa: F401
        import torch  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: use the DSP path
        return f"torch/librosa not importable ({type(exc).__name__}: {exc})"
    if _weights_path() is None:
        return "the resemblyzer package (which ships the encoder weights) is not installed"
    return ""


def _weights_path() -> Path | None:
    from importlib.util import find_spec

    spec = find_spec("resemblyzer")  # locates the package without executing its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    return path if path.exists() else None


def voice_model(use_expert_models: bool) -> VoiceModel:
    reason = "expert models are switched off (EngineConfig.use_expert_models=False)"
    if use_expert_models:
        reason = _expert_unavailable()
    if not reason:
        return VoiceModel(EXPERT_TOOL, tool_versions("resemblyzer", "torch", "librosa"), "expert")
    return VoiceModel(DSP_TOOL, tool_versions("numpy"), "dsp", reason)


def _encoder() -> Any:
    if not _ENCODER:
        import torch
        from torch import nn

        class SpeakerEncoder(nn.Module):
            """Resemblyzer's VoiceEncoder network (resemblyzer/voice_encoder.py), inference only."""

            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(MEL_BANDS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, 256)
                self.relu = nn.ReLU()

            def forward(self, mels: torch.Tensor) -> torch.Tensor:
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                unit: torch.Tensor = raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)
                return unit

        weights = _weights_path()
        assert weights is not None
        model = SpeakerEncoder()
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        missing, _ = model.load_state_dict(checkpoint["model_state"], strict=False)
        if missing:
            raise RuntimeError(f"resemblyzer weights lack {missing}: not the expected encoder")
        model.eval()
        _ENCODER.append(model)
    return _ENCODER[0]


_MEL_BANK: list[np.ndarray] = []


def _resemblyzer_mel(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram exactly as resemblyzer's `wav_to_mel_spectrogram` computes it
    with librosa (centred frames, zero padding, periodic Hann, Slaney mel filters), in numpy: librosa's
    own STFT path costs ~1.5 s on its first call, more than the whole embedding."""
    if not _MEL_BANK:
        import librosa

        _MEL_BANK.append(librosa.filters.mel(sr=SPEECH_RATE, n_fft=MEL_FFT, n_mels=MEL_BANDS).astype(np.float32))
    padded = np.pad(wav, MEL_FFT // 2)
    count = 1 + (padded.size - MEL_FFT) // MEL_HOP
    idx = np.arange(MEL_FFT)[None, :] + MEL_HOP * np.arange(count)[:, None]
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(MEL_FFT) / MEL_FFT)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2
    mel: np.ndarray = (power.astype(np.float32) @ _MEL_BANK[0].T).astype(np.float32)
    return mel


def _resemblyzer_embed(audio: np.ndarray) -> np.ndarray:
    import torch

    wav = audio.astype(np.float32)
    rms = float(np.sqrt(np.mean(wav**2))) if wav.size else 0.0
    if rms > 0:
        gain_db = NORM_TARGET_DBFS - 20.0 * math.log10(rms)
        if gain_db > 0:
            wav = wav * (10.0 ** (gain_db / 20.0))
    # Partial utterances of 1.6 s every 1/PARTIAL_RATE s, the last one kept if >= 75% covered.
    n_frames = int(np.ceil((wav.size + 1) / MEL_HOP))
    step = int(round(SPEECH_RATE / PARTIAL_RATE / MEL_HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    last = starts[-1]
    coverage = (wav.size - last * MEL_HOP) / (PARTIAL_FRAMES * MEL_HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts = starts[:-1]
    need = (starts[-1] + PARTIAL_FRAMES) * MEL_HOP
    if need > wav.size:
        wav = np.pad(wav, (0, need - wav.size))
    mel = _resemblyzer_mel(wav)
    batch = np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts])
    with torch.inference_mode():
        partial = _encoder()(torch.from_numpy(batch)).numpy()
    mean = partial.mean(axis=0)
    embedding: np.ndarray = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return embedding


def _mel_filterbank() -> np.ndarray:
    """(MEL_BANDS, MEL_FFT // 2 + 1) triangular filters on the HTK mel scale, 60 Hz - 7.6 kHz."""
    freqs = np.fft.rfftfreq(MEL_FFT, 1.0 / SPEECH_RATE)

    def mel(f: np.ndarray | float) -> Any:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges_mel = np.linspace(mel(60.0), mel(7600.0), MEL_BANDS + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    bank = np.zeros((MEL_BANDS, freqs.size))
    for i in range(MEL_BANDS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        bank[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
    return bank


def long_term_spectrum(audio: np.ndarray) -> np.ndarray:
    """Mean log-mel spectrum (dB) of the voiced frames, level-normalised (timbre, not loudness)."""
    count = max(0, (audio.shape[0] - MEL_FFT) // MEL_HOP + 1)
    if count == 0:
        return np.zeros(MEL_BANDS)
    idx = np.arange(MEL_FFT)[None, :] + MEL_HOP * np.arange(count)[:, None]
    power = np.abs(np.fft.rfft(audio[idx] * np.hanning(MEL_FFT), axis=1)) ** 2
    bands = 10.0 * np.log10(power @ _mel_filterbank().T + 1e-12)
    level = bands.mean(axis=1)
    loud = level >= np.percentile(level, 50)  # the voiced half of the speech frames
    spectrum: np.ndarray = bands[loud].mean(axis=0)
    centred: np.ndarray = spectrum - spectrum.mean()
    return centred


def _scripted_spans(decoded: DecodedClip, script: PromptScript) -> dict[int, tuple[float, float]]:
    scale = decoded.duration_s / script.duration_s if script.duration_s > 0 else 1.0
    return {shot.index: (shot.start_s * scale, shot.end_s * scale) for shot in script.shots}


def _shot_speech(
    decoded: DecodedClip, spans: dict[int, tuple[float, float]], activity: SpeechActivity
) -> dict[int, np.ndarray]:
    out = {}
    for index, (start, end) in spans.items():
        audio = speech_audio(decoded, activity, start, end)
        if audio.shape[0] >= MIN_SPEECH_S * SPEECH_RATE:
            out[index] = audio
    return out


def timbre_consistency(
    decoded: DecodedClip,
    script: PromptScript | None,
    seg: SegmentationResult | None,
    activity: SpeechActivity,
    use_expert_models: bool = True,
) -> MetricValue:
    """Does each voice keep its timbre from shot to shot?

    Shots are grouped by speaker where the script knows it (a voice reference names its shots); the
    value is then the mapped mean similarity of each shot's speech to the other shots of its group.
    Without speaker groups, each shot's speech is compared with its most similar other shot (a voice
    that recurs should find itself), which does not punish a dialogue between two people.
    """
    name = "audio_timbre_consistency"
    model = voice_model(use_expert_models)
    if script is not None:
        spans = _scripted_spans(decoded, script)
    elif seg is not None:
        spans = {shot.index + 1: (shot.start_s, shot.end_s) for shot in seg.shots}
    else:
        spans = {1: (0.0, decoded.duration_s)}
    speech = _shot_speech(decoded, spans, activity)
    if len(speech) < 2:
        return not_measured(
            name, f"fewer than two shots with {MIN_SPEECH_S:g} s of speech ({activity.tool})", model.tool, model.version
        )
    embeddings = {index: model.embed(audio) for index, audio in speech.items()}
    groups: list[list[int]] = []
    if script is not None:
        for ref in script.references:
            if ref.kind == "voice":
                members = [i for i in (ref.shots or tuple(spans)) if i in embeddings]
                if len(members) >= 2:
                    groups.append(members)
    rows = []
    if groups:
        for members in groups:
            for i in members:
                sims = [model.similarity(embeddings[i], embeddings[j]) for j in members if j != i]
                rows.append({"shot": i, "similarity": round(float(np.mean(sims)), 4), "grouped": True})
    else:
        for i in embeddings:
            best = max(model.similarity(embeddings[i], embeddings[j]) for j in embeddings if j != i)
            rows.append({"shot": i, "similarity": round(best, 4), "grouped": False})
    value = float(np.mean([model.score(r["similarity"]) for r in rows]))
    raw = {"shots": rows, "path": model.path, "vad": activity.tool}
    return measured(name, value, model.tool, model.version, raw, model.fallback_reason)


def load_reference_voice(path: Path) -> np.ndarray:
    """Decode a reference recording (.wav/.flac/.mp3) to 16 kHz mono float32 with PyAV."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path.name}: no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_RATE)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


def _reference_speech(audio: np.ndarray) -> np.ndarray:
    """The voiced part of a reference recording: frames within 30 dB of its loudest (leading and
    trailing silence and pauses would dilute the embedding)."""
    frame = 320
    count = audio.shape[0] // frame
    if count == 0:
        return audio
    frames = audio[: count * frame].reshape(count, frame)
    level = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    keep = level >= level.max() - 30.0
    voiced: np.ndarray = frames[keep].reshape(-1)
    return voiced


def voice_fidelity(
    decoded: DecodedClip,
    script: PromptScript | None,
    reference_root: Path | None,
    *,
    use_expert_models: bool = True,
) -> MetricValue:
    """`reference_voice_fidelity`: similarity of the speech in the shots each voice reference names
    (all shots when it names none) to that reference recording, mapped to [0, 1] and averaged over
    the prompt's voice references.

    Called by scoring/engine/metrics/reference.py. Not measured (with the reason) when the prompt has
    no voice reference, no reference_root is given, or the named shots hold under a second of speech;
    a missing or undecodable reference file is reported as not measured naming the file.
    """
    name = "reference_voice_fidelity"
    model = voice_model(use_expert_models)
    refs: list[ReferenceSpec] = [r for r in (script.references if script else ()) if r.kind == "voice"]
    if script is None:
        return not_measured(name, "no prompt script", model.tool, model.version)
    if not refs:
        return not_measured(name, "the prompt has no voice reference", model.tool, model.version)
    if reference_root is None:
        return not_measured(name, "no reference_root given to find the reference recordings", model.tool, model.version)
    if not decoded.has_audio:
        return measured(name, 0.0, model.tool, model.version, {"no_audio": True}, "the clip has no audio stream")
    activity = speech_activity(decoded, use_expert_models=use_expert_models)
    spans = _scripted_spans(decoded, script)
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for ref in refs:
        root = reference_root.resolve()
        path = (root / ref.file).resolve()
        if not path.is_relative_to(root):
            problems.append(f"{ref.file}: leaves the suite folder")
            continue
        if not path.is_file():
            problems.append(f"{ref.file}: reference recording not found")
            continue
        try:
            reference = _reference_speech(load_reference_voice(path))
        except Exception as exc:  # noqa: BLE001 - a broken reference is reported, not raised
            problems.append(f"{ref.file}: does not decode ({type(exc).__name__}: {exc})")
            continue
        if reference.shape[0] < MIN_SPEECH_S * SPEECH_RATE:
            problems.append(f"{ref.file}: under {MIN_SPEECH_S:g} s of voice")
            continue
        shots = ref.shots or tuple(spans)
        pieces = [speech_audio(decoded, activity, *spans[i]) for i in shots if i in spans]
        clip_speech = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        if clip_speech.shape[0] < MIN_SPEECH_S * SPEECH_RATE:
            rows.append({"reference": ref.file, "shots": list(shots), "similarity": None,
                         "reason": f"under {MIN_SPEECH_S:g} s of speech in those shots"})
            continue
        similarity = model.similarity(model.embed(clip_speech), model.embed(reference))
        rows.append({"reference": ref.file, "shots": list(shots), "similarity": round(similarity, 4),
                     "value": model.score(similarity)})
    scored = [r["value"] for r in rows if r.get("value") is not None]
    raw = {"references": rows, "problems": problems, "path": model.path, "vad": activity.tool}
    if not scored:
        reason = "; ".join(problems + [f"{r['reference']}: {r['reason']}" for r in rows if "reason" in r])
        return not_measured(name, reason or "nothing to compare", model.tool, model.version, raw)
    return measured(name, float(np.mean(scored)), model.tool, model.version, raw, model.fallback_reason)
