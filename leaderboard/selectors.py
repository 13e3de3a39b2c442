"""Reads of the leaderboard app: the ranked table of a suite, and a submission's progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from leaderboard.models import Clip, ModelEntry, Submission, Suite
from scoring import engine
from scoring.engine.catalog import DIMENSIONS
from scoring.models import ClipScore, SubmissionScore

SORTABLE_COLUMNS = ("rank", "model", "organisation", "overall", "prompts", *DIMENSIONS)


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    model: ModelEntry
    submission_id: int
    overall: float
    dimensions: dict[str, float | None]
    prompts_scored: int
    prompts_total: int
    engine_version: str

    def dimension_list(self) -> list[float | None]:
        return [self.dimensions.get(dimension) for dimension in DIMENSIONS]


@dataclass(frozen=True)
class Leaderboard:
    suite: Suite
    rows: list[LeaderboardRow]
    engine_versions: list[str] = field(default_factory=list)

    @property
    def mixes_engine_versions(self) -> bool:
        return len(self.engine_versions) > 1


def suite_list() -> QuerySet[Suite]:
    return Suite.objects.annotate(
        prompt_count=Count("prompts", distinct=True),
        scored_count=Count("submissions", filter=Q(submissions__state=Submission.State.SCORED), distinct=True),
    ).order_by("name", "-imported_at")


def suite_default() -> Suite | None:
    return Suite.objects.order_by("-imported_at").first()


def leaderboard_for_suite(*, suite: Suite, sort: str = "rank", descending: bool = False) -> Leaderboard:
    """Each model's latest public scored submission on the suite, ranked by overall score.

    Ties share a rank (1, 2, 2, 4). The current engine's aggregate is preferred; a row still on an
    older engine keeps its version, and the leaderboard says that it mixes versions.
    """
    latest: dict[int, Submission] = {}
    for submission in (
        Submission.objects.filter(suite=suite, state=Submission.State.SCORED, is_public=True)
        .select_related("model")
        .order_by("model_id", "-scored_at", "-pk")
    ):
        latest.setdefault(submission.model_id, submission)
    aggregates: dict[int, SubmissionScore] = {}
    for aggregate in SubmissionScore.objects.filter(submission__in=latest.values()).order_by("-created_at"):
        current = aggregates.get(aggregate.submission_id)
        if current is None or (
            aggregate.engine_version == engine.ENGINE_VERSION and current.engine_version != engine.ENGINE_VERSION
        ):
            aggregates[aggregate.submission_id] = aggregate
    entries = [(submission, aggregates[submission.pk]) for submission in latest.values() if submission.pk in aggregates]
    entries.sort(key=lambda entry: (-entry[1].overall, entry[0].model.name.lower()))
    rows = []
    previous_overall, previous_rank = None, 0
    for position, (submission, aggregate) in enumerate(entries, start=1):
        overall = round(aggregate.overall, 4)
        rank = previous_rank if overall == previous_overall else position
        previous_overall, previous_rank = overall, rank
        rows.append(
            LeaderboardRow(
                rank=rank,
                model=submission.model,
                submission_id=submission.pk,
                overall=aggregate.overall,
                dimensions=aggregate.dimensions,
                prompts_scored=aggregate.prompts_scored,
                prompts_total=aggregate.prompts_total,
                engine_version=aggregate.engine_version,
            )
        )
    rows = _sorted_rows(rows, sort=sort, descending=descending)
    return Leaderboard(suite=suite, rows=rows, engine_versions=sorted({row.engine_version for row in rows}))


def _sorted_rows(rows: list[LeaderboardRow], *, sort: str, descending: bool) -> list[LeaderboardRow]:
    def missing_last(value: float | None) -> tuple[bool, float]:
        return (value is None, -(value or 0.0) if not descending else (value or 0.0))

    if sort == "rank" or sort not in SORTABLE_COLUMNS:
        return sorted(rows, key=lambda row: row.rank, reverse=descending)
    if sort == "model":
        return sorted(rows, key=lambda row: row.model.name.lower(), reverse=descending)
    if sort == "organisation":
        return sorted(rows, key=lambda row: row.model.organisation.lower(), reverse=descending)
    if sort == "overall":
        return sorted(rows, key=lambda row: row.overall, reverse=not descending)
    if sort == "prompts":
        return sorted(rows, key=lambda row: row.prompts_scored, reverse=not descending)
    # A dimension: best first by default; rows where it was not measured go last either way.
    return sorted(rows, key=lambda row: missing_last(row.dimensions.get(sort)))


def submission_visible_to(*, submission: Submission, user: AbstractBaseUser | AnonymousUser) -> bool:
    if user.is_authenticated and (user.is_staff or submission.owner_id == user.pk):
        return True
    return submission.is_public and submission.state == Submission.State.SCORED


def submission_progress(*, submission: Submission) -> dict:
    """What the submission page shows and polls: state, clips done / total, per-clip status and reasons."""
    clips = list(submission.clips.select_related("prompt").order_by("prompt__position"))
    done = sum(1 for clip in clips if clip.status in Clip.TERMINAL)
    clip_overall = dict(
        ClipScore.objects.filter(clip__submission=submission, engine_version=engine.ENGINE_VERSION).values_list(
            "clip_id", "overall"
        )
    )
    aggregate = submission.scores.filter(engine_version=engine.ENGINE_VERSION).first() or submission.scores.order_by(
        "-created_at"
    ).first()
    return {
        "id": submission.pk,
        "state": submission.state,
        "state_reason": submission.state_reason,
        "clips_total": len(clips),
        "clips_done": done,
        "clips": [
            {
                "id": clip.pk,
                "prompt": clip.prompt.prompt_id,
                "status": clip.status,
                "reason": clip.status_reason,
                "overall": clip_overall.get(clip.pk),
            }
            for clip in clips
        ],
        "refused": submission.report.get("refused", []),
        "ignored": submission.report.get("ignored", []),
        "scores": None
        if aggregate is None
        else {
            "engine_version": aggregate.engine_version,
            "overall": aggregate.overall,
            "dimensions": aggregate.dimensions,
            "failed_prompts": aggregate.failed_prompts,
        },
    }


def clip_result(*, clip: Clip) -> dict | None:
    """A clip's stored result for the current engine: every metric with value, status, tool and version, and the evidence."""
    score = clip.scores.filter(engine_version=engine.ENGINE_VERSION).prefetch_related("metrics").first()
    if score is None:
        return None
    return {
        "clip": clip.pk,
        "prompt": clip.prompt.prompt_id,
        "engine_version": score.engine_version,
        "overall": score.overall,
        "dimensions": score.dimensions,
        "metrics": {
            metric.name: {
                "dimension": metric.dimension,
                "value": metric.value,
                "status": metric.status,
                "tool": metric.tool,
                "version": metric.version,
                "raw": metric.raw,
                "reason": metric.reason,
            }
            for metric in score.metrics.all()
        },
        "missing": score.missing,
        "flags": score.flags,
        "evidence": score.evidence,
    }
