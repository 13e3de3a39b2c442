"""Private submissions never reach the public or an export; the cache serves pages until scores, ratings or visibility change."""

from __future__ import annotations

import pytest
from django.core.cache import cache as django_cache
from django.urls import reverse
from django.utils import timezone

from leaderboard import public_selectors
from leaderboard.cache import leaderboard_cache_invalidate
from leaderboard.models import Clip, Submission
from scoring.models import SubmissionScore
from tests.factories import user_with_role
from tests.public.factories import human_snapshot, model, scored_submission

pytestmark = pytest.mark.django_db

ALL = {"action-001": 0.6, "narrative-001": 0.6, "dialogue-002": 0.6, "advert-002": 0.6}


def public_surfaces(client, suite, slug: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Everything the public can fetch about a suite, as text."""
    urls = {
        "page": reverse("leaderboard:suite", args=[suite.name, suite.version]),
        "human tab": reverse("leaderboard:suite", args=[suite.name, suite.version]) + "?tab=both",
        "home": "/",
        "json": "/api/leaderboard/",
        "csv": "/api/leaderboard/?format=csv",
        "prompts json": "/api/leaderboard/prompts/",
        "prompts csv": "/api/leaderboard/prompts/?format=csv",
        "agreement": reverse("leaderboard:agreement", args=[suite.name, suite.version]),
    }
    return {name: client.get(url).content.decode() for name, url in urls.items()}


@pytest.mark.parametrize("how", ["unpublished", "hidden", "withdrawn"])
def test_a_private_submission_never_appears_to_the_public_or_in_exports(client, suite, how) -> None:  # type: ignore[no-untyped-def]
    scored_submission(suite, model("visible"), ALL)
    secret = scored_submission(suite, model("secretmodel", name="Secret Model", organisation="Hush Lab"), {**ALL, "action-001": 0.99})
    if how == "unpublished":
        Submission.objects.filter(pk=secret.pk).update(is_public=False, published_at=None)
    elif how == "hidden":
        Submission.objects.filter(pk=secret.pk).update(hidden_at=timezone.now(), hidden_reason="curator test")
    else:
        Submission.objects.filter(pk=secret.pk).update(withdrawn_at=timezone.now())
    leaderboard_cache_invalidate(suite_id=suite.pk)  # .update() bypasses the save signals, as a bulk job would
    # Even a human-ranking snapshot that still lists it (computed before it was hidden) must not leak it.
    human_snapshot(suite, {"secretmodel": (1200, 1150, 1250, 90), "visible": (1000, 950, 1050, 90)})

    for name, text in public_surfaces(client, suite, "secretmodel").items():
        assert "secretmodel" not in text and "Secret Model" not in text and "Hush Lab" not in text, name
        if name in ("json", "csv", "page"):
            assert "visible" in text.lower(), name
    assert client.get(reverse("leaderboard:model", args=[suite.name, suite.version, "secretmodel"])).status_code == 404
    clip = Clip.objects.filter(submission=secret).first()
    assert client.get(reverse("leaderboard:clip", args=[clip.pk])).status_code == 404
    assert client.get(reverse("leaderboard:clip_result", args=[clip.pk])).status_code == 404
    assert client.get("/api/leaderboard/prompts/?model=secretmodel").status_code == 404


def test_an_older_public_submission_of_a_model_stays_if_its_newer_one_is_private(client, suite) -> None:  # type: ignore[no-untyped-def]
    entry = model("twice")
    scored_submission(suite, entry, ALL)
    newer = scored_submission(suite, entry, {**ALL, "action-001": 1.0}, public=False)

    rows = client.get("/api/leaderboard/").json()["rows"]

    assert len(rows) == 1 and rows[0]["submission"] != newer.pk and rows[0]["overall"] == pytest.approx(0.6)


def test_the_owner_sees_their_private_clip_page_but_the_public_does_not(client, suite) -> None:  # type: ignore[no-untyped-def]
    owner = user_with_role("rita")
    submission = scored_submission(suite, model("mine"), ALL, public=False)
    Submission.objects.filter(pk=submission.pk).update(owner=owner)
    clip = submission.clips.first()
    url = reverse("leaderboard:clip", args=[clip.pk])
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_pages_and_json_are_served_from_the_cache_until_invalidated(client, suite, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    submission = scored_submission(suite, model("cached"), ALL)
    page_url = reverse("leaderboard:suite", args=[suite.name, suite.version])
    first_page, first_json = client.get(page_url).content, client.get("/api/leaderboard/").json()
    assert first_json["rows"][0]["overall"] == pytest.approx(0.6)

    # A bulk write that bypasses the signals: the cache still answers, without touching the database.
    SubmissionScore.objects.filter(submission=submission).update(overall=0.1)
    with django_assert_max_num_queries(0):
        assert client.get(page_url).content == first_page
        assert client.get("/api/leaderboard/").json()["rows"][0]["overall"] == pytest.approx(0.6)

    leaderboard_cache_invalidate(suite_id=suite.pk)

    assert client.get("/api/leaderboard/").json()["rows"][0]["overall"] == pytest.approx(0.1)
    assert b"0.100" in client.get(page_url).content


def test_saving_rows_invalidates_through_the_signals(client, suite) -> None:  # type: ignore[no-untyped-def]
    submission = scored_submission(suite, model("signalled", name="Signalled"), ALL)
    assert len(client.get("/api/leaderboard/").json()["rows"]) == 1

    submission.hidden_at = timezone.now()
    submission.save()  # a curator hiding it through the admin
    assert client.get("/api/leaderboard/").json()["rows"] == []

    submission.hidden_at = None
    submission.save()
    entry = submission.model
    entry.name = "Renamed"
    entry.save()  # a model's card changed: every page showing it
    assert client.get("/api/leaderboard/").json()["rows"][0]["model"]["name"] == "Renamed"
    assert "Renamed" in client.get("/").content.decode()


def test_new_human_ratings_show_after_the_ranking_invalidates(client, suite) -> None:  # type: ignore[no-untyped-def]
    scored_submission(suite, model("rated"), ALL)
    assert client.get("/api/leaderboard/").json()["rows"][0]["human"] is None
    human_snapshot(suite, {"rated": (1010, 990, 1030, 40)})
    leaderboard_cache_invalidate(suite_id=suite.pk)
    assert client.get("/api/leaderboard/").json()["rows"][0]["human"]["rating"] == 1010


def test_logged_in_pages_are_not_served_from_the_public_cache(client, suite) -> None:  # type: ignore[no-untyped-def]
    scored_submission(suite, model("someone"), ALL)
    public_html = client.get("/").content.decode()
    assert "Log in" in public_html
    client.force_login(user_with_role("rita"))
    html = client.get("/").content.decode()
    assert "Log out rita" in html and "someone" in html.lower()


def test_the_cache_falls_back_to_fresh_values_when_the_backend_fails(suite, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scored_submission(suite, model("resilient"), ALL)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("cache down")

    monkeypatch.setattr(django_cache, "get", broken)
    board = public_selectors.leaderboard(suite=suite, query=public_selectors.LeaderboardQuery())
    assert [row.model.slug for row in board.rows] == ["resilient"]
    leaderboard_cache_invalidate(suite_id=suite.pk)  # logs, never raises into the write that called it
