"""Reads of the annotation app: judgments for the rankings, a task as the annotator sees it, dashboard figures."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from annotation import queries
from annotation.models import Campaign, CampaignMember, Judgment, QcAnswer, Task
from annotation.stats import bradley_terry as bt
from annotation.stats.battles import OUTCOME_TO_WINNER, BattleRow
from leaderboard.selectors import submissions_public


def annotator_opaque_id(user_id: int) -> str:
    """A stable id for an annotator that does not reveal the account (keyed hash of the user id)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"annotator:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"ann-{digest[:12]}"


def judgments_counted() -> QuerySet[Judgment]:
    """Judgments that pass quality control: not by an annotator suspended in the judgment's campaign.

    Gold and attention answers are never Judgment rows (they are QcAnswer), so nothing else to drop.
    """
    suspended = CampaignMember.objects.filter(
        campaign_id=OuterRef("campaign_id"), user_id=OuterRef("annotator_id"), status=CampaignMember.Status.SUSPENDED
    )
    return Judgment.objects.exclude(Exists(suspended))


def annotator_reliability(*, user_ids: set[int]) -> dict[int, float]:
    """Each annotator's smoothed gold accuracy (correct + 1) / (answers + 2), over all their gold answers."""
    rows = (
        QcAnswer.objects.filter(annotator_id__in=user_ids)
        .values("annotator_id")
        .annotate(answers=Count("id"), correct=Count("id", filter=Q(correct=True)))
    )
    return {row["annotator_id"]: (row["correct"] + 1) / (row["answers"] + 2) for row in rows}


def judgments_for_ranking(
    *, suite_id: int, dimension: str | None = None, weight_by_reliability: bool = False
) -> list[BattleRow]:
    """Every counted judgment on the suite's public submissions as a battle between the two models.

    `model_a` is the model whose clip was shown as A, so `winner` refers to models, not screen sides.
    With `weight_by_reliability` each row weighs the annotator's smoothed gold accuracy (1.0 without gold).
    """
    public = submissions_public().filter(suite_id=suite_id).values("pk")
    rows = judgments_counted().filter(
        clip_a__prompt__suite_id=suite_id, clip_a__submission__in=public, clip_b__submission__in=public
    )
    if dimension is not None:
        rows = rows.filter(dimension=dimension)
    values = list(
        rows.order_by("pk").values_list(
            "clip_a__submission__model__slug",
            "clip_b__submission__model__slug",
            "outcome",
            "dimension",
            "annotator_id",
            "clip_a__prompt__prompt_id",
            "is_simulated",
        )
    )
    weights: dict[int, float] = {}
    if weight_by_reliability:
        weights = annotator_reliability(user_ids={row[4] for row in values})
    opaque: dict[int, str] = {}
    battles = []
    for model_a, model_b, outcome, dim, annotator_id, prompt, simulated in values:
        if model_a == model_b:
            continue  # two submissions of one model: not a comparison between models
        if annotator_id not in opaque:
            opaque[annotator_id] = annotator_opaque_id(annotator_id)
        battles.append(
            BattleRow(
                model_a=model_a,
                model_b=model_b,
                winner=OUTCOME_TO_WINNER[outcome],
                dimension=dim,
                annotator=opaque[annotator_id],
                prompt=prompt,
                weight=weights.get(annotator_id, 1.0),
                is_simulated=simulated,
            )
        )
    return battles


def campaign_list_for_annotator(*, user) -> list[tuple[Campaign, CampaignMember | None]]:  # type: ignore[no-untyped-def]
    """Active campaigns the user belongs to or may join (open sign-up), with their membership."""
    memberships = {m.campaign_id: m for m in CampaignMember.objects.filter(user=user)}
    campaigns = Campaign.objects.filter(is_active=True).filter(
        Q(enrollment=Campaign.Enrollment.OPEN) | Q(pk__in=memberships.keys())
    )
    return [(campaign, memberships.get(campaign.pk)) for campaign in campaigns.select_related("suite")]


