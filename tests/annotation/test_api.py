"""The annotator REST API, blind media, the curator pages and exports, over HTTP (Django test client, PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client

from annotation.models import Campaign, Judgment, Task
from tests.annotation.world import annotator, build_world, make_campaign

pytestmark = pytest.mark.django_db

VOTES = {"overall": {"outcome": "a"}, "video": {"outcome": "both_good", "comment": "fine"}, "audio": {"outcome": "b"}}


@pytest.fixture
def world(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return build_world(demo_dir, n_models=3, with_files=True)


@pytest.fixture
def campaign(world) -> Campaign:  # type: ignore[no-untyped-def]
    return make_campaign(world)


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def model_words(world) -> list[str]:  # type: ignore[no-untyped-def]
    words = []
    for entry in world.models:
        words += [entry.name, entry.slug]
    return words


def test_next_needs_a_login_and_the_annotator_role(world, campaign) -> None:  # type: ignore[no-untyped-def]
    assert Client().post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").status_code in (401, 403)
    response = login(world.curator).post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json")
    assert response.status_code == 403
    assert "annotator role" in response.json()["message"]


def test_next_then_submit_then_replay_over_http_without_any_model_name(world, campaign) -> None:  # type: ignore[no-untyped-def]
    client = login(annotator("ada"))
    response = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    task = body["task"]
    assert set(task) == {"id", "campaign", "expires_at", "required_watch_s", "prompt", "clips", "dimensions"}
    assert [d["dimension"] for d in task["dimensions"]] == ["overall", "video", "audio"]
    assert task["prompt"]["shots"] and task["clips"]["a"].startswith("/annotate/media/")
    text = response.content.decode()
    for word in model_words(world):
        assert word.lower() not in text.lower()
    posted = {"task": task["id"], "votes": VOTES, "client_elapsed_ms": 5000}
    first = client.post("/api/annotation/judgments/", posted, content_type="application/json")
    assert first.status_code == 201 and first.json()["stored"] is True
    assert first.json()["progress"]["done_today"] == 1
    replay = client.post("/api/annotation/judgments/", posted, content_type="application/json")
    assert replay.status_code == 200 and replay.json()["stored"] is False
    assert Judgment.objects.count() == 3
    following = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()
    assert following["task"]["id"] != task["id"] and following["resumed"] is False


def test_bad_posts_get_a_4xx_with_a_message_never_a_500(world, campaign) -> None:  # type: ignore[no-untyped-def]
    client = login(annotator("ada"))
    task = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()["task"]
    cases = [
        ({"task": "not-a-uuid", "votes": VOTES}, 400, "Validation error"),
        ({"task": task["id"], "votes": {"overall": {"outcome": "a"}}}, 400, "missing video, audio"),
        ({"task": task["id"], "votes": {**VOTES, "audio": {"outcome": "perhaps"}}}, 400, "votes.audio: outcome"),
        ({"task": "6f1c1a56-8a43-4f7c-9d6c-2f1b0f7c0e11", "votes": VOTES}, 404, "no such task of yours"),
        ({"task": task["id"], "votes": VOTES, "client_elapsed_ms": -5}, 400, "Validation error"),
    ]
    for payload, status, message in cases:
        response = client.post("/api/annotation/judgments/", payload, content_type="application/json")
        assert response.status_code == status, (payload, response.content)
        assert message in json.dumps(response.json()), response.json()
    assert client.post("/api/annotation/next/", {"campaign": 99999}, content_type="application/json").status_code == 404
    skip = client.post("/api/annotation/skip/", {"task": task["id"], "reason": "nope"}, content_type="application/json")
    assert skip.status_code == 400
    assert Judgment.objects.count() == 0


def test_skip_over_http(world, campaign) -> None:  # type: ignore[no-untyped-def]
    client = login(annotator("ada"))
    task = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()["task"]
    response = client.post("/api/annotation/skip/", {"task": task["id"], "reason": "cannot_judge"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "skipped"
    assert Task.objects.get(public_id=task["id"]).skip_reason == "cannot_judge"


def test_clips_are_served_blind_inline_and_seekable_to_their_annotator_only(world, campaign) -> None:  # type: ignore[no-untyped-def]
    ada = annotator("ada")
    client = login(ada)
    task = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()["task"]
    url = task["clips"]["a"]
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    token = url.rsplit("/", 1)[1]
    assert response["Content-Disposition"] == f'inline; filename="{token}.mp4"'
    assert response["X-Content-Type-Options"] == "nosniff" and response["Accept-Ranges"] == "bytes"
    data = b"".join(response.streaming_content)
    assert data[4:8] == b"ftyp"
    for word in model_words(world):
        assert word.encode().lower() not in data.lower()
    ranged = client.get(url, HTTP_RANGE="bytes=100-199")
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(ranged.streaming_content) == data[100:200]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data) + 10}-").status_code == 416
    assert login(annotator("eve")).get(url).status_code == 404  # someone else's task
    assert Client().get(url).status_code == 302  # to the login page
    assert task["clips"]["a"] != task["clips"]["b"]


def test_the_annotator_page_has_the_player_the_shortcuts_and_no_model_names(world, campaign) -> None:  # type: ignore[no-untyped-def]
    client = login(annotator("ada"))
    page = client.get(f"/annotate/{campaign.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="clip-a"' in html and 'id="clip-b"' in html and "Keyboard shortcuts" in html and "js/annotate.js" in html
    for word in model_words(world):
        assert word.lower() not in html.lower()
    assert login(world.curator).get(f"/annotate/{campaign.pk}/").status_code == 403


def _vote_through(client: Client, campaign: Campaign, outcome: str) -> None:
    while (task := client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()["task"]):
        votes = {d["dimension"]: {"outcome": outcome} for d in task["dimensions"]}
        assert client.post("/api/annotation/judgments/", {"task": task["id"], "votes": votes}, content_type="application/json").status_code == 201


def test_curator_dashboard_and_exports(world, campaign) -> None:  # type: ignore[no-untyped-def]
    for name, outcome in (("ada", "a"), ("bob", "a")):
        _vote_through(login(annotator(name)), campaign, outcome)
    curator = login(world.curator)
    page = curator.get(f"/curate/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Krippendorff" in html and "ada" in html and "bob" in html
    pairs = campaign.pairs.count()
    assert f"{pairs * 2} of {pairs * 2} judgments" in html
    exported = curator.get(f"/curate/campaigns/{campaign.pk}/judgments.csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert len(rows) == pairs * 2 * 3
    assert {"model_a", "model_b", "winner", "dimension", "annotator", "client_elapsed_ms", "server_elapsed_ms"} <= set(rows[0])
    assert {row["winner"] for row in rows} == {"model_a"}
    assert {row["model_a"] for row in rows} <= {entry.slug for entry in world.models}
    as_json = curator.get(f"/curate/campaigns/{campaign.pk}/judgments.json").json()
    assert len(as_json) == len(rows) and as_json[0]["annotator"] in {"ada", "bob"}
    eve = login(annotator("eve"))
    for path in (f"/curate/campaigns/{campaign.pk}/", f"/curate/campaigns/{campaign.pk}/judgments.csv"):
        assert eve.get(path).status_code == 403


def test_curator_creates_a_campaign_on_the_page(world) -> None:  # type: ignore[no-untyped-def]
    curator = login(world.curator)
    annotator("ada")
    form = {
        "name": "Spring study", "suite": world.suite.pk, "entries": [m.pk for m in world.models[:2]], "overlap": 3,
        "gold_rate": 0.1, "attention_rate": 0.05, "daily_limit": 50, "enrollment": "invite", "lock_ttl_s": 600,
        "min_watch_ratio": 1.0, "invite": "ada", "ask_overall": "on", "guideline_overall": "Which is better overall?",
        "ask_sync": "on", "guideline_sync": "",
    }
    response = curator.post("/curate/campaigns/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Spring study")
    assert campaign.dimensions[0] == {"dimension": "overall", "guideline": "Which is better overall?"}
    assert campaign.dimension_names() == ["overall", "sync"] and campaign.members.get().user.username == "ada"
    bad = curator.post("/curate/campaigns/new/", {**form, "name": "Other", "invite": "nobody-here"})
    assert bad.status_code == 400 and "no such user nobody-here" in bad.content.decode()


def test_the_schema_documents_the_annotation_endpoints() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/annotation/next/", "/api/annotation/judgments/", "/api/annotation/skip/"):
        assert "post" in schema["paths"][path]
    responses = schema["paths"]["/api/annotation/judgments/"]["post"]["responses"]
    assert {"200", "201", "400", "409"} <= set(responses)
