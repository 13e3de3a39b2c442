"""Reads of the ranking app: the latest human ratings, correlation and history of a suite, for pages and the API.

Snapshots store what was public when they were computed; every read here also drops models that
have no public submission on the suite *now* (hidden or withdrawn since), so none of these returns
model data of a private submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from annotation.models import JUDGED_DIMENSIONS
from annotation.ranking.models import DimensionSnapshot, RankingSnapshot

# Below this many votes a model's rating is shown as provisional.
PROVISIONAL_BELOW_VOTES = 30


@dataclass(frozen=True)
class HumanRating:
    """A model's human rating (Elo-like scale) with its 95% bootstrap interval and LMArena's Rank (UB)."""

    rating: float
    lower: float
    upper: float
    rank_ub: int
    votes: int
    simulated: bool
    provisional: bool
    simulated_votes: int = 0


def _public_model_slugs(*, suite_id: int) -> set[str]:
    from leaderboard.selectors import submissions_public

    return set(submissions_public().filter(suite_id=suite_id).values_list("model__slug", flat=True))


def _latest_dimension(*, suite_id: int, dimension: str) -> DimensionSnapshot | None:
    return (
        DimensionSnapshot.objects.filter(suite_id=suite_id, dimension=dimension)
        .order_by("-computed_at", "-pk")
        .first()
    )


def ranking_snapshot_latest(*, suite_id: int) -> RankingSnapshot | None:
    return RankingSnapshot.objects.filter(suite_id=suite_id).order_by("-computed_at", "-pk").first()


def human_ratings_latest(*, suite_id: int, dimension: str = "overall") -> dict[str, HumanRating]:
    """The latest snapshot's human ratings of `dimension`, keyed by ModelEntry slug ({} before any snapshot)."""
    row = _latest_dimension(suite_id=suite_id, dimension=dimension)
    if row is None:
        return {}
    public = _public_model_slugs(suite_id=suite_id)
    return {
        entry["model"]: HumanRating(
            rating=entry["rating"],
            lower=entry["lower"],
            upper=entry["upper"],
            rank_ub=entry["rank_ub"],
            votes=entry["votes"],
            simulated=entry.get("simulated_votes", 0) > 0,
            provisional=entry["votes"] < PROVISIONAL_BELOW_VOTES,
            simulated_votes=entry.get("simulated_votes", 0),
        )
        for entry in row.ratings
        if entry["model"] in public
    }


def _correlation_dict(row: DimensionSnapshot) -> dict[str, Any]:
    return {
        "dimension": row.dimension,
        "spearman": row.spearman,
        "spearman_lower": row.spearman_lower,
        "spearman_upper": row.spearman_upper,
        "kendall": row.kendall,
        "kendall_lower": row.kendall_lower,
        "kendall_upper": row.kendall_upper,
        "pairwise_agreement": row.pairwise_agreement,
        "decided_pairs": row.decided_pairs,
        "separability": row.separability,
        "models": row.models_compared,
        "judgments": row.judgments,
        "simulated_judgments": row.simulated_judgments,
        "annotators": row.annotators,
        "prompts": row.prompts,
        "computed_at": row.computed_at,
        "simulated_share": round(row.simulated_share, 4),
    }


def correlation_latest(*, suite_id: int) -> list[dict[str, Any]]:
    """One dict per dimension of the latest snapshot (JUDGED_DIMENSIONS order): the correlation values, their
    95% bootstrap intervals and the counts behind them ([] before any snapshot)."""
    snapshot = ranking_snapshot_latest(suite_id=suite_id)
    if snapshot is None:
        return []
    rows = {row.dimension: row for row in snapshot.dimensions.all()}
    return [_correlation_dict(rows[d]) for d in JUDGED_DIMENSIONS if d in rows]


def correlation_history(*, suite_id: int, dimension: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """Every snapshot of one dimension, oldest first (the series to plot)."""
    rows = DimensionSnapshot.objects.filter(suite_id=suite_id, dimension=dimension)
    if since is not None:
        rows = rows.filter(computed_at__gte=since)
    return [_correlation_dict(row) for row in rows.order_by("computed_at", "pk").defer("ratings", "matrix", "automatic")]


def win_rate_matrix(*, suite_id: int, dimension: str) -> dict[str, Any]:
    """{"models": [slug, ...] (best first), "win_rate": [[share of i's battles against j won, ties half, or None]],
    "battles": [[count]]} of the latest snapshot, restricted to currently public models."""
    row = _latest_dimension(suite_id=suite_id, dimension=dimension)
    if row is None or not row.matrix.get("models"):
        return {"models": [], "win_rate": [], "battles": []}
    public = _public_model_slugs(suite_id=suite_id)
    keep = [k for k, m in enumerate(row.matrix["models"]) if m in public]
    return {
        "models": [row.matrix["models"][k] for k in keep],
        "win_rate": [[row.matrix["win_rate"][i][j] for j in keep] for i in keep],
        "battles": [[row.matrix["battles"][i][j] for j in keep] for i in keep],
    }


def weights_fit_latest(*, suite_id: int, dimension: str) -> dict[str, Any] | None:
    """The metric weights fitted to the latest snapshot's judgments, next to the default weights (or None)."""
    row = _latest_dimension(suite_id=suite_id, dimension=dimension)
    return None if row is None else row.weights_fit
