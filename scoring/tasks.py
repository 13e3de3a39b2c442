"""Celery tasks of the scoring app: thin interfaces that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from scoring import services

logger = logging.getLogger(__name__)


@shared_task(
    name="scoring.score_clip",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.MSAV_CLIP_SOFT_TIME_LIMIT_S,
    time_limit=settings.MSAV_CLIP_TIME_LIMIT_S,
    autoretry_for=(OperationalError, InterfaceError),  # the database blinked: transient
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
)
def score_clip(clip_id: int, submission_id: int) -> None:
    try:
        services.clip_score(clip_id=clip_id)
    except SoftTimeLimitExceeded:
        services.clip_fail(
            clip_id=clip_id, reason=f"scoring took longer than {settings.MSAV_CLIP_SOFT_TIME_LIMIT_S} s"
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:  # a bug or a pathological clip: fail this clip with the reason, not the submission
        logger.exception("scoring clip %s failed", clip_id)
        services.clip_fail(clip_id=clip_id, reason=f"scoring error: {type(error).__name__}: {error}")
    services.submission_finish_if_complete(submission_id=submission_id)


@shared_task(name="scoring.reap_stalled", acks_late=True)
def reap_stalled() -> None:
    from leaderboard.models import Clip
    from leaderboard.tasks import validate_submission

    reaped = services.pipeline_reap_stalled(now=timezone.now())
    for submission_id in reaped.submissions_to_validate:
        validate_submission.delay(submission_id)
    for clip in Clip.objects.filter(pk__in=reaped.clips_to_score).only("pk", "submission_id"):
        score_clip.delay(clip.pk, clip.submission_id)
    if reaped.clips_to_score or reaped.submissions_to_validate:
        logger.warning(
            "re-queued %d stalled clips and %d uploads",
            len(reaped.clips_to_score),
            len(reaped.submissions_to_validate),
        )
