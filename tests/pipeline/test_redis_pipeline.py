"""End to end on the real services: upload -> real Celery worker on Redis -> PostgreSQL -> leaderboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard import selectors, services
from leaderboard.models import Clip, Submission
from scoring.models import ClipScore, SubmissionScore
from tests.conftest import wait_for
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, user_with_role

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


def test_a_worker_process_scores_uploaded_submissions_end_to_end(pipeline_workers, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    suite = import_demo_suite(demo_dir)
    researcher = user_with_role("rita")
    submissions = []
    for entry in demo_models(demo_dir):
        model = model_entry(entry["name"], owner=researcher)
        with open(demo_archive(demo_dir, entry["slug"]), "rb") as stream:
            submissions.append(
                services.submission_create(
                    owner=researcher, model=model, suite=suite, archive=stream, archive_name=f"{entry['slug']}.zip",
                    is_public=True,
                )
            )
    worker = pipeline_workers(concurrency=2)  # the engine's fast path: this is about the pipeline

    wait_for(
        lambda: Submission.objects.filter(pk__in=[s.pk for s in submissions], state=Submission.State.SCORED).count()
        == len(submissions),
        timeout=240,
        message="every submission scored",
        workers=[worker],
    )

    prompt_count = suite.prompts.count()
    for submission in submissions:
        clips = Clip.objects.filter(submission=submission)
        assert clips.count() == prompt_count
        assert not clips.exclude(status__in=Clip.TERMINAL).exists()
        scored = clips.filter(status=Clip.Status.SCORED).count()
        assert ClipScore.objects.filter(clip__submission=submission).count() == scored  # exactly once each
        aggregate = SubmissionScore.objects.get(submission=submission)
        assert aggregate.prompts_total == prompt_count and aggregate.prompts_scored == scored
    board = selectors.leaderboard_for_suite(suite=suite)
    assert {row.model.name for row in board.rows} == {entry["name"] for entry in demo_models(demo_dir)}
    assert [row.rank for row in board.rows] == sorted(row.rank for row in board.rows)
