"""Rubric judges: answer the prompt's multiple-choice questions from sampled frames (and the audio for audio
questions), and score each rubric metric as the share of questions answered correctly.

`Judge` is the interface; `OpenAIChatJudge` talks to any OpenAI-compatible chat-completions endpoint
(a hosted API, or a local vLLM / llama.cpp / Ollama server) configured by URL, model and key in
EngineConfig.judge. Frames go as base64 JPEG data URLs (`image_url` parts); for audio questions the
clip's sound goes as an `input_audio` WAV part. With no judge configured the rubric metrics are
"not measured", never a made-up number.
"""

from __future__ import annotations

import base64
import io
import json
import re
import string
import urllib.error
import urllib.request
import wave
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .config import JudgeConfig
from .decode import DecodedClip, SampledFrame
from .metrics.base import MetricValue, failed, measured, not_measured
from .script import RUBRIC_METRICS, PromptScript, RubricQuestion
from .segmentation import SegmentationResult
from .versions import tool_versions

RUBRIC_METRIC_NAMES = {kind: f"rubric_{kind}" for kind in RUBRIC_METRICS}
AUDIO_RATE = 16_000  # Hz: what speech/audio-capable chat models take
MAX_AUDIO_S = 30.0
JPEG_QUALITY = 85
SYSTEM_PROMPT = (
    "You judge generated multi-shot videos. You are shown frames sampled from the shots a question is about "
    "(in time order), and for audio questions the soundtrack. Answer the multiple-choice question about what "
    "the video actually shows or sounds like, not about what the script intended. Reply with the letter of "
    "one choice only."
)


class JudgeError(Exception):
    """The judge backend could not answer (network, HTTP status, malformed response)."""


@dataclass(frozen=True)
class JudgeAnswer:
    choice: int | None  # 0-based index of the chosen answer; None when the reply names no choice
    reply: str  # the judge's raw text, kept as evidence


class Judge(Protocol):
    name: str

    def answer(
        self, question: RubricQuestion, context: str, frames: list[np.ndarray], audio: np.ndarray | None
    ) -> JudgeAnswer: ...


def _letters(n: int) -> str:
    return string.ascii_uppercase[:n]


def question_text(question: RubricQuestion, context: str) -> str:
    choices = "\n".join(f"{letter}. {choice}" for letter, choice in zip(_letters(len(question.choices)), question.choices))
    return f"{context}\n\nQuestion: {question.question}\n{choices}\n\nAnswer with one letter."


def parse_choice(reply: str, n_choices: int) -> int | None:
    """The chosen index from a reply such as 'B', 'B.', '(b)', 'Answer: B', or the choice's number '2'."""
    letters = _letters(n_choices)
    text = reply.strip()
    match = re.search(r"(?i)\b(?:answer|choice)\s*(?:is)?\s*[:\-]?\s*\(?([A-Z])\)?\b", text)
    if match and match.group(1).upper() in letters:
        return letters.index(match.group(1).upper())
    match = re.match(r"^\W*([A-Za-z])(?:\W|$)", text)
    if match and match.group(1).upper() in letters:
        return letters.index(match.group(1).upper())
    match = re.match(r"^\W*(\d+)\b", text)
    if match and 1 <= int(match.group(1)) <= n_choices:
        return int(match.group(1)) - 1
    return None


