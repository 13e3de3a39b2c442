"""Engine upgrades: every stored value carries its engine version, a submission scored by an older
engine is re-scored without ever showing half of it, and a ranking says when it mixes versions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leaderboard import selectors as leaderboard_selectors
from leaderboard import services
from leaderboard.models import Clip, Submission
from scoring import engine, selectors
from scoring import services as scoring_services
from scoring.models import ClipScore, MetricScore, Rescore, SubmissionScore
from tests.conftest import redis_flush
from tests.factories import demo_archive, import_demo_suite, model_entry, user_with_role

pytestmark = pytest.mark.django_db
OLD = "0.0.1-test"


@pytest.fixture(autouse=True)
def fast_engine(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_ENGINE_EXPERT_MODELS = False  # the signal-processing path: this is about versions, not metrics


def scored_submission(suite, name: str, demo_dir: Path) -> Submission:  # type: ignore[no-untyped-def]
    owner = user_with_role(name.lower())
    submission = services.submission_create(
        owner=owner, model=model_entry(name, owner=owner), suite=suite,
        archive=io.BytesIO(demo_archive(demo_dir, "aurora-av").read_bytes()), archive_name="a.zip",
        is_public=True, enforce_quota=False,
    )
    for clip_id in services.submission_validate(submission_id=submission.pk):
        scoring_services.clip_score(clip_id=clip_id)
    assert scoring_services.submission_finish_if_complete(submission_id=submission.pk) is not None
    return submission


def as_if_scored_by_an_older_engine(submission: Submission) -> None:
    ClipScore.objects.filter(clip__submission=submission).update(engine_version=OLD)
    SubmissionScore.objects.filter(submission=submission).update(engine_version=OLD, overall=0.123)


def test_rescoring_shows_the_older_aggregate_until_every_clip_is_rescored(demo_dir: Path, media_root: Path) -> None:
    suite = import_demo_suite(demo_dir)
    old = scored_submission(suite, "Oldie", demo_dir)
    current = scored_submission(suite, "Fresh", demo_dir)
    # Every stored value carries the engine version: clip results, aggregates, and each metric's tool version.
    assert set(ClipScore.objects.values_list("engine_version", flat=True)) == {engine.ENGINE_VERSION}
    measured = MetricScore.objects.filter(status=MetricScore.Status.MEASURED).values_list("version", flat=True)
    assert measured and all(engine.ENGINE_VERSION in version for version in measured)
    as_if_scored_by_an_older_engine(old)

    assert scoring_services.submissions_scored_by_older_engine(suite_id=suite.pk) == [old.pk]
    versions = selectors.engine_versions_in_suite(suite_id=suite.pk)
    assert versions == sorted([OLD, engine.ENGINE_VERSION])
    assert OLD in selectors.engine_version_notice(versions=versions)
    assert selectors.engine_version_notice(versions=[engine.ENGINE_VERSION]) == ""

    request = scoring_services.submission_rescore_request(submission_id=old.pk)
    assert request is not None and request.from_engine_version == OLD
    assert len(request.clips_to_score) == old.clips.exclude(status=Clip.Status.MISSING).count()
    half = request.clips_to_score[: len(request.clips_to_score) // 2]
    for clip_id in half:
        scoring_services.clip_score(clip_id=clip_id)

    # Half re-scored: the submission is still scored, still shown with its older aggregate.
    assert scoring_services.submission_finish_if_complete(submission_id=old.pk) is None
    old.refresh_from_db()
    assert old.state == Submission.State.SCORED
    shown = selectors.submission_scores_shown(submission_ids=[old.pk])[old.pk]
    assert (shown.engine_version, shown.overall) == (OLD, 0.123)
    assert not SubmissionScore.objects.filter(submission=old, engine_version=engine.ENGINE_VERSION).exists()
    progress = selectors.submission_progress(submission=old)
    assert progress["rescore"]["from_engine_version"] == OLD and progress["scores"]["engine_version"] == OLD
    assert progress["rescore"]["clips_done"] == len(half)

    for clip_id in request.clips_to_score[len(half):]:
        scoring_services.clip_score(clip_id=clip_id)
    aggregate = scoring_services.submission_finish_if_complete(submission_id=old.pk)

    assert aggregate is not None and aggregate.engine_version == engine.ENGINE_VERSION
    assert set(SubmissionScore.objects.filter(submission=old).values_list("engine_version", flat=True)) == {
        OLD, engine.ENGINE_VERSION,
    }  # the old results are kept
    assert Rescore.objects.get(submission=old).finished_at is not None
    assert selectors.engine_versions_in_suite(suite_id=suite.pk) == [engine.ENGINE_VERSION]
    assert aggregate.overall == pytest.approx(SubmissionScore.objects.get(submission=current).overall)
    board = leaderboard_selectors.leaderboard_for_suite(suite=suite)
    assert {row.engine_version for row in board.rows} == {engine.ENGINE_VERSION}
    assert scoring_services.submission_rescore_request(submission_id=old.pk) is None  # nothing left to do


def test_the_command_dry_run_lists_and_refuses_without_a_scope(demo_dir: Path, media_root: Path) -> None:
    suite = import_demo_suite(demo_dir)
    old = scored_submission(suite, "Oldie", demo_dir)
    as_if_scored_by_an_older_engine(old)

    with pytest.raises(CommandError, match="--all-older, --suite NAME or --submission ID"):
        call_command("rescore_submissions")
    with pytest.raises(CommandError, match='no suite named "nope"'):
        call_command("rescore_submissions", "--suite", "nope")
    out = io.StringIO()
    call_command("rescore_submissions", "--suite", suite.name, "--dry-run", stdout=out)

    assert f"engine {engine.ENGINE_VERSION}: 1 scored submission(s)" in out.getvalue()
    assert f"#{old.pk}" in out.getvalue() and OLD in out.getvalue()
    assert not Rescore.objects.exists()


@pytest.mark.pipeline
def test_the_command_queues_the_clips_of_older_submissions(demo_dir: Path, media_root: Path, settings) -> None:  # type: ignore[no-untyped-def]
    import redis

    suite = import_demo_suite(demo_dir)
    old = scored_submission(suite, "Oldie", demo_dir)
    as_if_scored_by_an_older_engine(old)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    redis_flush(settings.CELERY_BROKER_URL)
    try:
        out = io.StringIO()
        call_command("rescore_submissions", "--all-older", stdout=out)
        queued = broker.llen("scoring")
    finally:
        redis_flush(settings.CELERY_BROKER_URL)

    clips = old.clips.exclude(status=Clip.Status.MISSING).count()
    assert queued == clips
    assert f"#{old.pk}: {clips} clips queued (engine {OLD} -> {engine.ENGINE_VERSION})" in out.getvalue()
    assert set(old.clips.values_list("status", flat=True)) <= {Clip.Status.QUEUED, Clip.Status.MISSING}
    old.refresh_from_db()
    assert old.state == Submission.State.SCORED
