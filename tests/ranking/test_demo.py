"""The demo's simulated judgments: hidden truth from the intended order, labelled simulated, idempotent."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotation.models import Judgment
from annotation.ranking import demo, services
from tests.ranking.conftest import TRUTH

pytestmark = pytest.mark.django_db


def test_simulated_annotators_reproduce_the_intended_order(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    intended = {slug: rank for rank, slug in enumerate(sorted(TRUTH, key=lambda s: -TRUTH[s]), start=1)}
    created = demo.demo_simulated_judgments_create(suite=scored.suite, intended_ranks=intended)
    assert created == Judgment.objects.count() > 300
    assert not Judgment.objects.filter(is_simulated=False).exists()
    assert set(Judgment.objects.values_list("outcome", flat=True)) == {"a", "b", "both_good", "both_bad"}
    assert demo.demo_simulated_judgments_create(suite=scored.suite, intended_ranks=intended) == 0  # idempotent
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="demo")
    body = APIClient().get("/api/ratings/", {"suite": scored.suite.pk}).json()
    assert [row["model"] for row in body["ratings"]] == sorted(intended, key=intended.get)
    assert all(row["simulated"] and row["simulated_votes"] == row["votes"] for row in body["ratings"])
    correlation = APIClient().get("/api/correlation/", {"suite": scored.suite.pk}).json()["dimensions"][0]
    assert correlation["simulated_share"] == 1.0 and correlation["spearman"] > 0.8
