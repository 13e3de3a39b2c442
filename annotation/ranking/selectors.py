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


def correlation_latest(*, suite_id: int, include_weights_fit: bool = False) -> list[dict[str, Any]]:
    """One dict per dimension of the latest snapshot (JUDGED_DIMENSIONS order): the correlation values, their
    95% bootstrap intervals and the counts behind them ([] before any snapshot). With `include_weights_fit`
    each dict also carries "weights_fit" (metric weights fitted to the judgments, or None)."""
    snapshot = ranking_snapshot_latest(suite_id=suite_id)
    if snapshot is None:
        return []
    rows = {row.dimension: row for row in snapshot.dimensions.all()}
    result = []
    for dimension in JUDGED_DIMENSIONS:
        if dimension in rows:
            values = _correlation_dict(rows[dimension])
            if include_weights_fit:
                values["weights_fit"] = rows[dimension].weights_fit
            result.append(values)
    return result


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


def _clip_scores_for(clip_ids: set[int]) -> dict[int, Any]:
    """Each clip's stored result: the current engine's if there is one, else the latest."""
    from scoring import engine
    from scoring.models import ClipScore

    chosen: dict[int, Any] = {}
    for score in ClipScore.objects.filter(clip_id__in=clip_ids).order_by("created_at"):
        current = chosen.get(score.clip_id)
        if current is None or current.engine_version != engine.ENGINE_VERSION:
            chosen[score.clip_id] = score
    return chosen


def _automatic_clip_value(score: Any, status: str, dimension: str) -> float | None:
    from leaderboard.models import Clip

    if score is None:
        return 0.0 if status in (Clip.Status.FAILED, Clip.Status.MISSING) else None
    if dimension == "overall":
        return float(score.overall)
    value = (score.dimensions or {}).get(dimension)
    return None if value is None else float(value)


def disagreements(*, suite_id: int, dimension: str, limit: int = 20) -> list[dict[str, Any]]:
    """Clip pairs (same prompt, two public models) where the automatic score contradicts the human majority most.

    Strength = human margin (2 * share - 1) times the automatic margin the other way (see
    annotation.stats.correlation.disagreement); each item carries both clips with their metric evidence.
    """
    from annotation.selectors import judgments_counted
    from annotation.stats import correlation
    from leaderboard.models import Clip
    from leaderboard.selectors import submissions_public
    from scoring.engine import catalog

    public = submissions_public().filter(suite_id=suite_id).values("pk")
    rows = judgments_counted().filter(
        clip_a__prompt__suite_id=suite_id,
        clip_a__submission__in=public,
        clip_b__submission__in=public,
        dimension=dimension,
    ).values_list("clip_a_id", "clip_b_id", "outcome", "is_simulated")
    tally: dict[tuple[int, int], list[float]] = {}
    for clip_a, clip_b, outcome, simulated in rows:
        x, y = min(clip_a, clip_b), max(clip_a, clip_b)
        score_a = 1.0 if outcome == "a" else 0.0 if outcome == "b" else 0.5
        entry = tally.setdefault((x, y), [0.0, 0.0, 0.0])  # votes, share of x, simulated votes
        entry[0] += 1
        entry[1] += score_a if clip_a == x else 1.0 - score_a
        entry[2] += 1 if simulated else 0
    if not tally:
        return []
    clip_ids = {c for pair in tally for c in pair}
    clips = {
        clip.pk: clip
        for clip in Clip.objects.filter(pk__in=clip_ids).select_related("submission__model", "prompt")
    }
    scores = _clip_scores_for(clip_ids)
    ranked = []
    for (x, y), (votes, x_wins, simulated_votes) in tally.items():
        sx = _automatic_clip_value(scores.get(x), clips[x].status, dimension)
        sy = _automatic_clip_value(scores.get(y), clips[y].status, dimension)
        if sx is None or sy is None:
            continue
        verdict = correlation.PairVerdict(
            prompt=clips[x].prompt.prompt_id, model_x=str(x), model_y=str(y), votes=int(votes), weight=votes,
            x_share=x_wins / votes,
        )
        strength = correlation.disagreement(verdict, sx, sy)
        if strength > 0:
            ranked.append((strength, verdict, x, y, sx, sy, int(simulated_votes)))
    ranked.sort(key=lambda item: (-item[0], -item[1].votes, item[2], item[3]))
    metric_names = (
        {spec.name for spec in catalog.METRICS} if dimension == "overall"
        else {spec.name for spec in catalog.metrics_of(dimension)}
    )

    def side(clip_id: int, automatic: float, human_share: float) -> dict[str, Any]:
        clip = clips[clip_id]
        score = scores.get(clip_id)
        metrics = []
        if score is not None:
            metrics = [
                {"name": m.name, "dimension": m.dimension, "value": m.value, "status": m.status, "tool": m.tool,
                 "version": m.version, "reason": m.reason}
                for m in score.metrics.all() if m.name in metric_names
            ]
        return {
            "clip_id": clip_id,
            "model": clip.submission.model.slug,
            "model_name": clip.submission.model.name,
            "status": clip.status,
            "has_file": bool(clip.file),
            "automatic": automatic,
            "human_share": human_share,
            "flags": list(score.flags) if score is not None else [],
            "metrics": metrics,
        }

    result = []
    for strength, verdict, x, y, sx, sy, simulated_votes in ranked[:limit]:
        left, right = side(x, sx, verdict.x_share), side(y, sy, 1.0 - verdict.x_share)
        by_name = {m["name"]: m for m in right["metrics"]}
        names = sorted({m["name"] for m in left["metrics"]} | set(by_name))
        left_by_name = {m["name"]: m for m in left["metrics"]}
        evidence = []
        for name in names:
            lv = left_by_name.get(name, {}).get("value")
            rv = by_name.get(name, {}).get("value")
            evidence.append({
                "name": name,
                "left": left_by_name.get(name),
                "right": by_name.get(name),
                # the metrics that side with the human majority are the ones the engine under-weighs
                "sides_with_people": None if lv is None or rv is None or lv == rv
                else (lv > rv) == (verdict.x_share > 0.5),
                "gap": None if lv is None or rv is None else abs(lv - rv),
            })
        result.append({
            "prompt": verdict.prompt,
            "strength": round(strength, 4),
            "votes": verdict.votes,
            "simulated_votes": simulated_votes,
            "human_majority": "left" if verdict.x_share > 0.5 else "right",
            "left": left,
            "right": right,
            "evidence": evidence,
        })
    return result
