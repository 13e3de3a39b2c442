"""Reads of the leaderboard app: the ranked table of a suite, and a submission's progress."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from leaderboard import public_selectors
from leaderboard.models import Clip, Submission, Suite
from scoring import engine

# The public table lives in leaderboard.public_selectors; these names stay the public path to it.
SORTABLE_COLUMNS = public_selectors.SORT_COLUMNS
LeaderboardRow = public_selectors.LeaderboardRow
Leaderboard = public_selectors.Leaderboard


def submissions_public() -> QuerySet[Submission]:
    """The submissions the public may see: published by their owner, not hidden by a curator, not withdrawn.

    The ONE definition of public visibility: the leaderboard, exports, rankings and annotation
    campaigns all start from it (and add their own state filter, e.g. scored).
    """
    return Submission.objects.filter(is_public=True, hidden_at__isnull=True, withdrawn_at__isnull=True)


def suite_list() -> QuerySet[Suite]:
    return Suite.objects.annotate(
        prompt_count=Count("prompts", distinct=True),
        scored_count=Count("submissions", filter=Q(submissions__state=Submission.State.SCORED), distinct=True),
    ).order_by("name", "-imported_at")


def suite_default() -> Suite | None:
    return Suite.objects.order_by("-imported_at").first()


def leaderboard_for_suite(
    *, suite: Suite, sort: str = "rank", descending: bool = False, query: public_selectors.LeaderboardQuery | None = None
) -> Leaderboard:
    """Each model's latest public scored submission on the suite, ranked (ties share a rank: 1, 2, 2, 4).

    Ranked by overall score unless `query` says otherwise (dimension, filters, breakdown slice); each
    row has its score's bootstrap interval and Rank (UB). The current engine's aggregate is preferred;
    a row still on an older engine keeps its version, and the leaderboard says that it mixes versions.
    """
    if query is None:
        query = public_selectors.LeaderboardQuery(sort=sort if sort in SORTABLE_COLUMNS else "rank", descending=descending)
    return public_selectors.leaderboard(suite=suite, query=query)


def submission_visible_to(*, submission: Submission, user: AbstractBaseUser | AnonymousUser) -> bool:
    if user.is_authenticated and (user.is_staff or submission.owner_id == user.pk):
        return True
    return (
        submission.state == Submission.State.SCORED and submissions_public().filter(pk=submission.pk).exists()
    )


def submission_progress(*, submission: Submission) -> dict:
    """What the submission page shows and polls (the pipeline's progress feed: scoring.selectors)."""
    from scoring.selectors import submission_progress as scoring_submission_progress

    return scoring_submission_progress(submission=submission)


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
