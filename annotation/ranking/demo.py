"""Simulated judgments for the demo suite, so a new user sees a human ranking and a correlation at once.

Simulated annotators compare clips of the same prompt under a Bradley-Terry model of hidden true
strengths taken from the demo's intended model order (leaderboard.demo.roster: intended_rank), with
a per-clip quality effect, per-annotator noise, and ties ("both good" between strong clips, "both bad"
between weak ones). Every such judgment is stored with is_simulated=True, and every page and API
that shows a figure built on them labels it "simulated".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.models import Judgment
from leaderboard.models import Clip, Submission, Suite

logger = logging.getLogger(__name__)

SIMULATED_USERNAME = "simulated-annotator-{:02d}"
SIMULATED_ANNOTATORS = 8
JUDGMENTS_PER_ANNOTATOR = 90
# True strength step between neighbouring intended ranks, in log-odds (~78 rating points).
STRENGTH_PER_RANK = 0.45
CLIP_EFFECT_SD = 0.35
# A clip that is missing or failed to decode loses almost every comparison.
FAILED_CLIP_EFFECT = -3.0


@dataclass(frozen=True)
class SimulatedAnnotator:
    noise: float  # sd of the annotator's perception error (log-odds)
    tie_margin: float  # perceived differences below this become a tie


def demo_simulation_pending(*, suite: Suite, slugs: list[str]) -> bool:
    """True while a demo submission is still being unpacked (its clips do not exist yet)."""
    return Submission.objects.filter(
        suite=suite, model__slug__in=slugs, state__in=[Submission.State.UPLOADED, Submission.State.VALIDATING]
    ).exists()


def demo_simulated_judgments_exist(*, suite: Suite) -> bool:
    return Judgment.objects.filter(is_simulated=True, clip_a__prompt__suite=suite).exists()


@transaction.atomic
def demo_simulated_judgments_create(
    *, suite: Suite, intended_ranks: dict[str, int], seed: int = 20260520,
    annotators: int = SIMULATED_ANNOTATORS, per_annotator: int = JUDGMENTS_PER_ANNOTATOR,
) -> int:
    """Create the simulated annotators' overall judgments on the suite's demo clips (idempotent: none are
    added when simulated judgments exist already). Returns the number created."""
    if demo_simulated_judgments_exist(suite=suite):
        return 0
    rng = np.random.default_rng(seed)
    clips = list(
        Clip.objects.filter(submission__suite=suite, submission__model__slug__in=list(intended_ranks))
        .exclude(submission__state=Submission.State.CANCELLED)
        .select_related("submission__model", "prompt")
        .order_by("prompt__position", "submission__model__slug", "-submission__created_at")
    )
    by_prompt: dict[int, dict[str, Clip]] = {}
    for clip in clips:
        by_prompt.setdefault(clip.prompt_id, {}).setdefault(clip.submission.model.slug, clip)
    pairs = [
        (first, second)
        for group in by_prompt.values()
        for i, first in enumerate(sorted(group.values(), key=lambda c: c.pk))
        for second in sorted(group.values(), key=lambda c: c.pk)[i + 1 :]
    ]
    if not pairs:
        return 0
    worst = max(intended_ranks.values())
    strength = {slug: STRENGTH_PER_RANK * (worst - rank) for slug, rank in intended_ranks.items()}
    mean_strength = float(np.mean(list(strength.values())))
    effect = {
        clip.pk: FAILED_CLIP_EFFECT if clip.status in (Clip.Status.FAILED, Clip.Status.MISSING)
        else float(rng.normal(0.0, CLIP_EFFECT_SD))
        for clip in clips
    }
    user_model = get_user_model()
    people = []
    for k in range(1, annotators + 1):
        user, created = user_model.objects.get_or_create(
            username=SIMULATED_USERNAME.format(k), defaults={"is_active": False, "first_name": "Simulated"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        people.append((user, SimulatedAnnotator(noise=float(rng.uniform(0.3, 1.0)), tie_margin=float(rng.uniform(0.1, 0.4)))))
    rows = []
    for user, annotator in people:
        chosen = rng.choice(len(pairs), size=min(per_annotator, len(pairs)), replace=False)
        for index in chosen:
            first, second = pairs[int(index)]
            # random screen sides, as a campaign shows them
            clip_a, clip_b = (first, second) if rng.random() < 0.5 else (second, first)
            quality_a = strength[clip_a.submission.model.slug] + effect[clip_a.pk]
            quality_b = strength[clip_b.submission.model.slug] + effect[clip_b.pk]
            perceived = quality_a - quality_b + rng.normal(0.0, annotator.noise)
            if abs(perceived) < annotator.tie_margin:
                outcome = Judgment.Outcome.BOTH_GOOD if (quality_a + quality_b) / 2 >= mean_strength else Judgment.Outcome.BOTH_BAD
            else:
                outcome = Judgment.Outcome.A if rng.random() < 1.0 / (1.0 + np.exp(-perceived)) else Judgment.Outcome.B
            rows.append(
                Judgment(annotator=user, clip_a=clip_a, clip_b=clip_b, dimension="overall", outcome=outcome,
                         is_simulated=True, comment="simulated (demo)")
            )
    Judgment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def demo_simulated_judgments_schedule(*, suite: Suite, intended_ranks: dict[str, int]) -> None:
    """Queue the seeding task (it waits for the demo submissions to be unpacked); nothing if already seeded."""
    if not intended_ranks or demo_simulated_judgments_exist(suite=suite):
        return
    from annotation.ranking.tasks import seed_demo_judgments

    suite_id = suite.pk
    ranks = dict(intended_ranks)

    def enqueue() -> None:
        try:
            seed_demo_judgments.delay(suite_id, ranks)
        except Exception:  # no broker: the demo simply has no simulated votes until the next setup_demo
            logger.exception("could not queue the demo's simulated judgments")

    transaction.on_commit(enqueue)
