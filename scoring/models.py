"""Stored results of the engine: per clip, per metric, and per submission."""

from __future__ import annotations

from django.db import models

from leaderboard.models import Clip, Submission


class ClipScore(models.Model):
    """The engine's result for one clip; one per (clip, engine version), so re-scoring is idempotent."""

    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="scores")
    engine_version = models.CharField(max_length=20)
    overall = models.FloatField()
    dimensions = models.JSONField(help_text="dimension -> score in [0, 1], or null when not measured")
    evidence = models.JSONField()
    missing = models.JSONField(default=list, help_text="metrics not measured, left out of the aggregate")
    flags = models.JSONField(default=list)
    timings = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clip", "engine_version"], name="one_score_per_clip_and_engine")
        ]


class MetricScore(models.Model):
    """One metric of one clip: its value, whether it was measured, and the tool that measured it."""

    class Status(models.TextChoices):
        MEASURED = "measured"
        NOT_MEASURED = "not_measured"
        FAILED = "failed"

    clip_score = models.ForeignKey(ClipScore, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=50)
    dimension = models.CharField(max_length=20)
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=15, choices=Status.choices)
    tool = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    raw = models.JSONField(null=True, blank=True, help_text="the measurement before mapping to [0, 1]")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["dimension", "name"]
        constraints = [models.UniqueConstraint(fields=["clip_score", "name"], name="one_value_per_metric")]


class SubmissionScore(models.Model):
    """A submission's aggregate for one engine version: dimensions, overall and breakdowns."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="scores")
    engine_version = models.CharField(max_length=20)
    overall = models.FloatField()
    dimensions = models.JSONField()
    breakdowns = models.JSONField(help_text="axis (genre, shot_bucket, ...) -> value -> scores")
    prompts_total = models.PositiveIntegerField()
    prompts_scored = models.PositiveIntegerField()
    failed_prompts = models.JSONField(default=list, help_text="prompt ids counted as failed generations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "engine_version"], name="one_aggregate_per_submission_and_engine"
            )
        ]
