"""GET /api/ratings/, /api/correlation/ and /api/correlation/history/: shapes, simulated labels, clear 4xx."""

from __future__ import annotations

import numpy as np
import pytest
from rest_framework.test import APIClient

from annotation.ranking import services
from tests.ranking.builders import annotators, judgments_create, simulated_votes

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(scored, few_rounds):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    judgments_create(simulated_votes(scored, votes=300, rng=rng), annotators(4))
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="first")
    judgments_create(simulated_votes(scored, votes=300, rng=rng), annotators(4, prefix="late"))
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="second")
    return scored


def test_ratings_with_intervals_rank_ub_and_matrix(computed) -> None:  # type: ignore[no-untyped-def]
    response = APIClient().get("/api/ratings/", {"suite": computed.suite.pk, "dimension": "overall"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["model"] for row in body["ratings"]] == ["alpha", "bravo", "charlie", "delta", "echo"]
    first = body["ratings"][0]
    assert first["model_name"] == "Alpha" and first["rank_ub"] == 1 and first["simulated"] is True
    assert first["lower"] < first["rating"] < first["upper"] and first["votes"] == first["simulated_votes"]
    assert body["matrix"]["models"] == [row["model"] for row in body["ratings"]]
    assert body["confidence"] == 0.95 and body["computed_at"]


def test_correlation_latest_and_history(computed) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    by_name = client.get("/api/correlation/", {"suite": computed.suite.name})
    by_id = client.get("/api/correlation/", {"suite": computed.suite.pk})
    assert by_name.status_code == by_id.status_code == 200
    assert by_name.json() == by_id.json()
    overall = by_id.json()["dimensions"][0]
    assert overall["dimension"] == "overall" and overall["simulated_share"] == 1.0
    for key in ("spearman", "spearman_lower", "spearman_upper", "kendall", "kendall_lower", "kendall_upper",
                "pairwise_agreement", "separability"):
        assert isinstance(overall[key], float), key
    assert overall["models"] == 5 and overall["judgments"] > 0
    fit = overall["weights_fit"]
    assert set(fit["fitted_weights"]) <= {"video_sharpness", "shot_count_match", "audio_loudness"}
    assert "spearman" in fit["fitted_cross_validated"] and "pairwise_agreement" in fit["default"]
    history = client.get("/api/correlation/history/", {"suite": computed.suite.pk, "dimension": "overall"}).json()
    assert len(history["points"]) == 2
    assert history["points"][0]["computed_at"] < history["points"][1]["computed_at"]
    assert history["points"][0]["judgments"] < history["points"][1]["judgments"]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/correlation/", {}, 400, "suite: required"),
        ("/api/correlation/", {"suite": "no-such-suite"}, 404, 'suite "no-such-suite": no such suite'),
        ("/api/correlation/", {"suite": "99999"}, 404, 'suite "99999": no such suite'),
        ("/api/ratings/", {"suite": "{suite}", "dimension": "smell"}, 400, 'dimension "smell": unknown'),
        ("/api/correlation/history/", {"suite": "{suite}", "dimension": "taste"}, 400, 'dimension "taste": unknown'),
        # Odd values that reach the database or int() must still be a 4xx with a message, never a 500.
        ("/api/correlation/", {"suite": "9" * 30}, 404, "no such suite"),
        ("/api/correlation/", {"suite": "\u00b2"}, 404, "no such suite"),
        ("/api/ratings/", {"suite": "demo\x00"}, 400, "suite: contains a NUL character"),
        ("/api/ratings/", {"suite": "{suite}", "version": "1\x00"}, 400, "version: contains a NUL character"),
        ("/api/correlation/history/", {"suite": "{suite}", "dimension": "over\x00all"}, 400, "unknown"),
    ],
)
def test_unknown_suite_or_dimension_is_a_clear_4xx(scored, path, params, status, message) -> None:  # type: ignore[no-untyped-def]
    params = {k: v.format(suite=scored.suite.pk) for k, v in params.items()}
    response = APIClient().get(path, params)
    assert response.status_code == status
    assert message in response.json()["message"]


def test_before_any_snapshot_the_answers_are_empty_not_errors(scored) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    assert client.get("/api/correlation/", {"suite": scored.suite.pk}).json()["dimensions"] == []
    assert client.get("/api/ratings/", {"suite": scored.suite.pk}).json()["ratings"] == []


def test_query_counts_do_not_grow_with_models_or_dimensions(computed, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    with django_assert_max_num_queries(8):
        assert client.get("/api/ratings/", {"suite": computed.suite.pk}).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/api/correlation/", {"suite": computed.suite.pk}).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/api/correlation/history/", {"suite": computed.suite.pk}).status_code == 200
