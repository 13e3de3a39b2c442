"""Snapshots of the human ranking and of the automatic-vs-human correlation, and the debounce state of recomputation."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from leaderboard.models import Suite


class RecomputeState(models.Model):
    """One row per suite: whether its ranking is stale ("dirty since") and whether a recomputation is queued.

    A burst of requests sets `dirty_since` once and queues one task (`scheduled_for` set); the task
    clears both before it computes, so a request arriving during the computation queues exactly one more.
    """

    suite = models.OneToOneField(Suite, on_delete=models.CASCADE, related_name="+")
    dirty_since = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="when the queued task is due")
    requests = models.PositiveBigIntegerField(default=0, help_text="requests received in total")
    last_reason = models.CharField(max_length=200, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"recompute state of suite {self.suite_id}"


class RankingSnapshot(models.Model):
    """One recomputation of a suite: when, why, over how many judgments, and how long it took."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="ranking_snapshots")
    computed_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)
    input_fingerprint = models.CharField(
        max_length=64, help_text="hash of the counted judgments and public scores it was computed from"
    )
    judgments = models.PositiveIntegerField(default=0)
    simulated_judgments = models.PositiveIntegerField(default=0)
    bootstrap_rounds = models.PositiveIntegerField(default=0)
    weighted_by_reliability = models.BooleanField(default=False)
    duration_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        indexes = [models.Index(fields=["suite", "-computed_at"], name="ranking_snapshot_suite_time")]

    def __str__(self) -> str:
        return f"ranking of suite {self.suite_id} at {self.computed_at:%Y-%m-%d %H:%M:%S}"


class DimensionSnapshot(models.Model):
    """The human ranking of one dimension ("overall" or a judged dimension) and its correlation with the engine.

    `ratings`: [{"model": slug, "rating", "lower", "upper", "rank_ub", "votes", "simulated_votes",
    "sandwich_lower", "sandwich_upper"}], best first. `matrix`: {"models", "win_rate", "battles"}.
    `automatic`: {slug: automatic score of the model's public submission}. Correlation fields are null
    when fewer than 3 models have both a human rating and an automatic score.
    """

    snapshot = models.ForeignKey(RankingSnapshot, on_delete=models.CASCADE, related_name="dimensions")
    # Denormalised from the snapshot so a dimension's history is one indexed query.
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()
    dimension = models.CharField(max_length=20)
    judgments = models.PositiveIntegerField(default=0)
    simulated_judgments = models.PositiveIntegerField(default=0)
    annotators = models.PositiveIntegerField(default=0)
    prompts = models.PositiveIntegerField(default=0)
    ratings = models.JSONField(default=list)
    matrix = models.JSONField(default=dict)
    automatic = models.JSONField(default=dict)
    models_compared = models.PositiveSmallIntegerField(default=0, help_text="models with both rankings")
    spearman = models.FloatField(null=True, blank=True)
    spearman_lower = models.FloatField(null=True, blank=True)
    spearman_upper = models.FloatField(null=True, blank=True)
    kendall = models.FloatField(null=True, blank=True)
    kendall_lower = models.FloatField(null=True, blank=True)
    kendall_upper = models.FloatField(null=True, blank=True)
    pairwise_agreement = models.FloatField(null=True, blank=True)
    decided_pairs = models.PositiveIntegerField(default=0, help_text="clip pairs with a human majority")
    separability = models.FloatField(null=True, blank=True)
    weights_fit = models.JSONField(null=True, blank=True, help_text="metric weights fitted to these judgments")

    class Meta:
        ordering = ["-computed_at", "dimension"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "dimension"], name="one_dimension_row_per_snapshot")
        ]
        indexes = [models.Index(fields=["suite", "dimension", "-computed_at"], name="ranking_dimension_history")]

    def __str__(self) -> str:
        return f"{self.dimension} of {self.snapshot}"

    @property
    def simulated_share(self) -> float:
        return self.simulated_judgments / self.judgments if self.judgments else 0.0