def campaign_model_pair_outcomes(*, campaign: Campaign, model_ids: list[int]) -> bt.PairCounts:
    """The campaign's counted judgments on its first dimension, as Bradley-Terry pair counts over `model_ids`
    (models named by their id, in that order): what the active sampler works from."""
    dimension = campaign.dimension_names()[0]
    rows = (
        judgments_counted()
        .filter(campaign=campaign, dimension=dimension)
        .values_list("clip_a__submission__model_id", "clip_b__submission__model_id", "outcome")
    )
    known = set(model_ids)
    model_a, model_b, winners = [], [], []
    for a, b, outcome in rows:
        if a in known and b in known and a != b:
            model_a.append(str(a))
            model_b.append(str(b))
            winners.append(OUTCOME_TO_WINNER[outcome])
    return bt.aggregate_arrays(model_a, model_b, winners, models=[str(pk) for pk in model_ids])


def task_media_url(token: str) -> str:
    from django.urls import reverse

    return reverse("annotation:media", kwargs={"token": token})


def task_payload(*, task: Task) -> dict[str, Any]:
    """A task exactly as the annotator's browser may see it: no model, submission, clip or pair ids, only the
    task's random id and two per-task media tokens; the two clips look alike whatever their kind."""
    from annotation.services import required_watch_s

    prompt = queries.pair_prompt(pair_id=task.pair_id)
    shots = [{**shot, "audio": _shot_audio_text(shot["audio"])} for shot in queries.prompt_shots(prompt_pk=prompt.prompt_pk)]
    campaign = task.campaign
    return {
        "id": str(task.public_id),
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "expires_at": task.expires_at.isoformat(),
        "required_watch_s": round(required_watch_s(task=task, prompt=prompt), 2),
        "prompt": {
            "id": prompt.prompt_id,
            "script": prompt.script,
            "duration_s": prompt.duration_s,
            "languages": prompt.languages,
            "shots": shots,
        },
        "clips": {"a": task_media_url(task.media_a), "b": task_media_url(task.media_b)},
        "dimensions": campaign.dimensions,
    }


def _shot_audio_text(audio: Any) -> str:
    """The shot's scripted sound as one line (dialogue, effects, music), whatever shape the suite gave it."""
    if not audio:
        return ""
    if isinstance(audio, str):
        return audio
    if isinstance(audio, dict):
        parts = []
        for key, value in audio.items():
            if isinstance(value, list):
                value = "; ".join(v if isinstance(v, str) else " ".join(str(x) for x in (v.values() if isinstance(v, dict) else [v])) for v in value)
            elif isinstance(value, dict):
                value = " ".join(str(x) for x in value.values())
            parts.append(f"{key}: {value}")
        return " | ".join(parts)
    return str(audio)


def progress_payload(*, counts: queries.AnnotatorCounts, campaign: Campaign) -> dict[str, int]:
    """The annotator's progress as the API answers it."""
    return {"done_today": counts.submitted_today, "done_total": counts.submitted_total, "daily_limit": campaign.daily_limit}


def annotator_progress(*, campaign: Campaign, user: Any, now: Any = None) -> dict[str, int]:
    from annotation.services import day_start_utc
    from django.utils import timezone

    counts = queries.annotator_counts(campaign_id=campaign.pk, user_id=user.pk, day_start=day_start_utc(now or timezone.now()))
    return progress_payload(counts=counts, campaign=campaign)


def task_media_path(*, token: str, user: Any) -> tuple[Task, str]:
    """The file behind a media token of one of the user's tasks: (task, absolute path). Raises Task.DoesNotExist."""
    task = Task.objects.select_related("pair__clip_x", "pair__clip_y").get(
        Q(media_a=token) | Q(media_b=token), annotator=user
    )
    is_a = task.media_a == token
    x_side = is_a == task.x_is_a
    pair = task.pair
    if x_side:
        return task, pair.clip_x.file.path
    if pair.kind == "regular":
        return task, pair.clip_y.file.path
    return task, pair.degraded_file.path
