"""Visibility: private until the owner publishes, curators hide with a reason, owners withdraw; rerun;
every public listing goes through leaderboard.selectors.submissions_public."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leaderboard import selectors, services
from leaderboard.models import Clip, Submission
from scoring import engine
from scoring.models import SubmissionScore
from tests.factories import demo_archive, demo_models

pytestmark = pytest.mark.django_db


def scored(submission: Submission, overall: float = 0.7) -> Submission:
    Submission.objects.filter(pk=submission.pk).update(state=Submission.State.SCORED)
    SubmissionScore.objects.create(
        submission=submission, engine_version=engine.ENGINE_VERSION, overall=overall,
        dimensions={"video": 0.8, "audio": 0.6, "shot": 0.9, "reference": None, "sync": 0.7},
        breakdowns={}, prompts_total=4, prompts_scored=4,
    )
    submission.refresh_from_db()
    return submission


@pytest.fixture
def uploaded(actors, owner_model, suite, demo_dir: Path) -> Submission:  # type: ignore[no-untyped-def]
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()
    response = actors["owner"].api().post(
        "/api/submissions/",
        {"archive": SimpleUploadedFile("clips.zip", payload), "model": owner_model.slug, "suite": suite.name},
    )
    assert response.status_code == 201
    return Submission.objects.get(pk=response.json()["id"])


def public_board(actors) -> str:  # type: ignore[no-untyped-def]
    return actors["public"].browser().get("/").content.decode()


def test_a_submission_is_private_until_its_owner_publishes_it(actors, uploaded: Submission) -> None:  # type: ignore[no-untyped-def]
    submission = scored(uploaded)
    assert not submission.is_public and submission not in selectors.submissions_public()
    assert "Owner Model" not in public_board(actors)  # (the public page is cached: publishing must refresh it)
    assert actors["public"].api().get(f"/api/submissions/{submission.pk}/").status_code == 404

    response = actors["owner"].api().post(f"/api/submissions/{submission.pk}/publish/")

    assert response.status_code == 200 and response.json()["visibility"] == "public"
    assert submission in selectors.submissions_public()
    assert "Owner Model" in public_board(actors)
    assert actors["public"].api().get(f"/api/submissions/{submission.pk}/").status_code == 200
    actors["owner"].api().post(f"/api/submissions/{submission.pk}/unpublish/")
    assert "Owner Model" not in public_board(actors)


def test_a_curator_hides_with_a_reason_the_owner_sees(actors, uploaded: Submission) -> None:  # type: ignore[no-untyped-def]
    submission = scored(uploaded)
    services.submission_publish(submission=submission, user=actors["owner"].user)
    assert "Owner Model" in public_board(actors)
    curator = actors["curator"].api()

    no_reason = curator.post(f"/api/submissions/{submission.pk}/hide/", {"reason": "  "})
    assert no_reason.status_code == 400
    hidden = curator.post(f"/api/submissions/{submission.pk}/hide/", {"reason": "clips copied from another model"})

    assert hidden.status_code == 200 and hidden.json()["visibility"] == "hidden"
    assert submission not in selectors.submissions_public()
    assert "Owner Model" not in public_board(actors)
    assert actors["public"].api().get(f"/api/submissions/{submission.pk}/").status_code == 404
    mine = actors["owner"].api().get(f"/api/submissions/{submission.pk}/").json()
    assert mine["visibility"] == "hidden" and mine["hidden_reason"] == "clips copied from another model"
    assert "clips copied from another model" in actors["owner"].browser().get("/submissions/mine/").content.decode()
    # The owner cannot undo a curator's decision by publishing again.
    actors["owner"].api().post(f"/api/submissions/{submission.pk}/publish/")
    assert submission not in selectors.submissions_public()
    assert curator.post(f"/api/submissions/{submission.pk}/unhide/").json()["visibility"] == "public"
    assert "Owner Model" in public_board(actors)


def test_withdrawing_is_for_good_and_cancels_unfinished_work(actors, uploaded: Submission) -> None:  # type: ignore[no-untyped-def]
    services.submission_publish(submission=uploaded, user=actors["owner"].user)
    services.submission_validate(submission_id=uploaded.pk)  # queued, clips waiting for scoring

    response = actors["owner"].api().post(f"/api/submissions/{uploaded.pk}/withdraw/")

    assert response.status_code == 200
    uploaded.refresh_from_db()
    assert uploaded.state == Submission.State.CANCELLED and uploaded.state_reason == "withdrawn by its owner"
    assert uploaded.withdrawn_at is not None and uploaded not in selectors.submissions_public()
    again = actors["owner"].api().post(f"/api/submissions/{uploaded.pk}/publish/")
    assert again.status_code == 409 and "withdrawn" in again.json()["message"]
    assert actors["owner"].api().post(f"/api/submissions/{uploaded.pk}/withdraw/").status_code == 409


def test_rerun_validates_a_failed_submission_again(actors, uploaded: Submission, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    services.submission_validate(submission_id=uploaded.pk)
    assert Clip.objects.filter(submission=uploaded).exists()
    refused = actors["owner"].api().post(f"/api/submissions/{uploaded.pk}/rerun/")
    assert refused.status_code == 409 and "only a failed submission" in refused.json()["message"]
    services.submission_fail_by_infrastructure(submission_id=uploaded.pk, reason="worker lost")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = actors["owner"].api().post(f"/api/submissions/{uploaded.pk}/rerun/")

    assert response.status_code == 200 and response.json()["state"] == "uploaded"
    assert not Clip.objects.filter(submission=uploaded).exists()
    assert len(callbacks) >= 1  # validation queued again once committed
    uploaded.refresh_from_db()
    assert not uploaded.failed_by_infrastructure and uploaded.state_reason == ""
    assert services.submission_validate(submission_id=uploaded.pk)  # and it validates from the stored archive


def test_the_page_actions_call_the_same_services(actors, uploaded: Submission) -> None:  # type: ignore[no-untyped-def]
    owner = actors["owner"].browser()
    page = owner.get("/submissions/mine/").content.decode()
    assert f'action="/submissions/{uploaded.pk}/publish/"' in page and f'action="/submissions/{uploaded.pk}/withdraw/"' in page

    response = owner.post(f"/submissions/{uploaded.pk}/publish/", {"next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/submissions/mine/"  # no open redirect
    uploaded.refresh_from_db()
    assert uploaded.is_public and uploaded.published_at is not None
    curator = actors["curator"].browser()
    assert f'/submissions/{uploaded.pk}/hide/' in curator.get("/curation/").content.decode()
    curator.post(f"/submissions/{uploaded.pk}/hide/", {"reason": "spam"})
    uploaded.refresh_from_db()
    assert uploaded.hidden_reason == "spam" and uploaded.hidden_by == actors["curator"].user


def test_clip_media_of_a_public_submission_is_served_inert(actors, uploaded: Submission) -> None:  # type: ignore[no-untyped-def]
    clip_id = services.submission_validate(submission_id=uploaded.pk)[0]
    scored(uploaded)
    assert actors["public"].browser().get(f"/clips/{clip_id}/media").status_code == 404  # private
    services.submission_publish(submission=uploaded, user=actors["owner"].user)

    response = actors["public"].browser().get(f"/clips/{clip_id}/media")

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="clip-{clip_id}.mp4"'
    assert "sandbox" in response["Content-Security-Policy"]
    services.submission_hide(submission=uploaded, curator=actors["curator"].user, reason="dispute")
    assert actors["public"].browser().get(f"/clips/{clip_id}/media").status_code == 404
