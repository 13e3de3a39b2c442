"""Writes of the ranking app: debounced recomputation requests, and the snapshot computation itself."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

from annotation.models import JUDGED_DIMENSIONS
from annotation.ranking.models import DimensionSnapshot, RankingSnapshot, RecomputeState
from annotation.stats import bradley_terry as bt
from annotation.stats import correlation, weights_fit
from annotation.stats.battles import BattleRow
from leaderboard.models import Clip, Suite

logger = logging.getLogger(__name__)

OVERALL = "overall"
# A queued recomputation whose task never ran (broker down, worker lost) is queued again after this.
STALE_SCHEDULE_S = 60.0


def _debounce_s() -> float:
    return float(getattr(settings, "MSAV_RANKING_DEBOUNCE_S", 1.5))


def _bootstrap_rounds() -> int:
    return int(getattr(settings, "MSAV_RANKING_BOOTSTRAP_ROUNDS", 500))


def _weight_by_reliability() -> bool:
    return bool(getattr(settings, "MSAV_RANKING_WEIGHT_BY_RELIABILITY", False))


def ranking_recompute_request(*, suite_id: int, reason: str) -> None:
    """Ask for the suite's ranking and correlation to be recomputed soon (debounced).

    The first request of a burst marks the suite dirty and queues one task due in
    MSAV_RANKING_DEBOUNCE_S seconds; later requests before it runs only count themselves. Safe to call
    from `transaction.on_commit` after every judgment: it never raises for a broker problem (the
    periodic task picks up a suite left dirty).
    """
    now = timezone.now()
    debounce = _debounce_s()
    with transaction.atomic():
        state = RecomputeState.objects.select_for_update().filter(suite_id=suite_id).first()
        if state is None:
            if not Suite.objects.filter(pk=suite_id).exists():
                return
            state, _ = RecomputeState.objects.get_or_create(suite_id=suite_id)
            state = RecomputeState.objects.select_for_update().get(pk=state.pk)
        state.requests += 1
        state.last_reason = reason[:200]
        if state.dirty_since is None:
            state.dirty_since = now
        queue_task = state.scheduled_for is None or state.scheduled_for < now - timedelta(seconds=STALE_SCHEDULE_S)
        if queue_task:
            state.scheduled_for = now + timedelta(seconds=debounce)
        state.save()
        if queue_task:
            transaction.on_commit(lambda: _enqueue_recompute(suite_id=suite_id, countdown=debounce))


def _enqueue_recompute(*, suite_id: int, countdown: float) -> None:
    from annotation.ranking.tasks import recompute_suite

    try:
        recompute_suite.apply_async(args=[suite_id], countdown=countdown)
    except Exception:  # the broker is unreachable: the suite stays dirty and the periodic task retries it
        logger.exception("could not queue the ranking recomputation of suite %s", suite_id)


def ranking_recompute_claim(*, suite_id: int) -> str | None:
    """Take the suite's pending request (clear dirty and scheduled); returns its reason, or None if nothing is pending."""
    with transaction.atomic():
        state = RecomputeState.objects.select_for_update().filter(suite_id=suite_id).first()
        if state is None or state.dirty_since is None:
            if state is not None and state.scheduled_for is not None:
                state.scheduled_for = None
                state.save(update_fields=["scheduled_for"])
            return None
        reason = state.last_reason
        state.dirty_since = None
        state.scheduled_for = None
        state.last_started_at = timezone.now()
        state.save(update_fields=["dirty_since", "scheduled_for", "last_started_at"])
        return reason


def ranking_recompute_finish(*, suite_id: int, error: str = "") -> None:
    RecomputeState.objects.filter(suite_id=suite_id).update(last_finished_at=timezone.now(), last_error=error[:2000])


