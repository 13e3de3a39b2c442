"""Nothing accepted is lost: an upload made while the broker is down, and stalled work, are queued again."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leaderboard import services
from leaderboard.models import Clip, Submission
from scoring.services import pipeline_reap_stalled
from tests.conftest import REPO_ROOT, worker_env
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def submission(demo_dir: Path, media_root: Path) -> Submission:
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()
    return services.submission_create(
        owner=owner, model=model_entry("Mine", owner=owner), suite=suite, archive=io.BytesIO(payload), archive_name="a.zip"
    )


UPLOAD_WITH_BROKER_DOWN = """
from leaderboard import services
from leaderboard.models import ModelEntry, Suite
with open({archive!r}, "rb") as stream:
    submission = services.submission_create(
        owner=None, model=ModelEntry.objects.get(name="Mine"), suite=Suite.objects.get(),
        archive=stream, archive_name="a.zip",
    )
print(submission.pk)
"""


@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_is_down_is_kept_and_queued_later(demo_dir: Path, media_root: Path) -> None:
    import_demo_suite(demo_dir)
    model_entry("Mine")
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])
    # A real refused connection: the uploading process talks to a port where no broker listens.
    env = worker_env(CELERY_BROKER_URL="redis://127.0.0.1:9/0", MEDIA_ROOT=str(media_root))

    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", UPLOAD_WITH_BROKER_DOWN.format(archive=str(archive))],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert "broker unavailable" in completed.stderr
    submission = Submission.objects.get(pk=int(completed.stdout.strip().splitlines()[-1]))
    assert submission.state == Submission.State.UPLOADED
    assert Path(submission.archive.path).read_bytes() == archive.read_bytes()
    assert pipeline_reap_stalled(now=timezone.now()).submissions_to_validate == []  # not stalled yet
    later = timezone.now() + timedelta(minutes=5)
    assert pipeline_reap_stalled(now=later).submissions_to_validate == [submission.pk]


def test_a_validation_whose_worker_died_is_retried(submission: Submission) -> None:
    assert services.submission_transition(submission_id=submission.pk, to=Submission.State.VALIDATING)

    reaped = pipeline_reap_stalled(now=timezone.now() + timedelta(hours=2))

    assert reaped.submissions_to_validate == [submission.pk]
    submission.refresh_from_db()
    assert submission.state == Submission.State.UPLOADED
    assert services.submission_validate(submission_id=submission.pk)  # and validation runs from the start


def test_stalled_clips_are_requeued_then_failed_after_the_last_attempt(submission: Submission, settings) -> None:  # type: ignore[no-untyped-def]
    clip_ids = services.submission_validate(submission_id=submission.pk)
    Clip.objects.filter(pk=clip_ids[0]).update(status=Clip.Status.SCORING, attempts=1)
    Clip.objects.filter(pk=clip_ids[1]).update(status=Clip.Status.SCORING, attempts=settings.MSAV_CLIP_MAX_ATTEMPTS)

    reaped = pipeline_reap_stalled(now=timezone.now() + timedelta(hours=2))

    assert set(reaped.clips_to_score) == set(clip_ids) - {clip_ids[1]}
    assert Clip.objects.get(pk=clip_ids[0]).status == Clip.Status.QUEUED
    gave_up = Clip.objects.get(pk=clip_ids[1])
    assert gave_up.status == Clip.Status.FAILED and "gave up after" in gave_up.status_reason
    assert pipeline_reap_stalled(now=timezone.now()).clips_to_score == []  # fresh clips are left alone


def test_a_clip_waiting_behind_a_backlog_is_not_queued_again_but_a_lost_one_is(submission: Submission) -> None:
    clip_ids = services.submission_validate(submission_id=submission.pk)
    two_hours_later = timezone.now() + timedelta(hours=2)

    # Messages wait in the scoring queue: a clip queued long ago is waiting its turn, not lost.
    assert pipeline_reap_stalled(now=two_hours_later, scoring_backlog=120).clips_to_score == []
    assert set(Clip.objects.filter(pk__in=clip_ids).values_list("status", flat=True)) == {Clip.Status.QUEUED}
    # ... but a clip stuck while being scored is re-queued whatever the backlog.
    Clip.objects.filter(pk=clip_ids[0]).update(status=Clip.Status.SCORING, attempts=1)
    assert pipeline_reap_stalled(now=two_hours_later, scoring_backlog=120).clips_to_score == [clip_ids[0]]
    # An empty queue (a broker restarted without persistence) or an unknown one: the waiting clips were lost.
    later_still = two_hours_later + timedelta(hours=2)
    assert set(pipeline_reap_stalled(now=later_still, scoring_backlog=0).clips_to_score) == set(clip_ids)
    assert set(pipeline_reap_stalled(now=later_still + timedelta(hours=2)).clips_to_score) == set(clip_ids)


@pytest.mark.redis
def test_the_reaper_reads_the_scoring_queue_backlog_from_the_broker() -> None:
    from celery import current_app

    from scoring.tasks import score_clip, scoring_queue_backlog

    with current_app.connection_for_write() as connection, connection.channel() as channel:
        channel.queue_purge("scoring")
        assert scoring_queue_backlog() == 0  # empty, or not declared yet: nothing waits
        for clip_id in (1, 2, 3):
            score_clip.apply_async((clip_id, 1), connection=connection)
        try:
            assert scoring_queue_backlog() == 3
        finally:
            channel.queue_purge("scoring")
