"""Who may read or change what: the public, the owner, another researcher, an annotator and a curator
against every researcher page and API endpoint. A refused change leaves the data as it was."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from leaderboard import services
from leaderboard.models import ModelEntry, Submission, UploadSession
from tests.researchers.conftest import Actor

pytestmark = pytest.mark.django_db

ACTORS = ["public", "owner", "other", "annotator", "curator"]


@dataclass
class World:
    actors: dict[str, Actor]
    model: ModelEntry  # the owner's model, shown publicly through `public`
    secret_model: ModelEntry  # the owner's model with only a private submission
    public: Submission
    private: Submission
    failed: Submission
    upload: UploadSession


@pytest.fixture
def world(actors, suite, media_root) -> World:  # type: ignore[no-untyped-def]
    owner = actors["owner"].user
    model = services.model_entry_create(name="Shown Model", owner=owner)
    secret = services.model_entry_create(name="Secret Model", owner=owner)

    def submission(entry: ModelEntry, **fields: Any) -> Submission:
        return Submission.objects.create(
            model=entry, suite=suite, owner=owner, archive="submissions/x/archive.zip", archive_name="x.zip", **fields
        )

    upload = services.upload_session_create(
        owner=owner, model=model, suite=suite, filename="a.zip", total_size=10, sha256=hashlib.sha256(b"0123456789").hexdigest()
    )
    return World(
        actors=actors,
        model=model,
        secret_model=secret,
        public=submission(model, state=Submission.State.SCORED, is_public=True),
        private=submission(secret, state=Submission.State.SCORED),
        failed=submission(secret, state=Submission.State.FAILED, state_reason="broken"),
        upload=upload,
    )


def snapshot(world: World) -> list[tuple]:
    rows = Submission.objects.order_by("pk").values_list("pk", "state", "is_public", "hidden_at", "withdrawn_at")
    models = ModelEntry.objects.order_by("pk").values_list("pk", "name", "organisation", "description")
    return [*rows, *models, *UploadSession.objects.order_by("pk").values_list("pk", "state", "received")]


def archive_upload(world: World) -> dict[str, Any]:
    return {"archive": SimpleUploadedFile("a.zip", b"PK\x05\x06" + bytes(18)), "model": world.model.slug, "suite": world.public.suite.name}


# (id, method, path(world), data(world, actor name) or None, kind: "api" or "page", expected per actor)
CASES: list[tuple[str, str, Any, Any, str, dict[str, int]]] = [
    # --- API: reading
    ("api-me", "get", lambda w: "/api/me/", None, "api", dict(public=401, owner=200, other=200, annotator=200, curator=200)),
    ("api-models", "get", lambda w: "/api/models/", None, "api", dict(public=200, owner=200, other=200, annotator=200, curator=200)),
    ("api-model-secret", "get", lambda w: f"/api/models/{w.secret_model.slug}/", None, "api",
     dict(public=404, owner=200, other=404, annotator=404, curator=200)),
    ("api-submissions-own", "get", lambda w: "/api/submissions/", None, "api",
     dict(public=401, owner=200, other=200, annotator=200, curator=200)),
    ("api-submission-private", "get", lambda w: f"/api/submissions/{w.private.pk}/", None, "api",
     dict(public=404, owner=200, other=404, annotator=404, curator=200)),
    ("api-submission-public", "get", lambda w: f"/api/submissions/{w.public.pk}/", None, "api",
     dict(public=200, owner=200, other=200, annotator=200, curator=200)),
    ("api-upload", "get", lambda w: f"/api/uploads/{w.upload.pk}/", None, "api",
     dict(public=401, owner=200, other=404, annotator=404, curator=404)),
    # --- API: changing
    ("api-model-create", "post", lambda w: "/api/models/", lambda w, who: {"name": f"New by {who}"}, "api",
     dict(public=401, owner=201, other=201, annotator=403, curator=201)),
    ("api-model-edit", "patch", lambda w: f"/api/models/{w.model.slug}/", lambda w, who: {"organisation": f"edited by {who}"}, "api",
     dict(public=401, owner=200, other=403, annotator=403, curator=403)),
    ("api-submit", "post", lambda w: "/api/submissions/", lambda w, who: archive_upload(w), "api",
     dict(public=401, owner=201, other=403, annotator=403, curator=201)),
    ("api-upload-create", "post", lambda w: "/api/uploads/",
     lambda w, who: {"filename": "b.zip", "total_size": 5, "sha256": "a" * 64, "model": w.model.slug, "suite": w.public.suite.name},
     "api", dict(public=401, owner=201, other=403, annotator=403, curator=201)),
    ("api-upload-chunk", "patch", lambda w: f"/api/uploads/{w.upload.pk}/", "chunk", "api",
     dict(public=401, owner=200, other=404, annotator=404, curator=404)),
    ("api-publish", "post", lambda w: f"/api/submissions/{w.private.pk}/publish/", None, "api",
     dict(public=401, owner=200, other=404, annotator=404, curator=403)),
    ("api-unpublish", "post", lambda w: f"/api/submissions/{w.public.pk}/unpublish/", None, "api",
     dict(public=401, owner=200, other=403, annotator=403, curator=403)),
    ("api-withdraw", "post", lambda w: f"/api/submissions/{w.public.pk}/withdraw/", None, "api",
     dict(public=401, owner=200, other=403, annotator=403, curator=403)),
    ("api-rerun", "post", lambda w: f"/api/submissions/{w.failed.pk}/rerun/", None, "api",
     dict(public=401, owner=200, other=404, annotator=404, curator=200)),
    ("api-hide", "post", lambda w: f"/api/submissions/{w.public.pk}/hide/", lambda w, who: {"reason": "duplicate of #1"}, "api",
     dict(public=401, owner=403, other=403, annotator=403, curator=200)),
    # --- Pages
    ("page-models", "get", lambda w: "/models/", None, "page", dict(public=200, owner=200, other=200, annotator=200, curator=200)),
    ("page-model-secret", "get", lambda w: f"/models/{w.secret_model.slug}/", None, "page",
     dict(public=404, owner=200, other=404, annotator=404, curator=200)),
    ("page-model-new", "get", lambda w: "/models/new/", None, "page", dict(public=302, owner=200, other=200, annotator=403, curator=200)),
    ("page-model-edit", "get", lambda w: f"/models/{w.model.slug}/edit/", None, "page",
     dict(public=302, owner=200, other=403, annotator=403, curator=403)),
    ("page-model-edit-post", "post", lambda w: f"/models/{w.model.slug}/edit/",
     lambda w, who: {"organisation": f"by {who}", "paradigm": "joint", "task": "T2AV"}, "page",
     dict(public=302, owner=302, other=403, annotator=403, curator=403)),
    ("page-submit", "get", lambda w: "/submit/", None, "page", dict(public=302, owner=200, other=200, annotator=403, curator=200)),
    ("page-account", "get", lambda w: "/account/", None, "page", dict(public=302, owner=200, other=200, annotator=200, curator=200)),
    ("page-my-submissions", "get", lambda w: "/submissions/mine/", None, "page",
     dict(public=302, owner=200, other=200, annotator=200, curator=200)),
    ("page-curation", "get", lambda w: "/curation/", None, "page", dict(public=302, owner=403, other=403, annotator=403, curator=200)),
    ("page-submission-private", "get", lambda w: f"/submissions/{w.private.pk}/", None, "page",
     dict(public=404, owner=200, other=404, annotator=404, curator=200)),
    ("page-publish", "post", lambda w: f"/submissions/{w.private.pk}/publish/", None, "page",
     dict(public=302, owner=302, other=404, annotator=404, curator=403)),
    ("page-withdraw", "post", lambda w: f"/submissions/{w.public.pk}/withdraw/", None, "page",
     dict(public=302, owner=302, other=403, annotator=403, curator=403)),
    ("page-hide", "post", lambda w: f"/submissions/{w.public.pk}/hide/", lambda w, who: {"reason": "spam"}, "page",
     dict(public=302, owner=403, other=403, annotator=403, curator=302)),
]

CHANGES = {"post", "patch"}


@pytest.mark.parametrize(
    ("method", "path", "data", "kind", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_role_matrix(world: World, method: str, path, data, kind: str, expected: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """One endpoint, every actor; each actor's request runs in a savepoint rolled back after it."""
    for who in ACTORS:
        with transaction.atomic():
            check_one(world, who, method, path, data, kind, expected[who])
            transaction.set_rollback(True)


