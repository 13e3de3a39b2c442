"""Celery tasks of the scoring app: thin interfaces that take ids and call services.

`scoring.score_clip` runs on the `scoring` queue; everything else here is bookkeeping (its own
queue, so a flood of clips never delays it). Error policy of a clip task:

- transient (database, broker or file system unavailable): retried with exponential backoff and
  jitter, at most MSAV_CLIP_MAX_RETRIES times, then the clip fails with the last error as reason;
- permanent (the clip does not decode, goes over its time or memory limit, or the engine raises):
  the clip is a failed generation with the reason, and the submission carries on;
- the process is killed (hard time limit, out of memory, kill -9): the hard time limit fails the clip
  from the worker's main process (`on_failure`); a lost worker's message is redelivered
  (acks_late + reject_on_worker_lost, or the broker's visibility timeout), and after
  MSAV_CLIP_MAX_ATTEMPTS lost attempts the clip fails with the reason.
"""

from __future__ import annotations

import logging
import random

from amqp.exceptions import ChannelError as AmqpChannelError
from billiard.exceptions import TimeLimitExceeded
from celery import Task, current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as BrokerError

from scoring import services
from scoring.limits import ClipLimitExceeded, ClipMemoryLimitExceeded
from scoring.models import ClipAttempt

logger = logging.getLogger(__name__)

# The database, the broker or the shared media blinked: worth another try later.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, OSError)


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter: 1, 2, 4, ... x MSAV_CLIP_RETRY_BACKOFF_S, capped."""
    ceiling = min(settings.MSAV_CLIP_RETRY_BACKOFF_MAX_S, settings.MSAV_CLIP_RETRY_BACKOFF_S * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


@worker_process_init.connect
def _warm_engine(**_: object) -> None:
    """Import the engine in each pool child before its first clip, so that the first clip's time and
    memory measure the clip, not the imports."""
    import scoring.engine.pipeline  # noqa: F401


class ScoreClipTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):  # type: ignore[no-untyped-def]
        # Runs in the worker's main process when the pool killed the child at the hard time limit:
        # the child could not record anything, so the clip is failed (and its submission settled) here.
        if isinstance(exc, TimeLimitExceeded) and args:
            clip_id, submission_id = args[0], args[1]
            reason = f"over the hard time limit: the process scoring it was killed after {settings.MSAV_CLIP_HARD_TIME_LIMIT_S} s"
            services.clip_attempt_end_for_task(
                clip_id=clip_id, task_id=task_id, outcome=ClipAttempt.Outcome.TIME_LIMIT, reason=reason
            )
            services.clip_fail(clip_id=clip_id, reason=reason)
            services.submission_finish_if_complete(submission_id=submission_id)
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(
    bind=True,
    base=ScoreClipTask,
    name="scoring.score_clip",
    acks_late=True,
    reject_on_worker_lost=True,
    # The watchdog in scoring.limits stops a clip at MSAV_CLIP_SOFT_TIME_LIMIT_S; Celery's soft limit is
    # the backstop a little later, and its hard limit kills the process.
    soft_time_limit=min(settings.MSAV_CLIP_SOFT_TIME_LIMIT_S + 5, settings.MSAV_CLIP_HARD_TIME_LIMIT_S - 0.5),
    time_limit=settings.MSAV_CLIP_HARD_TIME_LIMIT_S,
    max_retries=settings.MSAV_CLIP_MAX_RETRIES,
)
def score_clip(self: Task, clip_id: int, submission_id: int) -> str:
    task_id = self.request.id or ""
    try:
        outcome = services.clip_score(clip_id=clip_id, task_id=task_id)
    except (SoftTimeLimitExceeded, ClipLimitExceeded) as error:
        # Normally handled inside clip_score; this catches a limit that struck outside the engine call.
        kind = ClipAttempt.Outcome.MEMORY_LIMIT if isinstance(error, ClipMemoryLimitExceeded) else ClipAttempt.Outcome.TIME_LIMIT
        reason = getattr(error, "reason", "") or (
            f"over the time limit: scoring took longer than {settings.MSAV_CLIP_SOFT_TIME_LIMIT_S} s"
        )
        services.clip_attempt_end_for_task(clip_id=clip_id, task_id=task_id, outcome=kind, reason=reason)
        services.clip_fail(clip_id=clip_id, reason=reason)
        outcome = services.ClipOutcome(kind, reason)
    except TRANSIENT_ERRORS as error:
        reason = f"{type(error).__name__}: {error}"
        if self.request.retries >= self.max_retries:
            reason = f"gave up after {self.request.retries + 1} tries that hit transient errors; the last: {reason}"
            logger.error("clip %s: %s", clip_id, reason)
            services.clip_attempt_end_for_task(
                clip_id=clip_id, task_id=task_id, outcome=ClipAttempt.Outcome.FAILED, reason=reason
            )
            services.clip_fail(clip_id=clip_id, reason=reason)
            services.submission_finish_if_complete(submission_id=submission_id)
            return ClipAttempt.Outcome.FAILED
        countdown = retry_countdown(self.request.retries)
        logger.warning("clip %s: transient error, retry %d in %.1f s: %s", clip_id, self.request.retries + 1, countdown, reason)
        try:
            services.clip_release_for_retry(clip_id=clip_id, task_id=task_id, reason=f"retried: {reason}")
        except TRANSIENT_ERRORS:
            pass  # the database itself is down: the retry (or the reaper) finds the clip as it is
        raise self.retry(exc=error, countdown=countdown) from None
    except Exception as error:  # a bug or a pathological clip: fail this clip with the reason, not the submission
        logger.exception("scoring clip %s failed", clip_id)
        reason = f"scoring error: {type(error).__name__}: {error}"
        services.clip_attempt_end_for_task(
            clip_id=clip_id, task_id=task_id, outcome=ClipAttempt.Outcome.FAILED, reason=reason
        )
        services.clip_fail(clip_id=clip_id, reason=reason)
        outcome = services.ClipOutcome(ClipAttempt.Outcome.FAILED, reason)
    services.submission_finish_if_complete(submission_id=submission_id)
    return outcome.outcome


def scoring_queue_backlog() -> int | None:
    """How many messages wait in the broker's scoring queue (None when the broker cannot say)."""
    queue = settings.CELERY_TASK_ROUTES["scoring.score_clip"]["queue"]
    try:
        with current_app.connection_for_read() as connection, connection.channel() as channel:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except (ChannelError, AmqpChannelError):  # no such queue: nothing waits (e.g. a broker restarted empty)
        return 0
    except Exception as error:  # noqa: BLE001 - a broker that cannot be reached or cannot count: unknown
        logger.info("reaper: the scoring queue's length is unknown (%s: %s)", type(error).__name__, error)
        return None


@shared_task(name="scoring.reap_stalled", acks_late=True)
def reap_stalled() -> None:
    from leaderboard.models import Clip
    from leaderboard.tasks import validate_submission

    reaped = services.pipeline_reap_stalled(now=timezone.now(), scoring_backlog=scoring_queue_backlog())
    for submission_id in reaped.submissions_to_validate:
        validate_submission.delay(submission_id)
    for clip in Clip.objects.filter(pk__in=reaped.clips_to_score).only("pk", "submission_id"):
        score_clip.delay(clip.pk, clip.submission_id)
    if reaped.clips_to_score or reaped.submissions_to_validate or reaped.clips_failed:
        logger.warning(
            "reaper: re-queued %d stalled clips and %d uploads, failed %d clips after their last attempt",
            len(reaped.clips_to_score),
            len(reaped.submissions_to_validate),
            len(reaped.clips_failed),
        )

