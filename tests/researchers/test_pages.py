"""Researchers' pages through Django's test client: sign-up with a role, the model registry, the upload page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leaderboard.demo_seed import DEMO_ACCOUNTS, demo_accounts_ensure
from leaderboard.models import ModelEntry, Submission
from leaderboard.roles import Role, user_has_role
from tests.factories import demo_archive, demo_models

pytestmark = pytest.mark.django_db


def signup(client: Client, username: str, role: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": f"{username}@example.org", "password1": "a-long-passphrase-42",
         "password2": "a-long-passphrase-42", "role": role},
    )


@pytest.mark.parametrize(("role", "can_submit"), [("researcher", True), ("annotator", False)])
def test_sign_up_with_a_role(role: str, can_submit: bool) -> None:
    client = Client()
    assert "Sign up" in client.get("/accounts/signup/").content.decode()

    response = signup(client, "newcomer", role)

    assert response.status_code == 302 and response["Location"] == "/account/"
    user = get_user_model().objects.get(username="newcomer")
    assert user_has_role(user, Role(role)) and not user.is_staff
    assert client.get("/submit/").status_code == (200 if can_submit else 403)  # logged in straight away
    assert f"role: {role}" in client.get("/account/").content.decode()


def test_nobody_signs_up_as_a_curator() -> None:
    response = signup(Client(), "sneaky", "curator")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not get_user_model().objects.filter(username="sneaky").exists()


def test_the_demo_accounts_have_their_roles() -> None:
    demo_accounts_ensure()
    for account in DEMO_ACCOUNTS:
        user = get_user_model().objects.get(username=account.username)
        assert user_has_role(user, Role(account.role)), account
    assert get_user_model().objects.get(username="admin").is_staff


def test_register_edit_and_view_a_model(actors) -> None:  # type: ignore[no-untyped-def]
    owner = actors["owner"].browser()
    response = owner.post(
        "/models/new/",
        {"name": "Sound Stage 2", "organisation": "Olivia Lab", "url": "https://example.org/ss2", "license": "Apache-2.0",
         "is_open": "on", "paradigm": "video-first+dubbing", "task": "TI2AV", "description": "Two-stage."},
    )
    assert response.status_code == 302 and response["Location"] == "/submit/"
    entry = ModelEntry.objects.get(name="Sound Stage 2")
    assert entry.owner == actors["owner"].user and entry.is_open and entry.paradigm == "video-first+dubbing"

    edited = owner.post(
        f"/models/{entry.slug}/edit/",
        {"organisation": "Olivia Lab (Paris)", "license": "MIT", "paradigm": "modular-agentic", "task": "R2AV",
         "url": "example.org/x", "name": "Renamed"},
    )

    assert edited.status_code == 302
    entry.refresh_from_db()
    assert entry.organisation == "Olivia Lab (Paris)" and entry.task == "R2AV" and entry.url == "https://example.org/x"
    assert entry.name == "Sound Stage 2"  # the name stays: it identifies the model in rankings
    page = owner.get(f"/models/{entry.slug}/").content.decode()
    for text in ("Olivia Lab (Paris)", "MIT", "modular / agentic", "reference to audio-video", "closed"):
        assert text in page
    assert "Edit" in page
    reserved = owner.post("/models/new/", {"name": "New", "paradigm": "joint", "task": "T2AV"})
    assert reserved.status_code == 400 and "reserved" in reserved.content.decode()


def test_the_upload_page_answers_the_progress_bar_script_in_json(actors, owner_model, suite, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    owner = actors["owner"].browser()
    page = owner.get("/submit/").content.decode()
    assert 'id="dropzone"' in page and 'id="upload-bar"' in page and "js/upload.js" in page
    assert "until you publish it)</label>" in page  # the checkbox's label is a sentence, without a trailing colon
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()

    ok = owner.post(
        "/submit/", {"suite": suite.pk, "model": owner_model.pk, "archive": SimpleUploadedFile("a.zip", payload)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert ok.status_code == 201
    submission = Submission.objects.get()
    assert ok.json() == {"id": submission.pk, "url": f"/submissions/{submission.pk}/"}
    assert not submission.is_public  # the publish box starts unticked

    bad = owner.post(
        "/submit/", {"suite": suite.pk, "model": owner_model.pk, "archive": SimpleUploadedFile("a.rar", b"Rar!\x1a\x07")},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert bad.status_code == 400 and "not a .zip or .tar.gz" in bad.json()["message"]
    assert not bad.json()["message"].startswith("archive: archive")  # the field is named once


def test_the_upload_page_stops_an_oversized_archive_while_receiving(actors, owner_model, suite, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES = 1000
    owner = actors["owner"].browser()

    response = owner.post(
        "/submit/", {"suite": suite.pk, "model": owner_model.pk, "archive": SimpleUploadedFile("a.zip", b"PK" + bytes(200_000))},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )

    assert response.status_code == 413 and "larger than the limit of 1000 bytes" in response.json()["message"]
    assert Submission.objects.count() == 0


def test_the_upload_page_keeps_csrf_protection(actors, owner_model, suite) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(actors["owner"].user)
    response = client.post("/submit/", {"suite": suite.pk, "model": owner_model.pk, "archive": SimpleUploadedFile("a.zip", b"PK")})
    assert response.status_code == 403 and Submission.objects.count() == 0