def check_one(world: World, who: str, method: str, path, data, kind: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    actor = world.actors[who]
    client = actor.api() if kind == "api" else actor.browser()
    url = path(world)
    before = snapshot(world)
    if data == "chunk":
        response = client.patch(url, b"01234", content_type="application/octet-stream", HTTP_CONTENT_RANGE="bytes 0-4/10")
    elif method == "patch":
        response = client.patch(url, data(world, who), content_type="application/json")
    elif method == "post":
        response = client.post(url, data(world, who) if data else {})
    else:
        response = client.get(url)

    assert response.status_code == expected, (who, method, url, response.content[:300])
    if kind == "api" and response.status_code >= 400:
        assert response.json()["message"]  # every refusal says why
    if kind == "page" and who == "public" and response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    if method in CHANGES and (response.status_code >= 400 or (kind == "page" and who == "public")):
        assert snapshot(world) == before, (who, url)  # refused: nothing changed
    elif method in CHANGES:
        assert snapshot(world) != before, (who, url)  # allowed: it did change


def test_the_public_model_list_hides_models_without_a_public_submission(world: World) -> None:
    public_names = {m["name"] for m in world.actors["public"].api().get("/api/models/").json()}
    owner_names = {m["name"] for m in world.actors["owner"].api().get("/api/models/").json()}
    assert public_names == {"Shown Model"}
    assert owner_names == {"Shown Model", "Secret Model"}
    listing = world.actors["public"].browser().get("/models/").content.decode()
    assert "Shown Model" in listing and "Secret Model" not in listing


def test_own_submission_lists_hold_only_your_own(world: World) -> None:
    assert {s["id"] for s in world.actors["owner"].api().get("/api/submissions/").json()} == {
        world.public.pk, world.private.pk, world.failed.pk
    }
    assert world.actors["other"].api().get("/api/submissions/").json() == []
    everyone = world.actors["curator"].api().get("/api/submissions/?all=1").json()
    assert {s["id"] for s in everyone} == {world.public.pk, world.private.pk, world.failed.pk}
    assert world.actors["other"].api().get("/api/submissions/?all=1").json() == []  # only curators see all
