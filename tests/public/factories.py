"""Builders for the public-leaderboard tests: published submissions with per-clip results, human-ranking snapshots.

Clip results are stored as the engine stores them (ClipScore rows) and aggregated by the real
aggregation (scoring.services.submission_aggregate), so slices and breakdowns are the platform's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from leaderboard.models import Clip, ModelEntry, Submission, Suite
from scoring import engine
from scoring.engine.catalog import DIMENSIONS
from scoring.models import ClipScore, SubmissionScore
from scoring.services import submission_aggregate


def model(slug: str, **fields: Any) -> ModelEntry:
    defaults = {"name": slug.replace("-", " ").title(), "organisation": f"{slug} lab", "is_open": False, "paradigm": "joint", "task": "T2AV"}
    defaults.update(fields)
    return ModelEntry.objects.create(slug=slug, **defaults)


def scored_submission(
    suite: Suite,
    entry: ModelEntry,
    scores: dict[str, float | None],
    *,
    dims: dict[str, dict[str, float | None]] | None = None,
    public: bool = True,
    engine_version: str = engine.ENGINE_VERSION,
    scored_at: datetime | None = None,
) -> Submission:
    """A scored submission of `entry`: prompt id -> the clip's overall score (None: a failed generation).

    A prompt of the suite left out of `scores` gets a missing clip. Dimension scores default to the
    overall score on video, audio and shot (reference and sync not measured), or come from `dims`.
    """
    now = scored_at or timezone.now()
    submission = Submission.objects.create(
        model=entry, suite=suite, archive="x.zip", archive_name="x.zip", state=Submission.State.SCORED,
        is_public=public, published_at=now if public else None, scored_at=now,
    )
    for prompt in suite.prompts.all():
        value = scores.get(prompt.prompt_id, "missing")
        if value == "missing":
            Clip.objects.create(submission=submission, prompt=prompt, status=Clip.Status.MISSING, status_reason="no clip in the archive")
            continue
        if value is None:
            Clip.objects.create(submission=submission, prompt=prompt, status=Clip.Status.FAILED, status_reason="does not decode")
            continue
        clip = Clip.objects.create(submission=submission, prompt=prompt, status=Clip.Status.SCORED)
        dimensions = (dims or {}).get(prompt.prompt_id) or {"video": value, "audio": value, "shot": value, "reference": None, "sync": None}
        ClipScore.objects.create(
            clip=clip, engine_version=engine_version, overall=value,
            dimensions={d: dimensions.get(d) for d in DIMENSIONS}, evidence={}, missing=[], flags=[],
        )
    if engine_version == engine.ENGINE_VERSION:
        submission_aggregate(submission=submission)
    else:
        SubmissionScore.objects.create(
            submission=submission, engine_version=engine_version,
            overall=sum(v or 0.0 for v in scores.values()) / max(1, suite.prompts.count()),
            dimensions={d: None for d in DIMENSIONS}, breakdowns={}, prompts_total=suite.prompts.count(),
            prompts_scored=sum(1 for v in scores.values() if v is not None),
        )
    return submission


def human_snapshot(
    suite: Suite,
    ratings: dict[str, tuple[float, float, float, int]],
    *,
    dimension: str = "overall",
    simulated_votes: int = 0,
    spearman: float = 0.8,
    computed_at: datetime | None = None,
) -> Any:
    """A stored human-ranking snapshot (the ranking area's models): slug -> (rating, lower, upper, votes)."""
    from annotation.ranking.models import DimensionSnapshot, RankingSnapshot

    at = computed_at or timezone.now()
    snapshot = RankingSnapshot.objects.create(suite=suite, computed_at=at, input_fingerprint="test", judgments=sum(r[3] for r in ratings.values()))
    ordered = sorted(ratings.items(), key=lambda item: -item[1][0])
    slugs = [slug for slug, _ in ordered]
    rows = [
        {"model": slug, "rating": r, "lower": lo, "upper": hi, "rank_ub": 1 + sum(1 for _, o in ordered if o[1] > hi),
         "votes": votes, "simulated_votes": simulated_votes}
        for slug, (r, lo, hi, votes) in ordered
    ]
    n = len(slugs)
    win_rate = [[None if i == j else (0.7 if i < j else 0.3) for j in range(n)] for i in range(n)]
    battles = [[0 if i == j else 20 for j in range(n)] for i in range(n)]
    return DimensionSnapshot.objects.create(
        snapshot=snapshot, suite=suite, computed_at=at, dimension=dimension,
        judgments=snapshot.judgments, simulated_judgments=simulated_votes * n, annotators=3, prompts=suite.prompts.count(),
        ratings=rows, matrix={"models": slugs, "win_rate": win_rate, "battles": battles},
        models_compared=n, spearman=spearman, spearman_lower=spearman - 0.2, spearman_upper=min(1.0, spearman + 0.1),
        kendall=spearman - 0.1, kendall_lower=spearman - 0.35, kendall_upper=min(1.0, spearman),
        pairwise_agreement=0.75, separability=0.5,
    )


def hours_ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)
