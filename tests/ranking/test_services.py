"""The snapshot computation and the debounced recomputation request (real PostgreSQL and Redis)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import redis
from django.conf import settings
from django.utils import timezone

from annotation.ranking import selectors, services
from annotation.ranking.models import DimensionSnapshot, RankingSnapshot, RecomputeState
from tests.ranking.builders import annotators, judgments_create, simulated_votes

pytestmark = pytest.mark.django_db


def test_snapshot_ranks_the_models_like_the_truth_and_correlates(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    users = annotators(10)
    created = judgments_create(simulated_votes(scored, votes=900, rng=np.random.default_rng(1)), users)
    snapshot = services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="test")
    assert snapshot is not None and snapshot.judgments == created > 500
    assert snapshot.simulated_judgments == snapshot.judgments
    ratings = selectors.human_ratings_latest(suite_id=scored.suite.pk)
    order = sorted(ratings, key=lambda slug: -ratings[slug].rating)
    assert order == sorted(scored.truth, key=lambda slug: -scored.truth[slug])
    for rating in ratings.values():
        assert rating.lower < rating.rating < rating.upper and rating.simulated and not rating.provisional
    assert ratings["alpha"].rank_ub == 1
    overall = {row["dimension"]: row for row in selectors.correlation_latest(suite_id=scored.suite.pk)}["overall"]
    assert overall["models"] == 5 and overall["judgments"] == snapshot.judgments and overall["simulated_share"] == 1.0
    assert overall["spearman"] == pytest.approx(1.0) and overall["kendall"] == pytest.approx(1.0)
    assert overall["spearman_lower"] <= overall["spearman"] <= overall["spearman_upper"]
    assert 0.5 < overall["pairwise_agreement"] <= 1.0 and overall["decided_pairs"] > 0
    assert 0 < overall["separability"] <= 1
    matrix = selectors.win_rate_matrix(suite_id=scored.suite.pk, dimension="overall")
    assert matrix["models"] == order and matrix["win_rate"][0][0] is None
    assert matrix["win_rate"][0][4] > 0.5 and matrix["battles"][0][4] == matrix["battles"][4][0] > 0


def test_unchanged_inputs_store_no_second_snapshot_and_new_votes_do(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    users = annotators(3)
    rng = np.random.default_rng(2)
    judgments_create(simulated_votes(scored, votes=200, rng=rng), users)
    assert services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="first") is not None
    assert services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="again") is None
    judgments_create(simulated_votes(scored, votes=50, rng=rng), annotators(2, prefix="more"))
    assert services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="more votes") is not None
    history = selectors.correlation_history(suite_id=scored.suite.pk, dimension="overall")
    assert len(history) == 2 and history[0]["judgments"] < history[1]["judgments"]


def test_a_hidden_submission_disappears_from_the_ratings(scored, few_rounds) -> None:  # type: ignore[no-untyped-def]
    judgments_create(simulated_votes(scored, votes=300, rng=np.random.default_rng(3)), annotators(3))
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="test")
    scored.submissions["charlie"].hidden_at = timezone.now()
    scored.submissions["charlie"].save()
    assert "charlie" not in selectors.human_ratings_latest(suite_id=scored.suite.pk)
    assert "charlie" not in selectors.win_rate_matrix(suite_id=scored.suite.pk, dimension="overall")["models"]
    # and the next computation leaves it out entirely
    snapshot = services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="hidden")
    assert snapshot is not None
    row = DimensionSnapshot.objects.get(snapshot=snapshot, dimension="overall")
    assert "charlie" not in {r["model"] for r in row.ratings} and "charlie" not in row.automatic


def test_a_burst_of_requests_queues_one_task(scored, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("bookkeeping")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for k in range(200):
            services.ranking_recompute_request(suite_id=scored.suite.pk, reason=f"judgment {k}")
    state = RecomputeState.objects.get(suite=scored.suite)
    assert state.requests == 200 and state.dirty_since is not None and state.scheduled_for is not None
    assert len(callbacks) == 1
    queued = [json.loads(raw) for raw in broker.lrange("bookkeeping", 0, -1)]
    assert [message["headers"]["task"] for message in queued] == ["ranking.recompute_suite"]
    assert queued[0]["headers"]["eta"] is not None  # due after the debounce delay
    # The task claims the burst once; a second claim finds nothing pending.
    assert services.ranking_recompute_claim(suite_id=scored.suite.pk) == "judgment 199"
    assert services.ranking_recompute_claim(suite_id=scored.suite.pk) is None
    broker.delete("bookkeeping")


def test_a_request_for_an_unknown_suite_is_ignored() -> None:
    services.ranking_recompute_request(suite_id=987654, reason="gone")
    assert not RecomputeState.objects.exists() and not RankingSnapshot.objects.exists()


def test_the_periodic_sweep_requests_every_suite_with_scores(scored, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from annotation.ranking import tasks

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("bookkeeping")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.recompute_periodic()
        tasks.recompute_periodic()  # a second sweep before the task ran queues nothing more
    assert RecomputeState.objects.get(suite=scored.suite).requests == 2
    assert broker.llen("bookkeeping") == 1
    broker.delete("bookkeeping")


def test_reliability_weighting_is_an_option_that_changes_the_inputs(scored, few_rounds, settings) -> None:  # type: ignore[no-untyped-def]
    judgments_create(simulated_votes(scored, votes=120, rng=np.random.default_rng(6)), annotators(3))
    plain = services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="plain")
    settings.MSAV_RANKING_WEIGHT_BY_RELIABILITY = True
    weighted = services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="weighted")
    assert plain is not None and not plain.weighted_by_reliability
    assert weighted is not None and weighted.weighted_by_reliability
    assert weighted.input_fingerprint != plain.input_fingerprint


def test_beat_schedules_the_periodic_recomputation() -> None:
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["ranking-recompute-periodic"]
    app.loader.import_default_modules()
    assert entry["task"] == "ranking.recompute_periodic" and entry["task"] in app.tasks
    assert 0 < settings.MSAV_RANKING_DEBOUNCE_S < 5  # a burst must be recomputed within 5 s


def test_the_fits_run_on_one_blas_thread(scored, few_rounds, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Many small solves: a multithreaded BLAS made a snapshot 4-5x slower on a busy 2-core machine.
    from threadpoolctl import threadpool_info

    seen: list[set[int]] = []
    compute = services._dimension_snapshot_values

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        seen.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return compute(**kwargs)

    monkeypatch.setattr(services, "_dimension_snapshot_values", spy)
    judgments_create(simulated_votes(scored, votes=100, rng=np.random.default_rng(5)), annotators(2))
    assert services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="test") is not None
    assert seen and all(threads == {1} for threads in seen), seen