def ranking_suites_due() -> list[int]:
    """Suites left dirty with no live task (the periodic task queues these), and suites whose inputs
    changed without a request (e.g. a visibility change): every suite with judgments or scores."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SCHEDULE_S)
    dirty = set(
        RecomputeState.objects.filter(dirty_since__isnull=False)
        .exclude(scheduled_for__gte=stale)
        .values_list("suite_id", flat=True)
    )
    with_data = set(Suite.objects.filter(submissions__scores__isnull=False).values_list("pk", flat=True))
    return sorted(dirty | with_data)


# --------------------------------------------------------------------------------------------------
# The computation


@dataclass(frozen=True)
class AutomaticScores:
    """The engine's side for one suite: per model (slug) its public submission's scores and per-clip scores."""

    submission_of: dict[str, int]
    model_scores: dict[str, dict[str, float | None]]  # slug -> dimension ("overall", ...) -> score
    clip_scores: dict[str, dict[tuple[str, str], float | None]]  # dimension -> (slug, prompt) -> score
    clip_metrics: dict[tuple[str, str], dict[str, float]]  # (slug, prompt) -> metric name -> value


def automatic_scores_for_suite(*, suite: Suite) -> AutomaticScores:
    """Each model's public scored submission on the suite (the leaderboard's choice) and its clip scores.

    A failed or missing clip counts 0 on every dimension, as in the aggregate; a dimension the engine
    did not measure for a clip is None.
    """
    from leaderboard.selectors import leaderboard_for_suite
    from scoring.models import ClipScore, MetricScore

    board = leaderboard_for_suite(suite=suite)
    submission_of: dict[str, int] = {}
    engine_of: dict[int, str] = {}
    model_scores: dict[str, dict[str, float | None]] = {}
    for row in board.rows:
        slug = row.model.slug
        submission_of[slug] = row.submission_id
        engine_of[row.submission_id] = row.engine_version
        scores: dict[str, float | None] = {OVERALL: row.overall}
        for dimension in JUDGED_DIMENSIONS:
            if dimension != OVERALL:
                value = row.dimensions.get(dimension)
                scores[dimension] = None if value is None else float(value)
        model_scores[slug] = scores
    slug_of = {sid: slug for slug, sid in submission_of.items()}
    clip_scores: dict[str, dict[tuple[str, str], float | None]] = {d: {} for d in JUDGED_DIMENSIONS}
    clip_metrics: dict[tuple[str, str], dict[str, float]] = {}
    clips = Clip.objects.filter(submission_id__in=slug_of).values_list("pk", "submission_id", "prompt__prompt_id", "status")
    clip_key = {}
    for clip_id, submission_id, prompt, status in clips:
        key = (slug_of[submission_id], prompt)
        clip_key[clip_id] = key
        if status in (Clip.Status.FAILED, Clip.Status.MISSING):
            for dimension in JUDGED_DIMENSIONS:
                clip_scores[dimension][key] = 0.0
    score_rows = ClipScore.objects.filter(clip_id__in=clip_key).values_list(
        "pk", "clip_id", "clip__submission_id", "engine_version", "overall", "dimensions"
    )
    score_key: dict[int, tuple[str, str]] = {}
    for score_id, clip_id, submission_id, engine_version, overall, dimensions in score_rows:
        if engine_version != engine_of[submission_id]:
            continue
        key = clip_key[clip_id]
        score_key[score_id] = key
        clip_scores[OVERALL][key] = float(overall)
        for dimension in JUDGED_DIMENSIONS:
            if dimension != OVERALL:
                value = (dimensions or {}).get(dimension)
                clip_scores[dimension][key] = None if value is None else float(value)
    for score_id, name, value in MetricScore.objects.filter(
        clip_score_id__in=score_key, status=MetricScore.Status.MEASURED, value__isnull=False
    ).values_list("clip_score_id", "name", "value"):
        clip_metrics.setdefault(score_key[score_id], {})[name] = float(value)
    return AutomaticScores(
        submission_of=submission_of, model_scores=model_scores, clip_scores=clip_scores, clip_metrics=clip_metrics
    )


def default_metric_weights(dimension: str) -> dict[str, float]:
    """The engine's default weight of each scoring metric inside `dimension`; for "overall", each metric's
    effective weight in the overall score (its paper dimension's share split by metric weight)."""
    from scoring.engine import catalog

    scoring_metrics = [spec for spec in catalog.METRICS if spec.role == catalog.SCORE]
    if dimension != OVERALL:
        return {spec.name: spec.weight for spec in scoring_metrics if spec.dimension == dimension}
    paper_total = sum(catalog.PAPER_DIMENSION_WEIGHTS.values())
    weights: dict[str, float] = {}
    for paper_dimension, paper_weight in catalog.PAPER_DIMENSION_WEIGHTS.items():
        members = [spec for spec in scoring_metrics if spec.paper_dimension == paper_dimension]
        member_total = sum(spec.weight for spec in members)
        for spec in members:
            weights[spec.name] = paper_weight / paper_total * spec.weight / member_total
    return weights


def _fingerprint(battles: list[BattleRow], automatic: AutomaticScores, rounds: int, weighted: bool) -> str:
    digest = hashlib.sha256()
    for b in battles:
        digest.update(f"{b.model_a}|{b.model_b}|{b.winner}|{b.dimension}|{b.prompt}|{b.weight:.6f}|{b.is_simulated}\n".encode())
    digest.update(json.dumps(automatic.model_scores, sort_keys=True).encode())
    digest.update(json.dumps(automatic.submission_of, sort_keys=True).encode())
    digest.update(f"rounds={rounds};weighted={weighted}".encode())
    return digest.hexdigest()


def _rng_for(suite_id: int, fingerprint: str) -> np.random.Generator:
    # Deterministic per input: recomputing unchanged data gives the same intervals.
    return np.random.default_rng([suite_id, int(fingerprint[:12], 16)])


def _clean(value: float | None, digits: int = 6) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def _dimension_snapshot_values(
    *, dimension: str, battles: list[BattleRow], automatic: AutomaticScores, rounds: int, rng: np.random.Generator
) -> dict:
    counts = bt.aggregate_battles(battles)
    simulated_per_model: Counter[str] = Counter()
    for b in battles:
        if b.is_simulated:
            simulated_per_model[b.model_a] += 1
            simulated_per_model[b.model_b] += 1
    ratings_json: list[dict] = []
    matrix: dict = {"models": [], "win_rate": [], "battles": []}
    result: bt.RatingResult | None = None
    if counts.n_models:
        result = bt.rate(counts, ci="bootstrap", rounds=rounds, rng=rng)
        sandwich = bt.rate(counts, ci="sandwich")
        sandwich_by_model = {m: (lo, hi) for m, lo, hi in zip(sandwich.models, sandwich.lower, sandwich.upper)}
        for row in result.rows():
            ratings_json.append(
                {
                    "model": row.model,
                    "rating": round(row.rating, 2),
                    "lower": round(row.lower, 2),
                    "upper": round(row.upper, 2),
                    "rank_ub": row.rank_ub,
                    "votes": row.battles,
                    "simulated_votes": simulated_per_model[row.model],
                    "sandwich_lower": round(float(sandwich_by_model[row.model][0]), 2),
                    "sandwich_upper": round(float(sandwich_by_model[row.model][1]), 2),
                }
            )
        order = [r["model"] for r in ratings_json]
        position = [counts.index_of(m) for m in order]
        rates = bt.win_rate_matrix(counts)[np.ix_(position, position)]
        games = counts.battles[np.ix_(position, position)]
        matrix = {
            "models": order,
            "win_rate": [[None if np.isnan(v) else round(float(v), 4) for v in row] for row in rates],
            "battles": [[int(v) for v in row] for row in games],
        }
    auto = {slug: scores.get(dimension) for slug, scores in automatic.model_scores.items()}
    clip_scores = automatic.clip_scores.get(dimension, {})
    corr = correlation.correlate(battles, auto, clip_scores, ratings=result, rounds=rounds, rng=rng) if battles else None
    fitted = None
    if battles:
        fitted = weights_fit.fit_report(
            battles=battles,
            clip_metrics=automatic.clip_metrics,
            metric_weights=default_metric_weights(dimension),
            default_clip_scores=clip_scores,
            human_ratings={r["model"]: r["rating"] for r in ratings_json},
            rng=rng,
        )
    return {
        "dimension": dimension,
        "judgments": len(battles),
        "simulated_judgments": sum(1 for b in battles if b.is_simulated),
        "annotators": len({b.annotator for b in battles}),
        "prompts": len({b.prompt for b in battles}),
        "ratings": ratings_json,
        "matrix": matrix,
        "automatic": {slug: _clean(value) for slug, value in auto.items()},
        "models_compared": len(corr.models) if corr else 0,
        "spearman": _clean(corr.spearman) if corr else None,
        "spearman_lower": _clean(corr.spearman_lower) if corr else None,
        "spearman_upper": _clean(corr.spearman_upper) if corr else None,
        "kendall": _clean(corr.kendall) if corr else None,
        "kendall_lower": _clean(corr.kendall_lower) if corr else None,
        "kendall_upper": _clean(corr.kendall_upper) if corr else None,
        "pairwise_agreement": _clean(corr.pairwise_agreement) if corr else None,
        "decided_pairs": corr.decided_pairs if corr else 0,
        "separability": _clean(corr.separability) if corr else None,
        "weights_fit": fitted,
    }


def ranking_snapshot_compute(*, suite_id: int, reason: str = "", force: bool = False) -> RankingSnapshot | None:
    """Recompute the suite's human ranking and correlation per dimension and store them as a snapshot.

    Returns None when the suite is gone or nothing changed since the latest snapshot (same counted
    judgments, public scores and settings), unless `force`. Invalidates the public cache after saving.
    """
    from annotation.selectors import judgments_for_ranking
    from leaderboard.cache import leaderboard_cache_invalidate

    suite = Suite.objects.filter(pk=suite_id).first()
    if suite is None:
        return None
    started = time.perf_counter()
    weighted = _weight_by_reliability()
    rounds = _bootstrap_rounds()
    battles = judgments_for_ranking(suite_id=suite_id, weight_by_reliability=weighted)
    automatic = automatic_scores_for_suite(suite=suite)
    fingerprint = _fingerprint(battles, automatic, rounds, weighted)
    latest = RankingSnapshot.objects.filter(suite_id=suite_id).order_by("-computed_at", "-pk").first()
    if not force and latest is not None and latest.input_fingerprint == fingerprint:
        return None
    by_dimension: dict[str, list[BattleRow]] = defaultdict(list)
    for battle in battles:
        by_dimension[battle.dimension].append(battle)
    dimensions = [d for d in JUDGED_DIMENSIONS if d == OVERALL or by_dimension.get(d)]
    rng = _rng_for(suite_id, fingerprint)
    # One BLAS thread: the fits are many small solves (L-BFGS-B, n x n Newton steps), which a
    # multithreaded OpenBLAS slows down by up to 100x on a busy machine (threads spinning for cores
    # the scoring workers hold); measured 0.7 ms vs 138 ms per metric-weights fit at load 15 on 2 cores.
    with threadpool_limits(limits=1, user_api="blas"):
        values = [
            _dimension_snapshot_values(
                dimension=d, battles=by_dimension.get(d, []), automatic=automatic, rounds=rounds, rng=rng
            )
            for d in dimensions
        ]
    now = timezone.now()
    with transaction.atomic():
        snapshot = RankingSnapshot.objects.create(
            suite=suite,
            computed_at=now,
            reason=reason[:200],
            input_fingerprint=fingerprint,
            judgments=len(battles),
            simulated_judgments=sum(1 for b in battles if b.is_simulated),
            bootstrap_rounds=rounds,
            weighted_by_reliability=weighted,
            duration_ms=round((time.perf_counter() - started) * 1000.0, 1),
        )
        DimensionSnapshot.objects.bulk_create(
            [DimensionSnapshot(snapshot=snapshot, suite=suite, computed_at=now, **v) for v in values]
        )
        transaction.on_commit(lambda: leaderboard_cache_invalidate(suite_id=suite_id))
    return snapshot
