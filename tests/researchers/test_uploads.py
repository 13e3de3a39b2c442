"""Resumable chunked uploads: Content-Range chunks at the offset, limits enforced while receiving,
a dropped connection at 90% resumes where it broke, and the bytes end where users cannot choose."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leaderboard import services
from leaderboard.models import Submission, UploadSession
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, user_with_role
from tests.researchers.uploads import send_truncated_chunk, wait_for_offset


def start_upload(api: Client, model, suite, payload: bytes, filename: str = "clips.zip", **extra) -> dict:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/uploads/",
        {"filename": filename, "total_size": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
         "model": model.name, "suite": suite.name, **extra},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def patch(api: Client, upload_id: str, data: bytes, start: int, total: int, **headers):  # type: ignore[no-untyped-def]
    return api.patch(
        f"/api/uploads/{upload_id}/", data, content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {start}-{start + len(data) - 1}/{total}", **headers,
    )


@pytest.fixture
def payload(demo_dir: Path) -> bytes:
    return demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()


@pytest.mark.django_db
def test_chunks_at_the_offset_become_a_submission(actors, owner_model, suite, payload: bytes, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    api = actors["owner"].api()
    upload = start_upload(api, owner_model, suite, payload, filename="../../../etc/evil.zip", publish=True)
    assert upload["offset"] == 0 and upload["state"] == "open"
    third = len(payload) // 3

    first = patch(api, upload["id"], payload[:third], 0, len(payload))
    assert first.status_code == 200 and first["Upload-Offset"] == str(third)
    head = api.head(f"/api/uploads/{upload['id']}/")
    assert head.status_code == 200 and head["Upload-Offset"] == str(third) and head["Upload-Length"] == str(len(payload))
    early = api.post(f"/api/uploads/{upload['id']}/complete/")
    assert early.status_code == 409 and early.json()["extra"]["offset"] == third
    assert patch(api, upload["id"], payload[third:], third, len(payload)).status_code == 200

    done = api.post(f"/api/uploads/{upload['id']}/complete/")

    assert done.status_code == 201
    submission = Submission.objects.get(pk=done.json()["id"])
    stored = Path(submission.archive.path)
    assert stored.read_bytes() == payload and stored.is_relative_to(media_root / "submissions")
    assert submission.archive_name == "evil.zip" and "etc" not in str(stored) and submission.is_public
    assert not (media_root / "uploads" / upload["id"].replace("-", "")).exists()  # chunks cleaned up
    again = api.post(f"/api/uploads/{upload['id']}/complete/")
    assert again.status_code == 201 and again.json()["id"] == submission.pk  # a retried complete is harmless
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_chunk_errors_say_where_to_resume(actors, owner_model, suite, payload: bytes, settings) -> None:  # type: ignore[no-untyped-def]
    api = actors["owner"].api()
    upload = start_upload(api, owner_model, suite, payload)
    total = len(payload)
    assert patch(api, upload["id"], payload[:100], 0, total).status_code == 200

    skipped = patch(api, upload["id"], payload[200:300], 200, total)
    assert skipped.status_code == 409 and skipped.json()["extra"]["offset"] == 100
    assert "send from byte 100" in skipped.json()["message"]
    replayed = patch(api, upload["id"], payload[:100], 0, total)  # a chunk sent twice is not appended twice
    assert replayed.status_code == 409
    wrong_total = patch(api, upload["id"], payload[100:200], 100, total + 1)
    assert wrong_total.status_code == 400 and "total_size" in wrong_total.json()["message"]
    no_range = api.patch(f"/api/uploads/{upload['id']}/", b"x", content_type="application/octet-stream")
    assert no_range.status_code == 400 and "Content-Range" in no_range.json()["message"]
    past_end = patch(api, upload["id"], payload[100:200], total - 50, total)
    assert past_end.status_code == 416
    settings.MSAV_UPLOAD_CHUNK_MAX_BYTES = 1000
    too_big = patch(api, upload["id"], payload[100:1200], 100, total)
    assert too_big.status_code == 413 and too_big.json()["extra"]["limit_bytes"] == 1000
    assert UploadSession.objects.get().received == 100


@pytest.mark.django_db
def test_sizes_are_refused_before_the_bytes_arrive(actors, owner_model, suite, payload: bytes, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES = len(payload) - 1
    api = actors["owner"].api()
    opened = api.post(
        "/api/uploads/",
        {"filename": "a.zip", "total_size": len(payload), "sha256": "0" * 64, "model": owner_model.slug, "suite": suite.name},
        content_type="application/json",
    )
    assert opened.status_code == 413 and "larger than the limit" in opened.json()["message"]
    # The one-request upload is cut off by the upload handler while the body streams in.
    whole = api.post(
        "/api/submissions/",
        {"archive": SimpleUploadedFile("a.zip", payload), "model": owner_model.slug, "suite": suite.name},
    )
    assert whole.status_code == 413 and Submission.objects.count() == 0
    for bad_name in ("a.rar", "a.exe"):
        refused = api.post(
            "/api/uploads/",
            {"filename": bad_name, "total_size": 10, "sha256": "0" * 64, "model": owner_model.slug, "suite": suite.name},
            content_type="application/json",
        )
        assert refused.status_code == 400 and "not a .zip or .tar.gz" in refused.json()["message"]


@pytest.mark.django_db
def test_bytes_that_do_not_match_the_declared_sha256_are_discarded(actors, owner_model, suite, payload: bytes, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    api = actors["owner"].api()
    upload = start_upload(api, owner_model, suite, payload)
    tampered = bytes([payload[0] ^ 1]) + payload[1:]
    assert patch(api, upload["id"], tampered, 0, len(payload)).status_code == 200

    response = api.post(f"/api/uploads/{upload['id']}/complete/")

    assert response.status_code == 400 and "sha256" in response.json()["message"]
    assert UploadSession.objects.get().state == "aborted" and Submission.objects.count() == 0
    assert not (media_root / "uploads" / upload["id"].replace("-", "")).exists()


@pytest.mark.django_db
def test_an_abandoned_upload_is_deleted(actors, owner_model, suite, payload: bytes, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    api = actors["owner"].api()
    upload = start_upload(api, owner_model, suite, payload)
    patch(api, upload["id"], payload[:10], 0, len(payload))
    assert api.delete(f"/api/uploads/{upload['id']}/").status_code == 204
    assert not (media_root / "uploads" / upload["id"].replace("-", "")).exists()
    assert patch(api, upload["id"], payload[10:20], 10, len(payload)).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_at_90_percent_resumes_from_there(live_server, demo_dir: Path, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    model = model_entry("Resumer", owner=owner)
    _token, key = services.api_token_create(user=owner, name="flaky wifi")
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()
    total = len(payload)
    auth = {"Authorization": f"Token {key}"}
    upload = requests.post(
        f"{live_server.url}/api/uploads/", headers=auth, timeout=30,
        json={"filename": "clips.zip", "total_size": total, "sha256": hashlib.sha256(payload).hexdigest(),
              "model": model.slug, "suite": suite.name},
    ).json()
    half = total // 2
    requests.patch(
        f"{live_server.url}/api/uploads/{upload['id']}/", data=payload[:half], timeout=30,
        headers={**auth, "Content-Type": "application/octet-stream", "Content-Range": f"bytes 0-{half - 1}/{total}"},
    ).raise_for_status()

    ninety = int(total * 0.9)
    send_truncated_chunk(live_server.url, upload["id"], key, payload[half:], half, total, sent=ninety - half)

    # The bytes that arrived before the drop are kept: the client resumes at 90%, not at 0 or 50%.
    assert wait_for_offset(live_server.url, upload["id"], key, ninety) == ninety
    requests.patch(
        f"{live_server.url}/api/uploads/{upload['id']}/", data=payload[ninety:], timeout=30,
        headers={**auth, "Content-Type": "application/octet-stream", "Content-Range": f"bytes {ninety}-{total - 1}/{total}"},
    ).raise_for_status()
    done = requests.post(f"{live_server.url}/api/uploads/{upload['id']}/complete/", headers=auth, timeout=30)
    assert done.status_code == 201, done.text
    assert Path(Submission.objects.get(pk=done.json()["id"]).archive.path).read_bytes() == payload


@pytest.mark.django_db
def test_stale_uploads_expire_and_free_their_bytes(actors, owner_model, suite, payload: bytes, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    import datetime
    import io

    from django.core.management import call_command
    from django.utils import timezone

    api = actors["owner"].api()
    stale = start_upload(api, owner_model, suite, payload)
    patch(api, stale["id"], payload[:100], 0, len(payload))
    fresh = start_upload(api, owner_model, suite, payload)
    UploadSession.objects.filter(pk=stale["id"]).update(updated_at=timezone.now() - datetime.timedelta(hours=49))
    out = io.StringIO()

    call_command("expire_uploads", stdout=out)

    assert "expired 1 upload(s)" in out.getvalue()
    assert UploadSession.objects.get(pk=stale["id"]).state == "aborted"
    assert UploadSession.objects.get(pk=fresh["id"]).state == "open"
    assert not (media_root / "uploads" / stale["id"].replace("-", "")).exists()
    assert (media_root / "uploads" / fresh["id"].replace("-", "")).exists()


@pytest.mark.django_db
def test_beat_expires_stale_uploads_every_hour(actors, owner_model, suite, payload: bytes, media_root: Path) -> None:  # type: ignore[no-untyped-def]
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from leaderboard.tasks import expire_uploads

    entry = settings.CELERY_BEAT_SCHEDULE["expire-stale-uploads"]
    assert entry["task"] == expire_uploads.name and entry["schedule"] == 3600.0
    api = actors["owner"].api()
    stale = start_upload(api, owner_model, suite, payload)
    UploadSession.objects.filter(pk=stale["id"]).update(
        updated_at=timezone.now() - datetime.timedelta(hours=settings.MSAV_UPLOAD_EXPIRE_AFTER_H + 1)
    )

    assert expire_uploads() == 1
    assert UploadSession.objects.get(pk=stale["id"]).state == "aborted"
