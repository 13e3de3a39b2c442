"""Submissions on PostgreSQL: validation member by member, failed generations, guarded states, scoring, ranking."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.db import connection

from config.exceptions import ApplicationError
from leaderboard import selectors, services
from leaderboard.models import Clip, Submission
from scoring import engine
from scoring import services as scoring_services
from scoring.models import ClipScore, MetricScore, SubmissionScore
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, rezip, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def suite(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return import_demo_suite(demo_dir)


@pytest.fixture
def researcher(db: None):  # type: ignore[no-untyped-def]
    return user_with_role("rita")


def submit(suite, researcher, payload: bytes, name: str = "clips.zip", model_name: str = "Model A") -> Submission:  # type: ignore[no-untyped-def]
    model = model_entry(model_name, owner=researcher)
    return services.submission_create(
        owner=researcher, model=model, suite=suite, archive=io.BytesIO(payload), archive_name=name
    )


def reference_model(demo_dir: Path) -> dict:
    """The demo model with no missing clips (the generator's best model)."""
    return next(m for m in demo_models(demo_dir) if not m["defects"].get("missing"))


def test_upload_is_stored_under_a_path_the_platform_chooses(suite, researcher, demo_dir: Path, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    payload = demo_archive(demo_dir, reference_model(demo_dir)["slug"]).read_bytes()

    submission = submit(suite, researcher, payload, name="../../etc/passwd.zip")

    stored = Path(submission.archive.path)
    assert stored.is_relative_to(media_root / "submissions") and stored.read_bytes() == payload
    assert "passwd" not in str(stored) and submission.archive_name == "passwd.zip"
    assert submission.state == Submission.State.UPLOADED


@pytest.mark.parametrize("name", ["clips.rar", "clips", "clips.zip.exe"])
def test_upload_with_an_unknown_archive_type_is_refused_and_leaves_nothing(
    suite, researcher, media_root: Path, name: str  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(ApplicationError, match="not a .zip or .tar.gz"):
        submit(suite, researcher, b"PK\x03\x04", name=name)
    assert Submission.objects.count() == 0
    assert not any((media_root / "submissions").glob("*/*")) if (media_root / "submissions").exists() else True


def test_empty_upload_is_refused(suite, researcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError, match="empty"):
        submit(suite, researcher, b"")
    assert Submission.objects.count() == 0


def test_validation_makes_one_clip_per_prompt_and_reports_refused_members(suite, researcher, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    source = demo_archive(demo_dir, reference_model(demo_dir)["slug"])
    prompt_ids = list(suite.prompts.order_by("position").values_list("prompt_id", flat=True))
    dropped = prompt_ids[0]
    payload = rezip(
        source,
        drop={f"{dropped}.mp4"},
        add={"../evil.mp4": b"x", "not-a-prompt.mp4": b"y"},
    )
    submission = submit(suite, researcher, payload)

    to_score = services.submission_validate(submission_id=submission.pk)

    submission.refresh_from_db()
    assert submission.state == Submission.State.QUEUED
    clips = {clip.prompt.prompt_id: clip for clip in submission.clips.select_related("prompt")}
    assert set(clips) == set(prompt_ids)
    assert clips[dropped].status == Clip.Status.MISSING and "failed generation" in clips[dropped].status_reason
    assert sorted(to_score) == sorted(c.pk for c in clips.values() if c.status == Clip.Status.QUEUED)
    assert len(to_score) == len(prompt_ids) - 1
    refused = {item["member_name"]: item["reason"] for item in submission.report["refused"]}
    assert set(refused) == {"../evil.mp4", "not-a-prompt.mp4"}
    clip_dir = services.clips_dir(submission)
    assert sorted(p.name for p in clip_dir.iterdir()) == sorted(f"{pid}.mp4" for pid in prompt_ids if pid != dropped)
    probe = clips[prompt_ids[1]].probe
    assert probe["video_codec"] == "h264" and probe["has_audio"] is True and probe["duration_s"] > 0


def test_a_clip_that_does_not_decode_is_a_failed_generation(suite, researcher, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    source = demo_archive(demo_dir, reference_model(demo_dir)["slug"])
    broken = suite.prompts.order_by("position").first().prompt_id
    submission = submit(suite, researcher, rezip(source, replace={f"{broken}.mp4": b"\x00not a video" * 100}))

    services.submission_validate(submission_id=submission.pk)

    clip = submission.clips.get(prompt__prompt_id=broken)
    assert clip.status == Clip.Status.FAILED
    assert f"{broken}.mp4" in clip.status_reason and "does not decode" in clip.status_reason
    submission.refresh_from_db()
    assert submission.state == Submission.State.QUEUED


def test_an_upload_that_is_not_an_archive_fails_with_the_reason(suite, researcher) -> None:  # type: ignore[no-untyped-def]
    submission = submit(suite, researcher, b"this is plain text, not a zip", name="clips.zip")

    assert services.submission_validate(submission_id=submission.pk) == []

    submission.refresh_from_db()
    assert submission.state == Submission.State.FAILED
    assert "clips.zip" in submission.state_reason
    assert submission.clips.count() == 0


def test_state_transitions_are_guarded(suite, researcher, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    submission = submit(suite, researcher, demo_archive(demo_dir, reference_model(demo_dir)["slug"]).read_bytes())

    assert not services.submission_transition(submission_id=submission.pk, to=Submission.State.SCORED)
    assert services.submission_transition(submission_id=submission.pk, to=Submission.State.VALIDATING)
    # A second actor trying the same move finds it already made.
    assert not services.submission_transition(submission_id=submission.pk, to=Submission.State.VALIDATING)
    submission.refresh_from_db()
    assert submission.state == Submission.State.VALIDATING


@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_for_one_transition_move_it_once(demo_dir: Path, media_root: Path) -> None:
    suite = import_demo_suite(demo_dir)
    researcher = user_with_role("rex")
    submission = submit(suite, researcher, demo_archive(demo_dir, reference_model(demo_dir)["slug"]).read_bytes())
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        results.append(services.submission_transition(submission_id=submission.pk, to=Submission.State.VALIDATING))
        connection.close()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(True) == 1


def test_scoring_stores_one_result_per_clip_and_aggregates_failed_generations_as_zero(
    suite, researcher, demo_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    source = demo_archive(demo_dir, reference_model(demo_dir)["slug"])
    prompt_ids = list(suite.prompts.order_by("position").values_list("prompt_id", flat=True))
    submission = submit(suite, researcher, rezip(source, drop={f"{prompt_ids[0]}.mp4"}))
    clip_ids = services.submission_validate(submission_id=submission.pk)

    for clip_id in clip_ids:
        scoring_services.clip_score(clip_id=clip_id)
        scoring_services.clip_score(clip_id=clip_id)  # a redelivered task: stores nothing twice
    aggregate = scoring_services.submission_finish_if_complete(submission_id=submission.pk)

    assert ClipScore.objects.filter(clip__submission=submission).count() == len(clip_ids)
    assert MetricScore.objects.filter(clip_score__clip__submission=submission).count() > 0
    submission.refresh_from_db()
    assert submission.state == Submission.State.SCORED and submission.scored_at is not None
    assert aggregate is not None and aggregate.engine_version == engine.ENGINE_VERSION
    assert aggregate.failed_prompts == [prompt_ids[0]]
    assert (aggregate.prompts_total, aggregate.prompts_scored) == (len(prompt_ids), len(prompt_ids) - 1)
    clip_overall = list(ClipScore.objects.filter(clip__submission=submission).values_list("overall", flat=True))
    assert aggregate.overall == pytest.approx(sum(clip_overall) / len(prompt_ids), abs=1e-5)
    # A dimension the engine measured on no clip stays unmeasured: the failed generation does not make it 0.
    for dimension, value in aggregate.dimensions.items():
        measured = [s.dimensions[dimension] for s in ClipScore.objects.filter(clip__submission=submission)
                    if s.dimensions[dimension] is not None]
        if measured:
            # clips where it was not measured are left out; the failed generation counts 0
            assert value == pytest.approx(sum(measured) / (len(measured) + 1), abs=1e-5), dimension
        else:
            assert value is None, dimension
    assert set(aggregate.breakdowns) == {"genre", "shot_bucket", "realism", "style", "language"}
    assert sum(group["prompts"] for group in aggregate.breakdowns["genre"].values()) == len(prompt_ids)
    for clip_score in ClipScore.objects.filter(clip__submission=submission):
        assert "boundaries_s" in clip_score.evidence["shots"]
    # Settling again changes nothing.
    assert scoring_services.submission_finish_if_complete(submission_id=submission.pk) is None
    assert SubmissionScore.objects.filter(submission=submission).count() == 1


def test_a_stored_result_is_kept_when_a_racing_worker_stores_the_same_clip(suite, researcher, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    submission = submit(suite, researcher, demo_archive(demo_dir, reference_model(demo_dir)["slug"]).read_bytes())
    clip_id = services.submission_validate(submission_id=submission.pk)[0]
    clip = Clip.objects.select_related("prompt").get(pk=clip_id)
    result = engine.score_clip(Path(clip.file.path), clip.prompt.to_script())

    first = scoring_services.clip_score_store(clip_id=clip_id, result=result)
    second = scoring_services.clip_score_store(clip_id=clip_id, result=result)

    assert first.pk == second.pk
    assert ClipScore.objects.filter(clip_id=clip_id).count() == 1


def test_leaderboard_ranks_by_overall_with_shared_ranks_for_ties(suite, researcher) -> None:  # type: ignore[no-untyped-def]
    overall_by_model = {"Alpha": 0.9, "Beta": 0.7, "Gamma": 0.7, "Delta": 0.5, "Hidden": 0.99}
    for name, overall in overall_by_model.items():
        model = model_entry(name, owner=researcher)
        submission = Submission.objects.create(
            model=model, suite=suite, owner=researcher, archive="x.zip", archive_name="x.zip",
            state=Submission.State.SCORED, is_public=name != "Hidden",
        )
        SubmissionScore.objects.create(
            submission=submission, engine_version=engine.ENGINE_VERSION, overall=overall,
            dimensions={"video": overall, "audio": None}, breakdowns={}, prompts_total=4, prompts_scored=4,
        )

    board = selectors.leaderboard_for_suite(suite=suite)

    assert [(row.rank, row.model.name) for row in board.rows] == [(1, "Alpha"), (2, "Beta"), (2, "Gamma"), (4, "Delta")]
    assert not board.mixes_engine_versions
    by_model = selectors.leaderboard_for_suite(suite=suite, sort="model")
    assert [row.model.name for row in by_model.rows] == ["Alpha", "Beta", "Delta", "Gamma"]
