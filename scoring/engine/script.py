"""The prompt script a clip is scored against: the suite format's vocabularies and typed prompt data.

This module is the single definition of the suite format's enumerations (genres, shot scales,
transitions, ...) and of the plain dataclasses that carry a prompt into the engine. The suite
importer (`leaderboard.suite_format`) validates JSON into these types; the engine reads them.
No Django here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SHOTS = 15
DEFAULT_DURATION_S = 15.0
PROMPT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

CATEGORIES = (
    "action",
    "tutorial",
    "music",
    "narrative",
    "dialogue",
    "science_game",
    "advertising",
    "nature",
)
REALISM_VALUES = ("real", "non-real")
AUDIO_CLASSES = ("speech", "singing", "music", "sfx", "ambience", "silence")
SHOT_SCALES = ("extreme-long", "long", "medium", "close-up", "extreme-close-up")
CAMERA_ANGLES = ("eye-level", "high", "low", "overhead", "dutch")
CAMERA_MOTIONS = ("static", "pan", "tilt", "dolly", "zoom", "tracking", "handheld")
TRANSITIONS = ("hard-cut", "dissolve", "fade", "wipe", "none")
GRADUAL_TRANSITIONS = ("dissolve", "fade", "wipe")
REFERENCE_KINDS = ("subject", "scene", "voice")
RUBRIC_METRICS = ("narrative", "camera", "layout", "visual", "audio")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
VOICE_EXTENSIONS = (".wav", ".flac", ".mp3")
SHOT_AUDIO_KEYS = ("emotion", "language", "dialogue", "sound")

# Submissions: one clip per prompt, `<prompt id>.<ext>`.
CLIP_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm")
MANIFEST_NAME = "manifest.json"

# Breakdown buckets used by aggregation and the leaderboard filters.
SHOT_COUNT_BUCKETS = (("1-4", 1, 4), ("5-10", 5, 10), ("11-15", 11, 15))


def shot_count_bucket(shot_count: int) -> str:
    """The shot-count bucket label ('1-4', '5-10', '11-15') of a prompt with this many shots."""
    for label, low, high in SHOT_COUNT_BUCKETS:
        if low <= shot_count <= high:
            return label
    raise ValueError(f"shot count {shot_count} is outside 1..{MAX_SHOTS}")


def realism_bucket(subject_realism: str, scene_realism: str) -> str:
    """The realism bucket of the paper's four subject x scene combinations, e.g. 'real/non-real'."""
    return f"{subject_realism}/{scene_realism}"


@dataclass(frozen=True)
class ShotAudio:
    emotion: str = ""
    language: str = ""
    dialogue: str = ""
    sound: str = ""


@dataclass(frozen=True)
class ShotScript:
    index: int  # 1-based, as the format's `shots` lists in references and rubrics
    start_s: float
    end_s: float
    caption: str
    shot_scale: str
    camera_angle: str
    camera_motion: str
    transition_in: str
    lighting: str = ""
    audio: ShotAudio | None = None
    on_screen_text: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class ReferenceSpec:
    kind: str
    file: str  # relative to the suite folder
    name: str
    shots: tuple[int, ...] = ()  # 1-based; empty means all shots


@dataclass(frozen=True)
class RubricQuestion:
    id: str
    metric: str
    question: str
    choices: tuple[str, ...]
    answer: int
    shots: tuple[int, ...] = ()


