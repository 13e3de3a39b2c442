"""Writes of the scoring app: run the engine on a clip, store its result once, aggregate a submission."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.models import Clip, Submission
from leaderboard.services import submission_transition, suite_media_dir
from scoring import engine
from scoring.engine.catalog import DIMENSIONS
from scoring.models import ClipScore, MetricScore, SubmissionScore

logger = logging.getLogger(__name__)

# The breakdown axes of a submission's aggregate: axis name -> the prompt's value(s) on it.
BREAKDOWN_AXES = {
    "genre": lambda prompt: [prompt.category],
    "shot_bucket": lambda prompt: [prompt.shot_count_bucket],
    "realism": lambda prompt: [prompt.realism_bucket],
    "style": lambda prompt: [prompt.style],
    "language": lambda prompt: list(prompt.languages) or ["none"],
}


def clip_claim(*, clip_id: int) -> bool:
    """Mark a clip as being scored (again, if a worker died holding it); False if it needs no scoring."""
    return (
        Clip.objects.filter(pk=clip_id, status__in=(Clip.Status.QUEUED, Clip.Status.SCORING)).update(
            status=Clip.Status.SCORING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        == 1
    )


def clip_score(*, clip_id: int) -> ClipScore | None:
    """Score one clip with the current engine and store the result exactly once.

    Idempotent: a clip already scored by this engine version keeps its one result, also when two
    workers race for it (the unique constraint decides). A clip that does not decode is marked failed.
    """
    existing = ClipScore.objects.filter(clip_id=clip_id, engine_version=engine.ENGINE_VERSION).first()
    if existing is not None:
        Clip.objects.filter(pk=clip_id).exclude(status=Clip.Status.SCORED).update(status=Clip.Status.SCORED, updated_at=timezone.now())
        return existing
    if not clip_claim(clip_id=clip_id):
        return None
    clip = Clip.objects.select_related("prompt__suite", "submission").get(pk=clip_id)
    submission_transition(submission_id=clip.submission_id, to=Submission.State.SCORING)
    suite = clip.prompt.suite
    try:
        result = engine.score_clip(
            Path(clip.file.path), clip.prompt.to_script(), reference_root=suite_media_dir(suite.name, suite.version)
        )
    except engine.ClipDecodeError as error:
        clip_fail(clip_id=clip_id, reason=f'"{clip.member_name}" does not decode: {error.reason}')
        return None
    return clip_score_store(clip_id=clip_id, result=result)


def clip_score_store(*, clip_id: int, result: engine.ClipResult) -> ClipScore:
    data = result.to_dict()
    try:
        with transaction.atomic():
            score = ClipScore.objects.create(
                clip_id=clip_id,
                engine_version=data["engine_version"],
                overall=data["overall"],
                dimensions=data["dimensions"],
                evidence=data["evidence"],
                missing=data["missing"],
                flags=data["flags"],
                timings=data.get("timings", {}),
            )
            MetricScore.objects.bulk_create(
                MetricScore(
                    clip_score=score,
                    name=name,
                    dimension=metric["dimension"],
                    value=metric["value"],
                    status=metric["status"],
                    tool=metric["tool"],
                    version=metric["version"],
                    raw=metric.get("raw"),
                    reason=metric.get("reason") or "",
                )
                for name, metric in data["metrics"].items()
            )
            Clip.objects.filter(pk=clip_id).update(status=Clip.Status.SCORED, status_reason="", updated_at=timezone.now())
    except IntegrityError:
        # Another worker stored this clip's result for this engine version first: keep theirs.
        score = ClipScore.objects.get(clip_id=clip_id, engine_version=data["engine_version"])
        Clip.objects.filter(pk=clip_id).update(status=Clip.Status.SCORED, status_reason="", updated_at=timezone.now())
    return score


def clip_fail(*, clip_id: int, reason: str) -> None:
    Clip.objects.filter(pk=clip_id).exclude(status=Clip.Status.SCORED).update(
        status=Clip.Status.FAILED, status_reason=reason, updated_at=timezone.now()
    )


def submission_finish_if_complete(*, submission_id: int) -> SubmissionScore | None:
    """Aggregate and mark the submission scored once every clip is settled; safe to call any number of times."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.state not in (Submission.State.QUEUED, Submission.State.SCORING):
            return None
        if submission.clips.exclude(status__in=Clip.TERMINAL).exists():
            return None
        aggregate = submission_aggregate(submission=submission)
        submission_transition(submission_id=submission_id, to=Submission.State.SCORED)
    return aggregate


