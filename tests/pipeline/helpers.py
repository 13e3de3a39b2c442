"""Building blocks of the pipeline proofs: submit a synthetic archive, count what was stored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from leaderboard import services
from leaderboard.models import Clip, Submission, Suite
from scoring.models import ClipAttempt, ClipScore, SubmissionScore
from tests.factories import model_entry, user_with_role


def import_synthetic_suite(folder: Path) -> Suite:
    return services.suite_import(path=folder / "suite").suite


def submit_archive(suite: Suite, archive: bytes | Path, *, name: str = "Pipeline Model") -> Submission:
    """Upload an archive as a researcher would (its validation is queued on the test's broker)."""
    import io

    owner = user_with_role(name.lower().replace(" ", "-"))
    payload = archive.read_bytes() if isinstance(archive, Path) else archive
    return services.submission_create(
        owner=owner, model=model_entry(name, owner=owner), suite=suite, archive=io.BytesIO(payload),
        archive_name="clips.zip", is_public=True, enforce_quota=False,
    )


def scored_count(submission: Submission) -> int:
    return Clip.objects.filter(submission=submission, status=Clip.Status.SCORED).count()


def is_scored(submission: Submission) -> bool:
    return Submission.objects.filter(pk=submission.pk, state=Submission.State.SCORED).exists()


def assert_every_clip_scored_exactly_once(submission: Submission, clips: int) -> None:
    """Every clip scored, one stored result each, one successful engine run each, one aggregate."""
    statuses = Counter(Clip.objects.filter(submission=submission).values_list("status", flat=True))
    assert statuses == {Clip.Status.SCORED: clips}, (statuses, attempts_report(submission))
    per_clip = Counter(ClipScore.objects.filter(clip__submission=submission).values_list("clip_id", flat=True))
    assert len(per_clip) == clips and set(per_clip.values()) == {1}, per_clip
    stored_by = Counter(
        ClipAttempt.objects.filter(clip__submission=submission, outcome=ClipAttempt.Outcome.SCORED).values_list(
            "clip_id", flat=True
        )
    )
    assert len(stored_by) == clips and set(stored_by.values()) == {1}, stored_by
    assert not ClipAttempt.objects.filter(clip__submission=submission, outcome=ClipAttempt.Outcome.RUNNING).exists()
    aggregate = SubmissionScore.objects.get(submission=submission)
    assert (aggregate.prompts_total, aggregate.prompts_scored, aggregate.failed_prompts) == (clips, clips, [])


def attempts_report(submission: Submission) -> str:
    """Every try of every unsettled or failed clip, for assertion messages."""
    lines = []
    for clip in Clip.objects.filter(submission=submission).exclude(status=Clip.Status.SCORED):
        lines.append(f"clip {clip.pk} {clip.status}: {clip.status_reason}")
        for attempt in ClipAttempt.objects.filter(clip=clip).order_by("started_at"):
            lines.append(f"  {attempt.started_at:%H:%M:%S.%f} {attempt.worker} {attempt.outcome}: {attempt.reason}")
    return "\n".join(lines)
