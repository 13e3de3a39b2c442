"""The synthetic demo models: registry fields, defect parameters and the ranking they are meant to produce."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from leaderboard.vocabulary import PARADIGMS, TASKS


@dataclass(frozen=True)
class Defects:
    """What a demo model gets wrong; every field at its default means a perfect generator."""

    noise_sigma: float = 0.0  # Gaussian pixel noise, in 0-255 units
    blur_sigma: float = 0.0  # Gaussian blur of the picture, in output pixels
    audio_offset_ms: int = 0  # positive = audio late
    clip_gain: float = 1.0  # > 1: audio is amplified by this into a hard clip at full scale
    silence_spans: int = 0  # muted spans per affected clip, where sound was asked for
    silence_span_s: float = 0.0
    silence_prob: float = 0.0  # share of clips that get the muted spans
    merge_prob: float = 0.0  # chance that each scripted boundary is dropped (adjacent shots merged)
    max_shots: int = 0  # > 0: boundaries are merged until at most this many shots remain
    extra_cuts: int = 0  # spurious hard cuts added to an affected clip
    extra_cut_prob: float = 0.0  # share of clips that get them
    force_transition: str = ""  # e.g. "dissolve": every scripted hard cut is rendered this way
    uses_subject_reference: bool = True  # False: the referenced subject is swapped for another picture
    uses_voice_reference: bool = True  # False: referenced speakers get a generic voice
    missing: tuple[str, ...] = ()  # prompt ids with no clip in the submission


@dataclass(frozen=True)
class DemoModel:
    name: str
    slug: str
    organisation: str
    url: str
    license: str
    open: bool
    paradigm: str
    task: str
    description: str
    intended_rank: int  # 1 = best; the ordering the scores should reproduce
    defects: Defects = field(default_factory=Defects)
    notes: str = ""  # goes into the submission manifest

    def registry_entry(self) -> dict[str, Any]:
        """The models.json entry: registry fields plus the defect parameters behind the description."""
        entry: dict[str, Any] = {
            "name": self.name,
            "slug": self.slug,
            "organisation": self.organisation,
            "url": self.url,
            "license": self.license,
            "open": self.open,
            "paradigm": self.paradigm,
            "task": self.task,
            "description": self.description,
            "intended_rank": self.intended_rank,
            "defects": asdict(self.defects),
        }
        entry["defects"]["missing"] = list(self.defects.missing)
        return entry


_ORG = "MSAV Arena demo (synthetic)"


def _url(slug: str) -> str:
    # example.org is reserved for documentation, so these links can never point at a real product.
    return f"https://example.org/msav-demo/{slug}"


DEMO_MODELS: tuple[DemoModel, ...] = (
    DemoModel(
        name="Aurora-AV",
        slug="aurora-av",
        organisation=_ORG,
        url=_url("aurora-av"),
        license="proprietary",
        open=False,
        paradigm="joint",
        task="R2AV",
        description=(
            "Synthetic demo model, the near-perfect reference: follows every script exactly (shot count, cut "
            "times, transitions, camera moves, on-screen text), keeps reference subjects and voices, audio in "
            "sync. Only weakness: a very slightly soft picture (blur sigma 0.5)."
        ),
        intended_rank=1,
        defects=Defects(blur_sigma=0.5),
        notes="Reference run of the demo generator.",
    ),
    DemoModel(
        name="Lumen Shot",
        slug="lumen-shot",
        organisation=_ORG,
        url=_url("lumen-shot"),
        license="Apache-2.0",
        open=True,
        paradigm="modular-agentic",
        task="R2AV",
        description=(
            "Synthetic demo model. Strengths: exact shot count and timing, reference subjects and voices kept, "
            "audio in sync. Weaknesses: renders every scripted hard cut as a 12-frame dissolve, and the "
            "picture is slightly soft (blur sigma 0.8)."
        ),
        intended_rank=2,
        defects=Defects(blur_sigma=0.8, force_transition="dissolve"),
        notes="Agentic planner + per-shot renderer; the editor always cross-fades.",
    ),
    DemoModel(
        name="DriftSync",
        slug="driftsync",
        organisation=_ORG,
        url=_url("driftsync"),
        license="CC-BY-NC-4.0",
        open=True,
        paradigm="joint",
        task="TI2AV",
        description=(
            "Synthetic demo model. Strengths: sharp picture, exact cuts and shot count, keeps reference "
            "images. Weaknesses: audio lags the picture by 400 ms; ignores voice references (generic voice); "
            "produced no clip for the 15-shot prompt narrative-001."
        ),
        intended_rank=3,
        defects=Defects(audio_offset_ms=400, uses_voice_reference=False, missing=("narrative-001",)),
        notes="Generation of narrative-001 timed out.",
    ),
    DemoModel(
        name="DubStage",
        slug="dubstage",
        organisation=_ORG,
        url=_url("dubstage"),
        license="proprietary",
        open=False,
        paradigm="video-first+dubbing",
        task="TI2AV",
        description=(
            "Synthetic demo model. Strengths: picture follows the script (shots, cuts, references). "
            "Weaknesses: the dubbed audio leads the picture by 250 ms, is overdriven into hard clipping "
            "(gain 3.0), drops out for 1.5 s in about half of the clips, and ignores voice references."
        ),
        intended_rank=4,
        defects=Defects(
            audio_offset_ms=-250,
            clip_gain=3.0,
            silence_spans=1,
            silence_span_s=1.5,
            silence_prob=0.5,
            uses_voice_reference=False,
        ),
        notes="Video model followed by a separate dubbing pass.",
    ),
    DemoModel(
        name="QuickCut",
        slug="quickcut",
        organisation=_ORG,
        url=_url("quickcut"),
        license="MIT",
        open=True,
        paradigm="joint",
        task="T2AV",
        description=(
            "Synthetic demo model. Strengths: sound in sync, picture mostly clean (light noise, sigma 4). Weaknesses: cannot make more "
            "than 6 shots (merges adjacent shots beyond that) and drops about 15% of the other boundaries; "
            "text-only, so it ignores reference images and voices (the referenced subject is replaced)."
        ),
        intended_rank=5,
        defects=Defects(
            max_shots=6,
            merge_prob=0.15,
            uses_subject_reference=False,
            uses_voice_reference=False,
            noise_sigma=4.0,
        ),
        notes="Single-pass joint model with a 6-shot context limit.",
    ),
    DemoModel(
        name="BlurWave",
        slug="blurwave",
        organisation=_ORG,
        url=_url("blurwave"),
        license="Apache-2.0",
        open=True,
        paradigm="video-first+dubbing",
        task="T2AV",
        description=(
            "Synthetic demo model. Strengths: keeps the scripted cuts and audio sync. Weaknesses: blurry "
            "(sigma 2.5) and noisy (sigma 10) picture, inserts a spurious hard cut in most clips, ignores "
            "reference images and voices."
        ),
        intended_rank=6,
        defects=Defects(
            blur_sigma=2.5,
            noise_sigma=10.0,
            extra_cuts=1,
            extra_cut_prob=0.7,
            uses_subject_reference=False,
            uses_voice_reference=False,
        ),
        notes="Low-resolution video model upscaled, then dubbed.",
    ),
    DemoModel(
        name="StubGen",
        slug="stubgen",
        organisation=_ORG,
        url=_url("stubgen"),
        license="MIT",
        open=True,
        paradigm="modular-agentic",
        task="T2AV",
        description=(
            "Synthetic demo model, the weak baseline: no clip for music-002 and nature-001, merges about 30% "
            "of the scripted shots and adds 2 spurious cuts per clip, noisy (sigma 16) and soft (blur 1.5) "
            "picture, audio clipped (gain 2.5) with two 2-second drop-outs per clip, ignores references."
        ),
        intended_rank=7,
        defects=Defects(
            noise_sigma=16.0,
            blur_sigma=1.5,
            clip_gain=2.5,
            silence_spans=2,
            silence_span_s=2.0,
            silence_prob=1.0,
            merge_prob=0.3,
            extra_cuts=2,
            extra_cut_prob=1.0,
            uses_subject_reference=False,
            uses_voice_reference=False,
            missing=("music-002", "nature-001"),
        ),
        notes="Baseline pipeline; two prompts failed.",
    ),
)


def model_slugs() -> tuple[str, ...]:
    return tuple(m.slug for m in DEMO_MODELS)


def get_model(slug: str) -> DemoModel:
    for model in DEMO_MODELS:
        if model.slug == slug:
            return model
    raise KeyError(f"unknown demo model {slug!r}; known: {', '.join(model_slugs())}")


def _check() -> None:
    for model in DEMO_MODELS:
        assert model.paradigm in PARADIGMS and model.task in TASKS, model.slug
    assert sorted(m.intended_rank for m in DEMO_MODELS) == list(range(1, len(DEMO_MODELS) + 1))


_check()
