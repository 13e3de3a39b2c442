"""WER through a configured ASR backend: an OpenAI-compatible `/audio/transcriptions` endpoint.

No package ships an English ASR model, so WER is measured only when the operator configures a
backend (EngineConfig.asr); without one the metric is "not measured" and left out of the aggregate.
The clip's audio (the 16 kHz mono mix decoded once) is sent as a WAV file; the transcript is
compared with the script's dialogue: word error rate for languages written with spaces, character
error rate for Japanese and Chinese.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import urllib.error
import urllib.request
import uuid
import wave

import numpy as np

from .config import AsrConfig
from .decode import DecodedClip
from .metrics.base import MetricValue, failed, measured, not_measured
from .script import PromptScript
from .speech import SPEECH_RATE, SpeechActivity, audio_16k
from .versions import tool_versions

CHARACTER_LANGUAGES = ("ja", "zh", "th")  # scored by characters: no spaces between words
TOOL = "asr:openai-compatible-transcriptions"


class AsrError(Exception):
    """The backend did not give a transcript; the message says what went wrong and where."""


def transcriptions_url(url: str) -> str:
    """`<base>/audio/transcriptions`, unless the configured URL already ends with it."""
    base = url.rstrip("/")
    return base if base.endswith("/audio/transcriptions") else f"{base}/audio/transcriptions"


def wav_bytes(audio: np.ndarray, rate: int = SPEECH_RATE) -> bytes:
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def transcribe(audio: np.ndarray, config: AsrConfig, language: str = "") -> str:
    """POST the audio as multipart/form-data (file, model, language, response_format=json); returns `text`."""
    if not config.url:
        raise AsrError("the ASR config has no url (local model paths are not a backend of this engine)")
    boundary = uuid.uuid4().hex
    fields = {"model": config.model or "whisper-1", "response_format": "json"}
    if language:
        fields["language"] = language
    body = io.BytesIO()
    for key, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n".encode()
    )
    body.write(wav_bytes(audio))
    body.write(f"\r\n--{boundary}--\r\n".encode())
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    url = transcriptions_url(config.url)
    request = urllib.request.Request(url, data=body.getvalue(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise AsrError(f"{url} answered HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise AsrError(f"{url} is not reachable ({exc})") from exc
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise AsrError(f"{url} did not answer JSON ({payload[:80]!r})") from exc
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise AsrError(f"{url} answered JSON without a 'text' string")
    return text


def normalise_text(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed (NFKC first, so full-width forms match)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance between token sequences (substitutions, insertions, deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_token in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_token in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_token != hyp_token))
        previous = current
    return previous[-1]


def error_rate(reference: str, hypothesis: str, *, by_characters: bool = False) -> float:
    """WER (or CER) of the hypothesis against the reference, after normalise_text; may exceed 1."""
    ref, hyp = normalise_text(reference), normalise_text(hypothesis)
    ref_tokens = list(ref.replace(" ", "")) if by_characters else ref.split()
    hyp_tokens = list(hyp.replace(" ", "")) if by_characters else hyp.split()
    if not ref_tokens:
        raise ValueError("the reference text is empty")
    return edit_distance(ref_tokens, hyp_tokens) / len(ref_tokens)


def wer_metric(
    decoded: DecodedClip, script: PromptScript | None, activity: SpeechActivity | None, config: AsrConfig | None
) -> MetricValue:
    """`audio_wer`: 1 - WER (CER for ja/zh/th) of the backend's transcript of the clip against the script's
    spoken dialogue, clipped at 0. Not measured without a backend, a script or spoken dialogue."""
    name, version = "audio_wer", tool_versions("numpy")
    if config is None:
        return not_measured(name, "no ASR backend is configured (EngineConfig.asr / MSAV_ASR_URL)", TOOL, version)
    tool = f"{TOOL}:{config.model or 'whisper-1'}"
    if script is None:
        return not_measured(name, "no prompt script holds the dialogue", tool, version)
    if not ({"speech"} & set(script.audio_classes)):
        return not_measured(name, "the prompt has no spoken dialogue (sung lyrics are not scored by WER)", tool, version)
    lines = [shot.audio for shot in script.shots if shot.audio is not None and shot.audio.dialogue]
    if not lines:
        return not_measured(name, "the script has no dialogue lines", tool, version)
    reference = " ".join(line.dialogue for line in lines)
    languages = {line.language for line in lines if line.language} or set(script.languages)
    language = next(iter(languages)) if len(languages) == 1 else ""
    by_characters = bool(languages) and all(lang in CHARACTER_LANGUAGES for lang in languages)
    try:
        hypothesis = transcribe(audio_16k(decoded), config, language)
    except AsrError as exc:
        return failed(name, f"ASR backend failed: {exc}", tool, version)
    rate = error_rate(reference, hypothesis, by_characters=by_characters)
    raw = {
        "reference": reference,
        "transcript": hypothesis,
        "unit": "character" if by_characters else "word",
        "error_rate": round(rate, 4),
        "language": language or None,
        "speech_s": None if activity is None else round(activity.total_s, 3),
    }
    return measured(name, max(0.0, 1.0 - rate), tool, version, raw)
