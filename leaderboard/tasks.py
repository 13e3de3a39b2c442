"""Celery tasks of the leaderboard app: validate an uploaded submission and fan its clips out for scoring."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from leaderboard import services


@shared_task(
    name="leaderboard.validate_submission",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=1800,
)
def validate_submission(submission_id: int) -> None:
    from scoring.services import submission_finish_if_complete
    from scoring.tasks import score_clip

    clip_ids = services.submission_validate(submission_id=submission_id)
    for clip_id in clip_ids:
        score_clip.delay(clip_id, submission_id)
    # A submission whose every prompt is missing or broken has nothing to score: settle it now.
    submission_finish_if_complete(submission_id=submission_id)


@shared_task(name="leaderboard.expire_uploads")
def expire_uploads() -> int:
    """Beat: abort resumable uploads nobody has touched for MSAV_UPLOAD_EXPIRE_AFTER_H and free their bytes."""
    return services.upload_sessions_expire(older_than=datetime.timedelta(hours=settings.MSAV_UPLOAD_EXPIRE_AFTER_H))
