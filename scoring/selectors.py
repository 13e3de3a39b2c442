"""Reads of the scoring app: which aggregate a submission shows, engine versions in a ranking, progress."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from leaderboard.models import Clip, Submission
from scoring import engine
from scoring.models import ClipAttempt, ClipScore, Rescore, SubmissionScore


def submission_scores_shown(*, submission_ids: Iterable[int]) -> dict[int, SubmissionScore]:
    """submission id -> the aggregate to show: the current engine's when complete, else the newest older one.

    A submission being re-scored keeps showing its older aggregate until the new one is complete
    (the new one is written in one transaction once every clip is settled), so a ranking never shows
    a half-re-scored submission.
    """
    shown: dict[int, SubmissionScore] = {}
    for aggregate in SubmissionScore.objects.filter(submission_id__in=list(submission_ids)).order_by("created_at", "pk"):
        current = shown.get(aggregate.submission_id)
        if current is None or current.engine_version != engine.ENGINE_VERSION:
            shown[aggregate.submission_id] = aggregate
    return shown


def engine_versions_in_suite(*, suite_id: int, submissions: QuerySet[Submission] | None = None) -> list[str]:
    """The engine versions of the aggregates a suite's ranking shows, sorted; more than one means mixed.

    `submissions` defaults to the suite's public scored submissions (leaderboard.selectors.submissions_public);
    pass the ranking's own queryset to ask about exactly the rows it shows.
    """
    if submissions is None:
        from leaderboard.selectors import submissions_public

        submissions = submissions_public()
    ids = submissions.filter(suite_id=suite_id, state=Submission.State.SCORED).values_list("pk", flat=True)
    return sorted({aggregate.engine_version for aggregate in submission_scores_shown(submission_ids=ids).values()})


def engine_version_notice(*, versions: list[str]) -> str:
    """The sentence a page shows when a ranking mixes engine versions ('' when it does not)."""
    if len(versions) <= 1:
        return ""
    older = [version for version in versions if version != engine.ENGINE_VERSION]
    return (
        f"This ranking mixes scores of engine versions {', '.join(versions)}: scores of different versions are not "
        f"strictly comparable. Rows scored by {', '.join(older)} are being or will be re-scored with "
        f"engine {engine.ENGINE_VERSION}."
    )


def submission_progress(*, submission: Submission) -> dict:
    """What the submission page shows and polls: state, clips done / total by status, per-clip status,
    attempts and reasons, the failures, the aggregate shown, and a re-scoring in progress."""
    clips = list(submission.clips.select_related("prompt").order_by("prompt__position"))
    version = engine.ENGINE_VERSION
    clip_overall = dict(
        ClipScore.objects.filter(clip__submission=submission, engine_version=version).values_list("clip_id", "overall")
    )
    attempts: dict[int, list[ClipAttempt]] = defaultdict(list)
    for attempt in ClipAttempt.objects.filter(clip__submission=submission).order_by("started_at", "pk"):
        attempts[attempt.clip_id].append(attempt)
    by_status = Counter(clip.status for clip in clips)
    done = sum(by_status[status] for status in Clip.TERMINAL)
    aggregate = submission_scores_shown(submission_ids=[submission.pk]).get(submission.pk)
    # Only a re-scoring to the running engine is in progress (one to a version since replaced never ends).
    rescore = Rescore.objects.filter(submission=submission, finished_at=None, engine_version=version).first()
    rows = []
    for clip in clips:
        tries = attempts.get(clip.pk, [])
        rows.append(
            {
                "id": clip.pk,
                "prompt": clip.prompt.prompt_id,
                "status": clip.status,
                "reason": clip.status_reason,
                "overall": clip_overall.get(clip.pk),
                "attempts": len([a for a in tries if a.outcome != ClipAttempt.Outcome.DUPLICATE]),
                "last_attempt": None
                if not tries
                else {
                    "outcome": tries[-1].outcome,
                    "reason": tries[-1].reason,
                    "started_at": tries[-1].started_at.isoformat(),
                    "finished_at": tries[-1].finished_at.isoformat() if tries[-1].finished_at else None,
                },
            }
        )
    return {
        "id": submission.pk,
        "state": submission.state,
        "state_reason": submission.state_reason,
        "clips_total": len(clips),
        "clips_done": done,
        "percent": round(100 * done / len(clips)) if clips else (100 if submission.state == Submission.State.SCORED else 0),
        "clips_by_status": {status: by_status[status] for status in Clip.Status.values},
        "clips": rows,
        "failures": [
            {"prompt": row["prompt"], "status": row["status"], "reason": row["reason"]}
            for row in rows
            if row["status"] in (Clip.Status.FAILED, Clip.Status.MISSING)
        ],
        "refused": submission.report.get("refused", []),
        "ignored": submission.report.get("ignored", []),
        "engine_version": version,
        "rescore": None
        if rescore is None
        else {
            "engine_version": rescore.engine_version,
            "from_engine_version": rescore.from_engine_version,
            "clips_total": rescore.clips_total,
            "clips_done": ClipScore.objects.filter(clip__submission=submission, engine_version=rescore.engine_version).count()
            + sum(1 for clip in clips if clip.status == Clip.Status.FAILED and clip.file),
        },
        "scores": None
        if aggregate is None
        else {
            "engine_version": aggregate.engine_version,
            "overall": aggregate.overall,
            "dimensions": aggregate.dimensions,
            "failed_prompts": aggregate.failed_prompts,
            "prompts_scored": aggregate.prompts_scored,
            "prompts_total": aggregate.prompts_total,
        },
    }
