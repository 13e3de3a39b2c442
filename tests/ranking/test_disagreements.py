"""The disagreement explorer: the clip pairs where the human majority and the automatic score disagree most."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Judgment
from annotation.ranking import selectors, services
from tests.ranking.builders import annotators, judgments_create, simulated_votes

pytestmark = pytest.mark.django_db


def test_the_strongest_contradiction_comes_first_with_both_clips_and_their_metrics(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    people = annotators(3, prefix="person")
    alpha, echo = scored.clips[("alpha", "p-000")], scored.clips[("echo", "p-000")]
    # Everyone prefers echo's clip (automatic 0.3) over alpha's (automatic 0.9) on p-000.
    for person in people:
        Judgment.objects.create(annotator=person, clip_a=alpha, clip_b=echo, dimension="overall", outcome="b")
    # A milder contradiction: bravo over alpha, 2 votes to 1.
    bravo = scored.clips[("bravo", "p-001")]
    alpha_1 = scored.clips[("alpha", "p-001")]
    for person, outcome in zip(people, ["a", "a", "b"]):
        Judgment.objects.create(annotator=person, clip_a=bravo, clip_b=alpha_1, dimension="overall", outcome=outcome)
    pairs = selectors.disagreements(suite_id=scored.suite.pk, dimension="overall")
    first = pairs[0]
    assert first["prompt"] == "p-000" and first["votes"] == 3 and first["simulated_votes"] == 0
    assert {first["left"]["model"], first["right"]["model"]} == {"alpha", "echo"}
    people_side = first["left"] if first["human_majority"] == "left" else first["right"]
    assert people_side["model"] == "echo" and people_side["human_share"] == 1.0
    assert first["strength"] == pytest.approx(abs(first["left"]["automatic"] - first["right"]["automatic"]), abs=1e-4)
    assert {row["name"] for row in first["evidence"]} == {"video_sharpness", "shot_count_match", "audio_loudness"}
    assert pairs[1]["prompt"] == "p-001" and pairs[1]["strength"] < first["strength"]

    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="test")
    url = reverse("ranking:disagreements", args=[scored.suite.name, scored.suite.version])
    page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "p-000" in html and reverse("leaderboard:clip", args=[echo.pk]) in html  # the built clips have no file
    assert "video_sharpness" in html and "Sides with people" in html


def test_simulated_votes_are_labelled_and_bad_input_is_a_4xx(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    judgments_create(simulated_votes(scored, votes=200, rng=np.random.default_rng(9)), annotators(3))
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="test")
    client = Client()
    url = reverse("ranking:disagreements", args=[scored.suite.name, scored.suite.version])
    html = client.get(url).content.decode()
    assert "simulated" in html and "Metric weights fitted to these judgments" in html
    assert client.get(url, {"dimension": "smell"}).status_code == 400
    assert client.get(reverse("ranking:disagreements", args=["nope", "1"])).status_code == 404
    # A NUL in the path cannot name a suite (PostgreSQL text cannot hold it): a 404, not a 500.
    assert client.get(f"/suites/{scored.suite.name}%00/{scored.suite.version}/disagreements/").status_code == 404
