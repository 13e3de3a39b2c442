"""Nothing accepted is lost: an upload made while the broker is down, and stalled work, are queued again."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from leaderboard import services
from leaderboard.models import Clip, Submission
from scoring.services import pipeline_reap_stalled
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


@pytest.fixture
def broker_down():  # type: ignore[no-untyped-def]
    """Point the producer at a port where nothing listens (a real refused connection, not a mock)."""
    saved = celery_app.conf.broker_url, celery_app.conf.broker_connection_retry, celery_app.conf.task_publish_retry
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    celery_app.conf.task_publish_retry = False
    yield
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.conf.broker_url, celery_app.conf.broker_connection_retry, celery_app.conf.task_publish_retry = saved


def test_an_upload_while_the_broker_is_down_is_kept_and_queued_later(
    demo_dir: Path, media_root: Path, broker_down: None, django_capture_on_commit_callbacks  # type: ignore[no-untyped-def]
) -> None:
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submission_create(
            owner=owner, model=model_entry("Mine", owner=owner), suite=suite,
            archive=io.BytesIO(payload), archive_name="a.zip",
        )

    submission.refresh_from_db()
    assert submission.state == Submission.State.UPLOADED and Path(submission.archive.path).read_bytes() == payload
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
