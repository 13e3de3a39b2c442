"""Seed the platform with the demo: suite, accounts, models and one submission per demo model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from leaderboard import services
from leaderboard.demo import generator
from leaderboard.models import ModelEntry, Submission, Suite
from leaderboard.roles import Role, user_grant_role

ROLE_GROUPS = ("researcher", "annotator", "curator")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "arena-admin", "curator"),
    DemoAccount("researcher", "arena-researcher", "researcher"),
    DemoAccount("annotator", "arena-annotator", "annotator"),
)


@dataclass
class DemoSeedResult:
    suite: Suite
    generated: bool
    models_created: list[str] = field(default_factory=list)
    submissions_created: list[int] = field(default_factory=list)


def roles_ensure() -> None:
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def demo_accounts_ensure() -> None:
    """Create the demo accounts if absent; an existing account keeps its password."""
    roles_ensure()
    user_model = get_user_model()
    for account in DEMO_ACCOUNTS:
        user = user_model.objects.filter(username=account.username).first()
        if user is None:
            if account.role == "curator":
                user = user_model.objects.create_superuser(account.username, "", account.password)
            else:
                user = user_model.objects.create_user(account.username, "", account.password)
        # Curators are staff; the others get their role's group (leaderboard.roles, the one definition).
        if account.role == Role.CURATOR and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user_grant_role(user, Role(account.role))


def demo_media_ensure(out_dir: Path) -> bool:
    """Reuse a complete demo already in out_dir (whatever slice it holds), else generate the full demo."""
    stamp = generator.load_manifest(out_dir)
    parameters = ("seed", "models", "prompts", "width", "height", "fps")
    if stamp is not None and generator.demo_is_complete(out_dir, **{name: stamp[name] for name in parameters}):
        return False
    generator.generate_demo(out_dir)
    return True


def demo_seed(*, out_dir: Path, models: list[str] | None = None) -> DemoSeedResult:
    """Generate the demo media if needed, import the suite, and submit each demo model once (idempotent).

    `models` limits which demo models are registered and submitted (by slug); default all.
    """
    generated = demo_media_ensure(out_dir)
    suite = services.suite_import(path=out_dir / "suite").suite
    demo_accounts_ensure()
    owner = get_user_model().objects.get(username="researcher")
    result = DemoSeedResult(suite=suite, generated=generated)
    entries = json.loads((out_dir / "models.json").read_text())
    for entry in entries:
        if models is not None and entry["slug"] not in models:
            continue
        with transaction.atomic():
            model = ModelEntry.objects.filter(slug=entry["slug"]).first()
            if model is None:
                model = services.model_entry_create(
                    name=entry["name"],
                    owner=owner,
                    organisation=entry["organisation"],
                    url=entry["url"],
                    license=entry["license"],
                    is_open=entry["open"],
                    paradigm=entry["paradigm"],
                    task=entry["task"],
                    description=entry["description"],
                )
                result.models_created.append(model.name)
        if Submission.objects.filter(model=model, suite=suite).exclude(state=Submission.State.CANCELLED).exists():
            continue
        archive = out_dir / "submissions" / f"{entry['slug']}.zip"
        with open(archive, "rb") as stream:
            submission = services.submission_create(
                owner=owner,
                model=model,
                suite=suite,
                archive=stream,
                archive_name=archive.name,
                is_public=True,  # the demo's researcher publishes the demo models
                enforce_quota=False,  # seeding 7 models at once is not a researcher's daily use
            )
        result.submissions_created.append(submission.pk)
    from annotation.demo import demo_campaign_ensure  # the demo annotator's study over this suite

    demo_campaign_ensure(suite=suite)
    # Simulated votes (labelled "simulated" wherever shown) with the demo's intended order as hidden truth,
    # so a new user sees a human ranking and a correlation at once; seeded by a worker task once unpacked.
    from annotation.ranking.demo import demo_simulated_judgments_schedule

    demo_simulated_judgments_schedule(
        suite=suite,
        intended_ranks={e["slug"]: e["intended_rank"] for e in entries if models is None or e["slug"] in models},
    )
    return result
