"""The browser pages through Django's test client: status codes, messages, visibility, safe media."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leaderboard import services
from leaderboard.models import ModelEntry, Submission
from scoring import engine
from scoring.models import SubmissionScore
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def suite(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return import_demo_suite(demo_dir)


def scored_submission(suite, owner, name: str, overall: float, *, public: bool = True) -> Submission:  # type: ignore[no-untyped-def]
    submission = Submission.objects.create(
        model=model_entry(name, owner=owner), suite=suite, owner=owner, archive="x.zip", archive_name="x.zip",
        state=Submission.State.SCORED, is_public=public,
    )
    SubmissionScore.objects.create(
        submission=submission, engine_version=engine.ENGINE_VERSION, overall=overall,
        dimensions={"video": 0.8, "audio": 0.6, "shot": 0.9, "reference": None, "sync": 0.7},
        breakdowns={}, prompts_total=3, prompts_scored=3,
    )
    return submission


def test_home_without_suites_explains_how_to_import(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200 and b"import_suite" in response.content


def test_leaderboard_lists_public_scored_models_in_rank_order(client, suite) -> None:  # type: ignore[no-untyped-def]
    owner = user_with_role("rita")
    scored_submission(suite, owner, "Second", 0.5)
    scored_submission(suite, owner, "First", 0.8)
    scored_submission(suite, owner, "Secret", 0.99, public=False)

    html = client.get("/").content.decode()

    assert html.index("First") < html.index("Second")
    assert "Secret" not in html
    assert "0.800" in html and "—" in html  # a dimension not measured shows as a dash, never 0


def test_leaderboard_sorts_by_a_column_from_the_url(client, suite) -> None:  # type: ignore[no-untyped-def]
    owner = user_with_role("rita")
    scored_submission(suite, owner, "Zed", 0.9)
    scored_submission(suite, owner, "Abe", 0.1)
    url = reverse("leaderboard:suite", args=[suite.name, suite.version])

    html = client.get(url, {"sort": "model"}).content.decode()
    assert html.index("Abe") < html.index("Zed")
    html = client.get(url, {"sort": "nonsense"}).content.decode()  # unknown column: default order, no error
    assert html.index("Zed") < html.index("Abe")


def test_unknown_suite_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/suites/nope/1.0/").status_code == 404


def test_submitting_needs_a_researcher(client, suite) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/submit/").status_code == 302  # to the login page
    client.force_login(user_with_role("anna", role="annotator"))
    assert client.get("/submit/").status_code == 403


def test_upload_with_a_bad_file_type_is_a_400_with_the_reason(client, suite) -> None:  # type: ignore[no-untyped-def]
    researcher = user_with_role("rita")
    model = model_entry("Mine", owner=researcher)
    client.force_login(researcher)

    response = client.post(
        "/submit/",
        {"suite": suite.pk, "model": model.pk, "archive": SimpleUploadedFile("clips.rar", b"Rar!\x1a\x07"), "is_public": "on"},
    )

    assert response.status_code == 400
    assert "not a .zip or .tar.gz" in response.content.decode()
    assert Submission.objects.count() == 0


def test_researcher_cannot_submit_for_someone_elses_model(client, suite, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    other = model_entry("Theirs", owner=user_with_role("owen"))
    client.force_login(user_with_role("rita"))
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])

    response = client.post(
        "/submit/", {"suite": suite.pk, "model": other.pk, "archive": SimpleUploadedFile("a.zip", archive.read_bytes())}
    )

    assert response.status_code == 400 and Submission.objects.count() == 0


def test_upload_redirects_to_the_live_submission_page(client, suite, demo_dir: Path, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    researcher = user_with_role("rita")
    model = model_entry("Mine", owner=researcher)
    client.force_login(researcher)
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/submit/", {"suite": suite.pk, "model": model.pk, "archive": SimpleUploadedFile("mine.zip", archive.read_bytes()), "is_public": "on"}
        )

    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/submissions/{submission.pk}/"
    assert len(callbacks) == 1  # the validation task is enqueued once the row is committed
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"uploaded" in page.content
    progress = client.get(f"/submissions/{submission.pk}/progress.json").json()
    assert progress["state"] == "uploaded" and progress["clips_total"] == 0


def test_register_model_form_refuses_duplicates_with_a_message(client) -> None:  # type: ignore[no-untyped-def]
    researcher = user_with_role("rita")
    model_entry("Taken", owner=researcher)
    client.force_login(researcher)

    response = client.post("/models/new/", {"name": "taken", "paradigm": "joint", "task": "T2AV"})

    assert response.status_code == 400 and "already registered" in response.content.decode()
    assert ModelEntry.objects.count() == 1
    response = client.post("/models/new/", {"name": "Fresh", "paradigm": "joint", "task": "T2AV"})
    assert response.status_code == 302 and ModelEntry.objects.get(name="Fresh").owner == researcher


def test_private_or_unscored_submissions_are_hidden_from_others(client, suite) -> None:  # type: ignore[no-untyped-def]
    owner = user_with_role("rita")
    private = scored_submission(suite, owner, "Private", 0.5, public=False)

    assert client.get(f"/submissions/{private.pk}/").status_code == 404
    assert client.get(f"/submissions/{private.pk}/progress.json").status_code == 404
    client.force_login(owner)
    assert client.get(f"/submissions/{private.pk}/").status_code == 200


def test_clip_media_is_served_inert_under_an_opaque_name(client, suite, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    owner = user_with_role("rita")
    model = model_entry("Mine", owner=owner)
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])
    with open(archive, "rb") as stream:
        submission = services.submission_create(owner=owner, model=model, suite=suite, archive=stream, archive_name="a.zip")
    clip_id = services.submission_validate(submission_id=submission.pk)[0]
    client.force_login(owner)

    response = client.get(f"/clips/{clip_id}/media")

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="clip-{clip_id}.mp4"'
    client.logout()
    assert client.get(f"/clips/{clip_id}/media").status_code == 404  # not public until scored


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").content == b"ok"


def test_a_clips_result_shows_every_metric_with_tool_and_the_evidence(client, suite, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from scoring import services as scoring_services

    owner = user_with_role("rita")
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])
    with open(archive, "rb") as stream:
        submission = services.submission_create(
            owner=owner, model=model_entry("Mine", owner=owner), suite=suite, archive=stream, archive_name="a.zip"
        )
    first, second = services.submission_validate(submission_id=submission.pk)[:2]
    scoring_services.clip_score(clip_id=first)
    client.force_login(owner)

    result = client.get(f"/clips/{first}/result.json").json()
    assert result["engine_version"] == engine.ENGINE_VERSION
    assert set(result["dimensions"]) == {"video", "audio", "shot", "reference", "sync"}
    assert all({"value", "status", "tool", "version"} <= set(m) for m in result["metrics"].values())
    assert "boundaries_s" in result["evidence"]["shots"]
    unscored = client.get(f"/clips/{second}/result.json")
    assert unscored.status_code == 404 and "no score yet" in unscored.json()["message"]
    progress = client.get(f"/submissions/{submission.pk}/progress.json").json()
    assert {c["id"]: c["overall"] for c in progress["clips"]}[first] == pytest.approx(result["overall"])
    client.logout()
    assert client.get(f"/clips/{first}/result.json").status_code == 404  # private until scored and public
