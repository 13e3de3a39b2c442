"""The clip task's error policy, in-process: the hard time limit, backoff bounds, lost attempts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from billiard.exceptions import TimeLimitExceeded

from leaderboard import services
from leaderboard.models import Clip, Submission
from scoring import services as scoring_services
from scoring.models import ClipAttempt, ClipScore
from scoring.tasks import retry_countdown, score_clip
from tests.factories import demo_archive, import_demo_suite, model_entry, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def validated(demo_dir: Path, media_root: Path, settings) -> tuple[Submission, list[int]]:  # type: ignore[no-untyped-def]
    settings.MSAV_ENGINE_EXPERT_MODELS = False
    owner = user_with_role("rita")
    submission = services.submission_create(
        owner=owner, model=model_entry("Policy Model", owner=owner), suite=import_demo_suite(demo_dir),
        archive=io.BytesIO(demo_archive(demo_dir, "aurora-av").read_bytes()), archive_name="a.zip", enforce_quota=False,
    )
    return submission, services.submission_validate(submission_id=submission.pk)


def test_the_hard_time_limit_fails_the_clip_from_the_main_process_and_settles_the_submission(validated, settings) -> None:  # type: ignore[no-untyped-def]
    submission, clip_ids = validated
    for clip_id in clip_ids[1:]:
        scoring_services.clip_score(clip_id=clip_id)
    killed = clip_ids[0]
    # The pool child started this clip, then was killed: its attempt is still marked running.
    assert scoring_services.clip_claim(clip_id=killed) == 1
    ClipAttempt.objects.create(clip_id=killed, engine_version="x", task_id="task-1", worker="child")

    score_clip.on_failure(TimeLimitExceeded(660), "task-1", (killed, submission.pk), {}, None)

    clip = Clip.objects.get(pk=killed)
    assert clip.status == Clip.Status.FAILED
    assert clip.status_reason == f"over the hard time limit: the process scoring it was killed after {settings.MSAV_CLIP_HARD_TIME_LIMIT_S} s"
    assert ClipAttempt.objects.get(task_id="task-1").outcome == ClipAttempt.Outcome.TIME_LIMIT
    submission.refresh_from_db()
    assert submission.state == Submission.State.SCORED
    assert submission.scores.get().failed_prompts == [clip.prompt.prompt_id]


def test_a_clip_whose_worker_was_lost_too_often_fails_with_the_reason(validated, settings) -> None:  # type: ignore[no-untyped-def]
    _submission, clip_ids = validated
    Clip.objects.filter(pk=clip_ids[0]).update(status=Clip.Status.SCORING, attempts=settings.MSAV_CLIP_MAX_ATTEMPTS)
    ClipAttempt.objects.create(clip_id=clip_ids[0], engine_version="x", task_id="lost", worker="gone")

    outcome = scoring_services.clip_score(clip_id=clip_ids[0])

    assert outcome.outcome == ClipAttempt.Outcome.FAILED
    clip = Clip.objects.get(pk=clip_ids[0])
    assert clip.status == Clip.Status.FAILED and clip.status_reason.startswith(
        f"gave up after {settings.MSAV_CLIP_MAX_ATTEMPTS} attempts that did not finish"
    )
    assert ClipAttempt.objects.get(task_id="lost").outcome == ClipAttempt.Outcome.LOST
    assert not ClipScore.objects.filter(clip_id=clip_ids[0]).exists()


def test_a_redelivered_clip_is_scored_once_and_its_lost_try_is_logged(validated) -> None:  # type: ignore[no-untyped-def]
    _submission, clip_ids = validated
    first = scoring_services.clip_score(clip_id=clip_ids[0])
    again = scoring_services.clip_score(clip_id=clip_ids[0])

    assert (first.outcome, again.outcome) == (ClipAttempt.Outcome.SCORED, "settled")
    assert ClipScore.objects.filter(clip_id=clip_ids[0]).count() == 1
    assert list(ClipAttempt.objects.filter(clip_id=clip_ids[0]).values_list("outcome", flat=True)) == ["scored"]


def test_retry_backoff_doubles_with_jitter_up_to_the_cap(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_CLIP_RETRY_BACKOFF_S = 2.0
    settings.MSAV_CLIP_RETRY_BACKOFF_MAX_S = 30.0
    for retries, ceiling in [(0, 2.0), (1, 4.0), (2, 8.0), (3, 16.0), (4, 30.0), (9, 30.0)]:
        delays = [retry_countdown(retries) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), (retries, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 10  # jittered, so retries of many clips spread out
