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
    name = models.CharField(max_length=100)
    dimension = models.CharField(max_length=20)
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=15, choices=Status.choices)
    # Tool and version strings name every package a measurement used (e.g. the engine, PyAV, numpy,
    # an expert model and its runtime): unbounded text, not a short label.
    tool = models.TextField()
    version = models.TextField()
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


class ClipAttempt(models.Model):
    """One try at scoring one clip: which worker ran it, how it ended and why (the clip's audit trail).

    A clip scored once has one `scored` attempt; a retried, timed-out or lost try leaves its own row,
    so the submission page and the proof tests can see every try, not only the last state.
    """

    class Outcome(models.TextChoices):
        RUNNING = "running"
        SCORED = "scored"
        DUPLICATE = "duplicate", "duplicate (result already stored)"
        FAILED = "failed", "failed generation"
        RETRY = "retry", "transient error, retried"
        TIME_LIMIT = "time_limit", "over the time limit"
        MEMORY_LIMIT = "memory_limit", "over the memory limit"
        LOST = "lost", "worker lost, re-queued"

    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="scoring_attempts")
    engine_version = models.CharField(max_length=20)
    task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host and process id")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=15, choices=Outcome.choices, default=Outcome.RUNNING)
    reason = models.TextField(blank=True)
    peak_rss_mb = models.FloatField(null=True, blank=True, help_text="the worker process's peak resident memory")

    class Meta:
        ordering = ["clip", "started_at", "pk"]
        indexes = [models.Index(fields=["clip", "engine_version"])]


class Rescore(models.Model):
    """A re-scoring of a scored submission with a newer engine version.

    The submission keeps its older aggregate (and stays on the leaderboard with it) until every clip
    is settled under the new version; only then is the new aggregate written and this row finished.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="rescores")
    engine_version = models.CharField(max_length=20)
    from_engine_version = models.CharField(max_length=20, blank=True)
    clips_total = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "engine_version"], name="one_rescore_per_submission_and_engine")
        ]
