"""Nothing is lost, nothing is stored twice: real worker processes, real Redis, real PostgreSQL.

- a worker killed with SIGKILL in the middle of a 20-clip submission: another worker finishes it,
  every clip scored exactly once;
- the broker (a Redis server of the test's own, without persistence) stopped and restarted during
  scoring, losing every queued message: the beat reaper queues the clips again, nothing is lost;
- two workers racing for the same clips: one stored result per clip.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from django.utils import timezone

from leaderboard import services
from leaderboard.models import Clip
from scoring.models import ClipAttempt, ClipScore
from scoring.tasks import score_clip
from tests.conftest import wait_for
from tests.pipeline.conftest import RedisServer, wait_ready
from tests.pipeline.helpers import (
    assert_every_clip_scored_exactly_once,
    import_synthetic_suite,
    is_scored,
    scored_count,
    submit_archive,
)

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]

# A short visibility timeout so that the message a killed worker held comes back within seconds; it
# must exceed the hard time limit, and the limits stay far above a clip's time (about 0.3 s on an idle
# machine) because the machines that run these tests are often busy.
FAST_REDELIVERY = {
    "MSAV_BROKER_VISIBILITY_TIMEOUT_S": "20",
    "MSAV_CLIP_SOFT_TIME_LIMIT_S": "15",
    "MSAV_CLIP_HARD_TIME_LIMIT_S": "18",
}


def test_a_worker_killed_mid_submission_loses_nothing_and_scores_each_clip_once(
    pipeline_workers: Callable, synthetic_dir: Callable[[int], Path]
) -> None:
    folder = synthetic_dir(20)
    suite = import_synthetic_suite(folder)
    first = pipeline_workers(concurrency=1, **FAST_REDELIVERY)
    submission = submit_archive(suite, folder / "aurora-av.zip")
    wait_for(lambda: scored_count(submission) >= 3, 120, "a few clips scored by the first worker", [first])

    first.stop(signal.SIGKILL)  # the whole process group: main process and pool child, no goodbye
    killed_at = timezone.now()
    at_kill = scored_count(submission)
    assert at_kill < 20, "the first worker finished before it could be killed"
    second = pipeline_workers(concurrency=2, **FAST_REDELIVERY)
    wait_for(lambda: is_scored(submission), 180, "the second worker to finish the submission", [second])

    assert_every_clip_scored_exactly_once(submission, 20)
    # The second worker did the rest, including the clip the killed worker was holding.
    after_kill = ClipAttempt.objects.filter(
        clip__submission=submission, outcome=ClipAttempt.Outcome.SCORED, started_at__gt=killed_at
    )
    assert after_kill.count() >= 20 - at_kill - 1


def test_a_broker_restart_during_scoring_loses_nothing(
    pipeline_workers: Callable, beat: Callable, own_redis: RedisServer, synthetic_dir: Callable[[int], Path]
) -> None:
    folder = synthetic_dir(20)
    suite = import_synthetic_suite(folder)
    # Clips queued longer than 4 s are queued again by the reaper, which beat runs every second.
    env = {
        "CELERY_BROKER_URL": own_redis.url,
        "MSAV_REAPER_INTERVAL_S": "1",
        "MSAV_CLIP_STALL_AFTER_S": "4",
        "MSAV_UPLOAD_STALL_AFTER_S": "4",
    }
    worker = pipeline_workers(concurrency=1, **env)
    beat(**env)
    submission = submit_archive(suite, folder / "aurora-av.zip")
    # The upload's own message went to the test's default broker: hand the validation to this one.
    producer = Celery("test-producer", broker=own_redis.url, set_as_current=False)
    producer.send_task("leaderboard.validate_submission", args=[submission.pk], queue="bookkeeping")
    producer.close()
    wait_for(lambda: scored_count(submission) >= 3, 120, "a few clips scored before the broker goes down", [worker])

    own_redis.stop()  # no persistence: every queued clip message is gone
    at_stop = scored_count(submission)
    own_redis.start()

    assert at_stop < 20, "the submission was scored before the broker went down"
    wait_for(lambda: is_scored(submission), 180, "the reaper to re-queue the lost clips and the worker to score them", [worker])
    assert_every_clip_scored_exactly_once(submission, 20)
    assert "Connection to broker lost" in worker.output() or "Cannot connect" in worker.output()


def test_two_workers_racing_for_the_same_clips_store_one_result_each(
    pipeline_workers: Callable, synthetic_dir: Callable[[int], Path]
) -> None:
    folder = synthetic_dir(6)
    suite = import_synthetic_suite(folder)
    submission = submit_archive(suite, folder / "aurora-av.zip")
    # Validate here, then hand every clip to both workers at once (a duplicated or redelivered message).
    clip_ids = services.submission_validate(submission_id=submission.pk)
    workers = [pipeline_workers(queues="scoring", concurrency=1) for _ in range(2)]
    for worker in workers:
        wait_ready(worker)
    for clip_id in clip_ids:
        score_clip.delay(clip_id, submission.pk)
        score_clip.delay(clip_id, submission.pk)

    wait_for(lambda: is_scored(submission), 120, "both workers to finish", workers)

    assert len(clip_ids) == 6
    per_clip = [ClipScore.objects.filter(clip_id=clip_id).count() for clip_id in clip_ids]
    assert per_clip == [1] * 6
    assert set(Clip.objects.filter(submission=submission).values_list("status", flat=True)) == {Clip.Status.SCORED}
    # Both workers ran the engine on the same clip at least once and the unique constraint kept one result.
    duplicates = ClipAttempt.objects.filter(clip__submission=submission, outcome=ClipAttempt.Outcome.DUPLICATE)
    assert duplicates.exists(), list(ClipAttempt.objects.filter(clip__submission=submission).values("clip_id", "worker", "outcome"))
    assert len(set(ClipAttempt.objects.filter(clip__submission=submission).values_list("worker", flat=True))) == 2
