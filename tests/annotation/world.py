"""Test data for the annotation tests: a real imported suite and scored public submissions whose clips are
real demo clips (copied into MEDIA_ROOT), without running the scoring pipeline."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from annotation import services
from annotation.models import Campaign
from leaderboard.models import Clip, ModelEntry, Submission, Suite
from tests.factories import import_demo_suite, model_entry, user_with_role

# Names that must never reach an annotator's browser (checked by the blindness tests).
MODEL_NAMES = ["Zephyr Vision Alpha", "Quasar Motion Beta", "Nimbus Cine Gamma", "Orion Sound Delta"]


@dataclass
class World:
    suite: Suite
    models: list[ModelEntry]
    submissions: list[Submission]
    curator: object


def build_world(demo_dir: Path, *, n_models: int = 3, with_files: bool = True, prompts: list[str] | None = None) -> World:
    """n_models models, each with one scored public submission holding a clip for every demo prompt that
    has one (the demo's first model's clips, so every model has the same prompts)."""
    suite = import_demo_suite(demo_dir)
    curator = user_with_role("curie", None, is_staff=True)
    source_dir = next(path for path in sorted((demo_dir / "clips").iterdir()) if path.is_dir())
    models, submissions = [], []
    for index in range(n_models):
        entry = model_entry(MODEL_NAMES[index])
        submission = Submission.objects.create(
            model=entry, suite=suite, owner=curator, state=Submission.State.SCORED, archive=f"submissions/t{index}.zip",
            archive_name=f"{entry.slug}.zip", is_public=True, scored_at=timezone.now(),
        )
        for prompt in suite.prompts.all():
            source = source_dir / f"{prompt.prompt_id}.mp4"
            if not source.exists() or (prompts is not None and prompt.prompt_id not in prompts):
                continue
            relative = f"clips/{submission.pk}/{prompt.prompt_id}.mp4"
            if with_files:
                target = Path(settings.MEDIA_ROOT) / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            Clip.objects.create(
                submission=submission, prompt=prompt, file=relative, status=Clip.Status.SCORED,
                probe={"duration_s": prompt.duration_s},
            )
        models.append(entry)
        submissions.append(submission)
    return World(suite=suite, models=models, submissions=submissions, curator=curator)


def make_campaign(world: World, **overrides: object) -> Campaign:
    options: dict[str, object] = {
        "name": "Study",
        "suite": world.suite,
        "entries": world.models,
        "dimensions": {"overall": "", "video": "", "audio": ""},
        "created_by": world.curator,
        "overlap": 2,
        "gold_rate": 0.0,
        "attention_rate": 0.0,
        "enrollment": Campaign.Enrollment.OPEN,
        "min_watch_ratio": 0.0,
    }
    options.update(overrides)
    return services.campaign_create(**options)  # type: ignore[arg-type]


def annotator(name: str):  # type: ignore[no-untyped-def]
    return user_with_role(name, "annotator")