def jpeg_data_url(rgb: np.ndarray, width: int) -> str:
    from PIL import Image

    image = Image.fromarray(rgb)
    if image.width > width:
        image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def wav_base64(mono: np.ndarray, rate: int) -> str:
    pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class OpenAIChatJudge:
    """POSTs one chat-completions request per question to an OpenAI-compatible endpoint."""

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config
        base = config.url.rstrip("/")
        self.endpoint = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.name = f"openai-chat:{config.model}"

    def request_body(
        self, question: RubricQuestion, context: str, frames: list[np.ndarray], audio: np.ndarray | None
    ) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": question_text(question, context)}]
        for rgb in frames[: self.config.max_frames]:
            content.append({"type": "image_url", "image_url": {"url": jpeg_data_url(rgb, self.config.image_width)}})
        if audio is not None and audio.size:
            content.append({"type": "input_audio", "input_audio": {"data": wav_base64(audio, AUDIO_RATE), "format": "wav"}})
        return {
            "model": self.config.model,
            "temperature": 0,
            "max_tokens": 8,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}],
        }

    def answer(
        self, question: RubricQuestion, context: str, frames: list[np.ndarray], audio: np.ndarray | None
    ) -> JudgeAnswer:
        body = json.dumps(self.request_body(question, context, frames, audio)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:  # noqa: S310 - configured URL
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace")
            raise JudgeError(f"judge {self.endpoint} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise JudgeError(f"judge {self.endpoint} unreachable: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise JudgeError(f"judge {self.endpoint} did not answer JSON: {exc}") from exc
        try:
            reply = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise JudgeError(f"judge {self.endpoint}: no choices[0].message.content in the reply") from exc
        if isinstance(reply, list):  # content parts
            reply = " ".join(str(part.get("text", "")) for part in reply if isinstance(part, dict))
        reply = str(reply)
        return JudgeAnswer(parse_choice(reply, len(question.choices)), reply[:200])


def _frames_for(
    question: RubricQuestion, decoded: DecodedClip, seg: SegmentationResult, per_shot: int, limit: int
) -> list[SampledFrame]:
    """Samples from the detected shots realising the question's scripted shots (all shots if it names none)."""
    if question.shots:
        detected = {seg.alignment[i - 1] for i in question.shots if 0 < i <= len(seg.alignment)} - {None}
        shots = [s for s in seg.shots if s.index in detected]
    else:
        shots = list(seg.shots)
    picked: list[SampledFrame] = []
    for shot in shots:
        inside = [s for s in decoded.samples if shot.start_frame <= s.index < shot.end_frame]
        if inside:
            idx = np.linspace(0, len(inside) - 1, min(per_shot, len(inside))).round().astype(int)
            picked.extend(inside[i] for i in sorted(set(idx.tolist())))
    if len(picked) > limit:
        idx = np.linspace(0, len(picked) - 1, limit).round().astype(int)
        picked = [picked[i] for i in idx]
    return picked


def _audio_for(question: RubricQuestion, decoded: DecodedClip, seg: SegmentationResult) -> np.ndarray | None:
    if not decoded.has_audio:
        return None
    from scipy import signal

    start, end = 0.0, decoded.duration_s
    if question.shots:
        detected = [seg.alignment[i - 1] for i in question.shots if 0 < i <= len(seg.alignment)]
        spans = [(seg.shots[j].start_s, seg.shots[j].end_s) for j in detected if j is not None]
        if spans:
            start, end = min(a for a, _ in spans), max(b for _, b in spans)
    end = min(end, start + MAX_AUDIO_S)
    mono = decoded.audio_mono
    a = max(0, int((start - decoded.audio_start_s) * decoded.audio_rate))
    b = max(a, int((end - decoded.audio_start_s) * decoded.audio_rate))
    piece = mono[a:b]
    if piece.size == 0:
        return None
    resampled: np.ndarray = signal.resample_poly(piece, AUDIO_RATE, decoded.audio_rate).astype(np.float32)
    return resampled


def rubric_metrics(
    script: PromptScript | None,
    decoded: DecodedClip,
    seg: SegmentationResult,
    config: JudgeConfig | None,
    judge: Judge | None = None,
) -> dict[str, MetricValue]:
    """rubric_<metric> = share of that metric's questions the judge answers with the scripted answer.
    A question the judge leaves unanswered (no choice in its reply) is left out and listed; a backend
    error makes the metric 'failed' with the reason."""
    names = list(RUBRIC_METRIC_NAMES.values())
    if script is None or not script.rubric:
        reason = "no prompt script" if script is None else "the prompt has no rubric questions"
        return {name: not_measured(name, reason) for name in names}
    if config is None and judge is None:
        return {
            name: not_measured(name, "no rubric judge configured (EngineConfig.judge / MSAV_JUDGE_URL)")
            for name in names
        }
    backend: Judge = judge if judge is not None else OpenAIChatJudge(config)  # type: ignore[arg-type]
    per_shot = config.frames_per_shot if config else 2
    limit = config.max_frames if config else 8
    tool = f"expert:judge:{backend.name}"
    version = tool_versions()
    out: dict[str, MetricValue] = {}
    context = f"The video's script: {script.script}"
    for kind, name in RUBRIC_METRIC_NAMES.items():
        questions = [q for q in script.rubric if q.metric == kind]
        if not questions:
            out[name] = not_measured(name, f"the prompt has no {kind} rubric questions", tool, version)
            continue
        rows: list[dict[str, Any]] = []
        try:
            for question in questions:
                frames = [s.rgb for s in _frames_for(question, decoded, seg, per_shot, limit)]
                audio = _audio_for(question, decoded, seg) if kind == "audio" else None
                reply = backend.answer(question, context, frames, audio)
                rows.append({"id": question.id, "choice": reply.choice, "answer": question.answer,
                             "correct": reply.choice == question.answer if reply.choice is not None else None,
                             "frames": len(frames), "reply": reply.reply})
        except JudgeError as exc:
            out[name] = failed(name, str(exc), tool, version)
            continue
        answered = [r for r in rows if r["correct"] is not None]
        if not answered:
            out[name] = not_measured(name, "the judge named no choice in any reply", tool, version)
            continue
        share = sum(1 for r in answered if r["correct"]) / len(answered)
        out[name] = measured(name, share, tool, version, {"questions": rows, "unanswered": len(rows) - len(answered)})
    return out
