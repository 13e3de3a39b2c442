"""Engine configuration: which instruments run (expert models or signal processing) and the external backends.

Pure (no Django): the Django side builds an EngineConfig from settings (MSAV_ENGINE_EXPERT_MODELS,
MSAV_JUDGE_URL/MODEL/KEY, MSAV_ASR_...) and passes it to `score_clip`. The default runs the expert
models that are installed and no external backend, so rubric and WER metrics are "not measured".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

DSP_PATH = "dsp"
EXPERT_PATH = "expert"


def _check_url(what: str, url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{what}: url must be an http(s) URL with a host, got {url!r}")


@dataclass(frozen=True)
class JudgeConfig:
    """An OpenAI-compatible chat endpoint that answers the prompt's multiple-choice rubric questions.

    `url` is the API base (e.g. "http://127.0.0.1:8080/v1"); the judge posts to `<url>/chat/completions`
    (a URL already ending in /chat/completions is used as is)."""

    url: str
    model: str
    api_key: str = field(default="", repr=False)  # never printed in logs or evidence
    timeout_s: float = 60.0
    frames_per_shot: int = 2  # sampled frames sent per shot the question covers
    max_frames: int = 8  # per question: bounds the request size
    image_width: int = 384  # px; frames are downscaled to this width before JPEG encoding

    def __post_init__(self) -> None:
        _check_url("judge", self.url)
        if not self.model:
            raise ValueError("judge: model must be named")
        if self.timeout_s <= 0 or self.frames_per_shot < 1 or self.max_frames < 1 or self.image_width < 32:
            raise ValueError("judge: timeout_s > 0, frames_per_shot >= 1, max_frames >= 1, image_width >= 32")


@dataclass(frozen=True)
class AsrConfig:
    """A speech recogniser for WER: an OpenAI-compatible transcription endpoint
    (`<url>/audio/transcriptions`), or a local model path for a backend that loads one."""

    url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)
    model_path: str = ""
    timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if not self.url and not self.model_path:
            raise ValueError("asr: give a url (OpenAI-compatible endpoint) or a model_path")
        if self.url:
            _check_url("asr", self.url)
        if self.timeout_s <= 0:
            raise ValueError("asr: timeout_s must be > 0")


@dataclass(frozen=True)
class EngineConfig:
    """use_expert_models=False forces the signal-processing (DSP) path everywhere; True uses each expert
    model whose package is importable and falls back to DSP per metric when it is not. The result's
    evidence (`evidence.engine`) says which path ran, and every MetricValue names its tool and version."""

    use_expert_models: bool = True
    judge: JudgeConfig | None = None
    asr: AsrConfig | None = None

    def describe(self) -> dict[str, object]:
        """JSON-ready, without secrets (for the result's evidence)."""
        return {
            "use_expert_models": self.use_expert_models,
            "judge": None if self.judge is None else {"url": self.judge.url, "model": self.judge.model},
            "asr": None if self.asr is None else {"url": self.asr.url, "model": self.asr.model or self.asr.model_path},
        }


DEFAULT_CONFIG = EngineConfig()