def submission_aggregate(*, submission: Submission) -> SubmissionScore:
    """Mean over the suite's prompts; a missing or failed clip is a failed generation that scores 0."""
    clips = list(submission.clips.select_related("prompt"))
    scores = {
        score.clip_id: score
        for score in ClipScore.objects.filter(clip__submission=submission, engine_version=engine.ENGINE_VERSION)
    }
    per_prompt = []
    for clip in clips:
        score = scores.get(clip.pk)
        if score is None:
            per_prompt.append((clip.prompt, 0.0, None))  # a failed generation
        else:
            per_prompt.append((clip.prompt, score.overall, score.dimensions))
    measured_dimensions = {
        dimension for _, _, dims in per_prompt if dims is not None for dimension, value in dims.items() if value is not None
    }
    summary = _summarise(per_prompt, measured_dimensions)
    breakdowns: dict[str, dict[str, dict]] = {}
    for axis, values_of in BREAKDOWN_AXES.items():
        groups: dict[str, list] = defaultdict(list)
        for entry in per_prompt:
            for value in values_of(entry[0]):
                groups[value].append(entry)
        breakdowns[axis] = {
            value: _summarise(entries, measured_dimensions) for value, entries in sorted(groups.items())
        }
    aggregate, _ = SubmissionScore.objects.update_or_create(
        submission=submission,
        engine_version=engine.ENGINE_VERSION,
        defaults={
            "overall": summary["overall"],
            "dimensions": summary["dimensions"],
            "breakdowns": breakdowns,
            "prompts_total": len(clips),
            "prompts_scored": len(scores),
            "failed_prompts": sorted(clip.prompt.prompt_id for clip in clips if clip.pk not in scores),
        },
    )
    return aggregate


def _summarise(entries: list, measured_dimensions: set[str]) -> dict:
    """Overall and per-dimension means of (prompt, overall, dimensions or None for a failed generation).

    A failed generation counts 0 in the overall and in every dimension the engine measured on this
    submission; a dimension measured on none of its clips stays unmeasured (None), never 0.
    """
    dimensions: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        values = [
            0.0 if dims is None else dims[dimension]
            for _, _, dims in entries
            if dimension in measured_dimensions and (dims is None or dims.get(dimension) is not None)
        ]
        dimensions[dimension] = round(sum(values) / len(values), 6) if values else None
    overall = sum(value for _, value, _ in entries) / len(entries) if entries else 0.0
    return {"overall": round(overall, 6), "dimensions": dimensions, "prompts": len(entries)}


@dataclass(frozen=True)
class ReapResult:
    clips_to_score: list[int]
    submissions_to_validate: list[int]


def pipeline_reap_stalled(*, now: datetime) -> ReapResult:
    """Find work that stalled and say what to enqueue again, so nothing stays in flight forever.

    Uploads whose validation was never queued (broker down) or whose validating worker died; clips
    stuck queued or scoring past the deadline (re-queued, or failed after too many tries); and
    submissions whose every clip is settled but whose last join was lost.
    """
    deadline = now - timedelta(seconds=settings.MSAV_CLIP_STALL_AFTER_S)
    upload_deadline = now - timedelta(seconds=settings.MSAV_UPLOAD_STALL_AFTER_S)
    to_validate = [
        submission_id
        for submission_id in Submission.objects.filter(
            state=Submission.State.VALIDATING, updated_at__lt=deadline
        ).values_list("pk", flat=True)
        if submission_transition(submission_id=submission_id, to=Submission.State.UPLOADED)
    ]
    waiting = Submission.objects.filter(state=Submission.State.UPLOADED, updated_at__lt=upload_deadline)
    to_validate += list(waiting.exclude(pk__in=to_validate).values_list("pk", flat=True))
    # Touched so that the next round waits a full period before queueing them again.
    Submission.objects.filter(pk__in=to_validate).update(updated_at=now)
    stalled = Clip.objects.filter(status__in=(Clip.Status.QUEUED, Clip.Status.SCORING), updated_at__lt=deadline)
    requeue = []
    for clip in stalled:
        if clip.attempts >= settings.MSAV_CLIP_MAX_ATTEMPTS:
            clip_fail(clip_id=clip.pk, reason=f"gave up after {clip.attempts} attempts that did not finish")
        else:
            Clip.objects.filter(pk=clip.pk, status=clip.status).update(status=Clip.Status.QUEUED, updated_at=now)
            requeue.append(clip.pk)
    for submission_id in Submission.objects.filter(
        state__in=(Submission.State.QUEUED, Submission.State.SCORING)
    ).values_list("pk", flat=True):
        submission_finish_if_complete(submission_id=submission_id)
    return ReapResult(clips_to_score=requeue, submissions_to_validate=to_validate)
