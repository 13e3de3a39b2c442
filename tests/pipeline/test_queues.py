"""Scoring and bookkeeping have their own queues: a flood of clips never delays the bookkeeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from leaderboard.models import Clip, Submission
from tests.conftest import wait_for
from tests.pipeline.conftest import wait_ready
from tests.pipeline.helpers import import_synthetic_suite, submit_archive

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


def test_a_flood_of_clips_does_not_delay_bookkeeping(pipeline_workers: Callable, synthetic_dir: Callable[[int], Path]) -> None:
    flood_folder, late_folder = synthetic_dir(20), synthetic_dir(2)
    flood_suite, late_suite = import_synthetic_suite(flood_folder), import_synthetic_suite(late_folder)
    # The deployment the README describes: scoring workers and a bookkeeping worker, one queue each.
    scoring = pipeline_workers(queues="scoring", concurrency=1)
    bookkeeping = pipeline_workers(queues="bookkeeping", concurrency=1)
    for worker in (scoring, bookkeeping):
        wait_ready(worker)
    flood = submit_archive(flood_suite, flood_folder / "aurora-av.zip", name="Flood Model")
    wait_for(
        lambda: Clip.objects.filter(submission=flood).count() == 20, 60, "the flood's 20 clips queued", [bookkeeping]
    )

    started = time.monotonic()
    late = submit_archive(late_suite, late_folder / "aurora-av.zip", name="Late Model")
    wait_for(
        lambda: Submission.objects.filter(pk=late.pk, state__in=(Submission.State.QUEUED, Submission.State.SCORING,
                                                                  Submission.State.SCORED)).exists(),
        60, "the late upload to be validated", [bookkeeping],
    )
    latency = time.monotonic() - started
    flood_pending = Clip.objects.filter(submission=flood).exclude(status__in=Clip.TERMINAL).count()

    # The late upload was validated (a bookkeeping task) while most of the flood still waited to be scored.
    assert flood_pending >= 10, (flood_pending, latency)
    assert latency < 15, latency
    late_clips = list(Clip.objects.filter(submission=late).values_list("status", flat=True))
    assert len(late_clips) == 2