@dataclass(frozen=True)
class PromptScript:
    id: str
    category: str
    style: str
    subject_realism: str
    scene_realism: str
    languages: tuple[str, ...]
    audio_classes: tuple[str, ...]
    duration_s: float
    script: str
    shots: tuple[ShotScript, ...]
    references: tuple[ReferenceSpec, ...] = ()
    rubric: tuple[RubricQuestion, ...] = ()

    @property
    def shot_count(self) -> int:
        return len(self.shots)

    @property
    def shot_count_bucket(self) -> str:
        return shot_count_bucket(self.shot_count)

    @property
    def realism_bucket(self) -> str:
        return realism_bucket(self.subject_realism, self.scene_realism)

    @property
    def planned_boundaries_s(self) -> tuple[float, ...]:
        """Scripted cut times: the start of every shot after the first."""
        return tuple(shot.start_s for shot in self.shots[1:])

    def to_dict(self) -> dict[str, Any]:
        """The prompt in the suite format's JSON shape (the inverse of `prompt_from_dict`)."""
        shots = []
        for shot in self.shots:
            entry: dict[str, Any] = {
                "start_s": shot.start_s,
                "end_s": shot.end_s,
                "caption": shot.caption,
                "shot_scale": shot.shot_scale,
                "camera_angle": shot.camera_angle,
                "camera_motion": shot.camera_motion,
                "transition_in": shot.transition_in,
            }
            if shot.lighting:
                entry["lighting"] = shot.lighting
            if shot.audio is not None:
                entry["audio"] = {
                    key: getattr(shot.audio, key) for key in SHOT_AUDIO_KEYS if getattr(shot.audio, key)
                }
            if shot.on_screen_text:
                entry["on_screen_text"] = shot.on_screen_text
            shots.append(entry)
        return {
            "id": self.id,
            "category": self.category,
            "style": self.style,
            "subject_realism": self.subject_realism,
            "scene_realism": self.scene_realism,
            "languages": list(self.languages),
            "audio_classes": list(self.audio_classes),
            "duration_s": self.duration_s,
            "script": self.script,
            "shots": shots,
            "references": [
                {"kind": r.kind, "file": r.file, "name": r.name, "shots": list(r.shots)}
                for r in self.references
            ],
            "rubric": [
                {
                    "id": q.id,
                    "metric": q.metric,
                    "question": q.question,
                    "choices": list(q.choices),
                    "answer": q.answer,
                    "shots": list(q.shots),
                }
                for q in self.rubric
            ],
        }


def prompt_from_dict(data: dict[str, Any]) -> PromptScript:
    """Build a PromptScript from already-validated suite JSON (see `leaderboard.suite_format`)."""
    shots = []
    for index, shot in enumerate(data["shots"], start=1):
        audio = shot.get("audio")
        shots.append(
            ShotScript(
                index=index,
                start_s=float(shot["start_s"]),
                end_s=float(shot["end_s"]),
                caption=shot["caption"],
                shot_scale=shot["shot_scale"],
                camera_angle=shot["camera_angle"],
                camera_motion=shot["camera_motion"],
                transition_in=shot["transition_in"],
                lighting=shot.get("lighting", "") or "",
                audio=ShotAudio(**{k: audio.get(k, "") or "" for k in SHOT_AUDIO_KEYS}) if audio else None,
                on_screen_text=shot.get("on_screen_text", "") or "",
            )
        )
    return PromptScript(
        id=data["id"],
        category=data["category"],
        style=data["style"],
        subject_realism=data["subject_realism"],
        scene_realism=data["scene_realism"],
        languages=tuple(data.get("languages", ())),
        audio_classes=tuple(data.get("audio_classes", ())),
        duration_s=float(data.get("duration_s", DEFAULT_DURATION_S)),
        script=data["script"],
        shots=tuple(shots),
        references=tuple(
            ReferenceSpec(kind=r["kind"], file=r["file"], name=r["name"], shots=tuple(r.get("shots", ())))
            for r in data.get("references", ())
        ),
        rubric=tuple(
            RubricQuestion(
                id=q["id"],
                metric=q["metric"],
                question=q["question"],
                choices=tuple(q["choices"]),
                answer=int(q["answer"]),
                shots=tuple(q.get("shots", ())),
            )
            for q in data.get("rubric", ())
        ),
    )


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    version: str
    description: str
    prompts: tuple[PromptScript, ...] = field(default_factory=tuple)
