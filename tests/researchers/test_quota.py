"""The daily quota per user per suite, counted atomically on real PostgreSQL: parallel uploads at the edge
cannot both pass; submissions failed by the platform do not count."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from config.exceptions import ApplicationError
from leaderboard import services
from leaderboard.models import Submission
from tests.factories import demo_archive, demo_models, import_demo_suite

PAYLOAD = b"PK\x05\x06" + bytes(18)  # an empty zip: enough to be stored; validation is not under test here


def post_archive(actor, model, suite):  # type: ignore[no-untyped-def]
    return actor.api().post(
        "/api/submissions/", {"archive": SimpleUploadedFile("a.zip", PAYLOAD), "model": model.slug, "suite": suite.name}
    )


@pytest.mark.django_db
def test_the_quota_refuses_with_429_and_says_when_it_resets(actors, owner_model, suite, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_SUBMISSIONS_PER_DAY = 2
    owner = actors["owner"]
    assert post_archive(owner, owner_model, suite).status_code == 201
    assert post_archive(owner, owner_model, suite).status_code == 201

    refused = post_archive(owner, owner_model, suite)

    assert refused.status_code == 429
    body = refused.json()
    assert "the limit is 2 per day" in body["message"] and body["extra"]["used"] == 2 and "resets_at" in body["extra"]
    assert Submission.objects.count() == 2
    assert len(list((Path(settings.MEDIA_ROOT) / "submissions").iterdir())) == 2  # the refused bytes were not kept
    quota = owner.api().get("/api/submissions/quota/", {"suite": suite.name}).json()
    assert quota["used"] == 2 and quota["limit"] == 2
    # The same limit holds for the resumable upload, before a byte is sent.
    opened = owner.api().post(
        "/api/uploads/",
        {"filename": "b.zip", "total_size": 22, "sha256": "0" * 64, "model": owner_model.slug, "suite": suite.name},
        content_type="application/json",
    )
    assert opened.status_code == 429


@pytest.mark.django_db
def test_failures_of_the_platform_do_not_count(actors, owner_model, suite, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_SUBMISSIONS_PER_DAY = 1
    owner = actors["owner"]
    first = post_archive(owner, owner_model, suite).json()["id"]
    assert post_archive(owner, owner_model, suite).status_code == 429

    assert services.submission_fail_by_infrastructure(submission_id=first, reason="worker lost 3 times")

    assert post_archive(owner, owner_model, suite).status_code == 201
    # A failure of the archive itself (the researcher's) does count.
    second = Submission.objects.exclude(pk=first).get()
    services.submission_transition(submission_id=second.pk, to=Submission.State.VALIDATING)
    services.submission_transition(submission_id=second.pk, to=Submission.State.FAILED, reason="not an archive")
    assert post_archive(owner, owner_model, suite).status_code == 429


@pytest.mark.django_db
def test_quotas_are_per_user_and_per_suite(actors, owner_model, suite, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_SUBMISSIONS_PER_DAY = 1
    assert post_archive(actors["owner"], owner_model, suite).status_code == 201
    other_model = services.model_entry_create(name="Other Model", owner=actors["other"].user)
    assert post_archive(actors["other"], other_model, suite).status_code == 201
    other_suite = type(suite).objects.create(name="another-suite", version="1", content_hash="0" * 64)
    assert post_archive(actors["owner"], owner_model, other_suite).status_code == 201


def run_in_parallel(count: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    """Run `work()` in `count` threads released together; each result is its return value or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:  # recorded and asserted on by the test
            results[index] = error
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_at_the_quota_edge_cannot_both_pass(demo_dir: Path, media_root: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import model_entry, user_with_role

    settings.MSAV_SUBMISSIONS_PER_DAY = 3
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    model = model_entry("Racer", owner=owner)
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()  # a real archive, a real write
    for _ in range(2):
        services.submission_create(owner=owner, model=model, suite=suite, archive=io.BytesIO(payload), archive_name="a.zip")

    results = run_in_parallel(
        6,
        lambda: services.submission_create(
            owner=owner, model=model, suite=suite, archive=io.BytesIO(payload), archive_name="a.zip"
        ),
    )

    passed = [r for r in results if isinstance(r, Submission)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(passed) == 1 and len(refused) == 5, results
    assert all(error.status_code == 429 for error in refused)
    assert Submission.objects.filter(owner=owner, suite=suite).count() == 3
    # Only the accepted uploads' bytes remain on disk.
    assert len(list((media_root / "submissions").iterdir())) == 3


@pytest.mark.django_db(transaction=True)
def test_parallel_http_uploads_at_the_quota_edge(live_server, demo_dir: Path, media_root: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import model_entry, user_with_role

    settings.MSAV_SUBMISSIONS_PER_DAY = 1
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    model = model_entry("Racer", owner=owner)
    _token, key = services.api_token_create(user=owner, name="race")
    payload = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"]).read_bytes()

    def upload() -> int:
        response = requests.post(
            f"{live_server.url}/api/submissions/",
            headers={"Authorization": f"Token {key}"},
            data={"model": model.slug, "suite": suite.name},
            files={"archive": ("a.zip", payload, "application/zip")},
            timeout=60,
        )
        return response.status_code

    statuses = run_in_parallel(4, upload)

    assert sorted(statuses) == [201, 429, 429, 429], statuses
    assert Submission.objects.filter(owner=owner).count() == 1
