"""Pairwise human judgments: campaigns, the pairs they ask about, assignment of tasks, and quality control.

Overlap and "never the same pair twice" are database invariants (see PairSlot and Task constraints):
each regular pair has exactly `overlap` slot rows, a slot carries at most one live task, and a task is
unique per (pair, annotator). Assignment locks slot rows with SELECT ... FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from leaderboard.models import Clip, ModelEntry, Prompt, Suite

JUDGED_DIMENSIONS = ("overall", "video", "audio", "shot", "reference", "sync")

DEFAULT_GUIDELINES = {
    "overall": "Which clip is the better film for this script, all things considered?",
    "video": "Picture quality only: sharpness, noise, exposure, flicker, artefacts.",
    "audio": "Sound quality only: clarity, loudness, clipping, noise, fitting sound where the script asks for it.",
    "shot": "Shot structure: does the clip cut into the scripted shots, at the scripted times, with the scripted transitions?",
    "reference": "Reference consistency: do characters, voices and objects match the reference images and voices?",
    "sync": "Audio-visual sync: do sounds and speech happen exactly when their visible causes do?",
}


def media_token() -> str:
    """An unguessable id under which one side of one task is served (never reused across tasks)."""
    return secrets.token_urlsafe(18)


def random_order_key() -> int:
    return secrets.randbelow(2**31 - 1)


class Campaign(models.Model):
    """A human study over one suite: which models, which questions, how many annotators per pair, QC rates."""

    class Enrollment(models.TextChoices):
        INVITE = "invite", "by invitation"
        OPEN = "open", "open sign-up"

    name = models.CharField(max_length=120, unique=True)
    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="campaigns")
    entries = models.ManyToManyField(ModelEntry, related_name="campaigns", help_text="the models compared")
    # [{"dimension": "overall", "guideline": "..."}, ...] in the order they are asked.
    dimensions = models.JSONField()
    overlap = models.PositiveSmallIntegerField(default=3, help_text="annotators per pair")
    gold_rate = models.FloatField(default=0.1, help_text="share of tasks that are gold pairs")
    attention_rate = models.FloatField(default=0.05, help_text="share of tasks that are attention checks")
    daily_limit = models.PositiveIntegerField(default=200, help_text="tasks per annotator per UTC day")
    enrollment = models.CharField(max_length=10, choices=Enrollment.choices, default=Enrollment.INVITE)
    lock_ttl_s = models.PositiveIntegerField(default=900, help_text="seconds a served task stays reserved")
    min_watch_ratio = models.FloatField(
        default=1.0, help_text="share of the clips' duration that must have been played before voting"
    )
    gold_warn_below = models.FloatField(default=0.8)
    gold_suspend_below = models.FloatField(default=0.6)
    gold_min_answers = models.PositiveSmallIntegerField(default=5, help_text="gold answers before warn/suspend")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    pairs_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="campaign_overlap_positive"),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(attention_rate__gte=0) & Q(gold_rate__lte=0.5)
                & Q(attention_rate__lte=0.5),
                name="campaign_qc_rates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def dimension_names(self) -> list[str]:
        return [entry["dimension"] for entry in self.dimensions]


class CampaignMember(models.Model):
    """An annotator's place in a campaign: invited, active, warned or suspended (by gold accuracy or a curator)."""

    class Status(models.TextChoices):
        INVITED = "invited"
        ACTIVE = "active"
        WARNED = "warned"
        SUSPENDED = "suspended"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_memberships")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    # The anomaly test's checkpoints (vote counts), drawn at random once and kept server-side.
    anomaly_checkpoints = models.JSONField(default=list, blank=True)
    anomaly_p_value = models.FloatField(null=True, blank=True)
    anomaly_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="one_membership_per_campaign")]

    def __str__(self) -> str:
        return f"{self.user} in {self.campaign} ({self.status})"


class Pair(models.Model):
    """Two clips of one prompt. Regular pairs come from two models; gold and attention pairs put a real clip
    beside a copy the platform degraded (gold: blur, noise, audio offset; attention: blank picture, silence)."""

    class Kind(models.TextChoices):
        REGULAR = "regular"
        GOLD = "gold"
        ATTENTION = "attention"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pairs")
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    clip_x = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    clip_y = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    # Gold/attention only: the degraded copy of clip_x (side y), and which side should win per dimension.
    degraded_file = models.FileField(upload_to="annotation/qc/", max_length=400, blank=True)
    expected = models.JSONField(default=dict, blank=True, help_text='{"overall": "x", ...} for gold/attention')
    # Regular pairs: the two models (low id first), kept here so sampling needs no joins.
    model_x = models.ForeignKey(ModelEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    model_y = models.ForeignKey(ModelEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "clip_x", "clip_y"], condition=Q(kind="regular"), name="regular_pair_unique"
            ),
            models.UniqueConstraint(
                fields=["campaign", "clip_x", "kind"], condition=~Q(kind="regular"), name="qc_pair_unique_per_clip"
            ),
            models.CheckConstraint(
                condition=~Q(kind="regular") | (Q(clip_y__isnull=False) & Q(model_x__lt=F("model_y"))),
                name="regular_pair_two_models_ordered",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "kind"])]


class PairSlot(models.Model):
    """One of a regular pair's `overlap` places; assignment locks these rows (FOR UPDATE SKIP LOCKED)."""

    class State(models.TextChoices):
        OPEN = "open"
        LOCKED = "locked"
        DONE = "done"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="slots")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=6, choices=State.choices, default=State.OPEN)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_until = models.DateTimeField(null=True, blank=True)
    # A random tie-break fixed at creation: concurrent requests start at different rows, cheaply.
    order_key = models.IntegerField(default=random_order_key)
    # The pair's two models, copied here so that taking a slot of the sampled model pair is one index scan.
    model_x = models.ForeignKey(ModelEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    model_y = models.ForeignKey(ModelEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "index"], name="one_slot_per_pair_index")]
        indexes = [
            models.Index(fields=["campaign", "state", "index", "order_key"]),
            models.Index(fields=["campaign", "model_x", "model_y", "index", "order_key"], name="slot_model_pair_order"),
        ]


class Task(models.Model):
    """A pair served to one annotator, with the sides as shown; the browser only ever sees `public_id` and
    the two media tokens."""

    class State(models.TextChoices):
        ACTIVE = "active"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        EXPIRED = "expired"

    class SkipReason(models.TextChoices):
        BROKEN_CLIP = "broken_clip", "a clip is broken (does not play, no sound, corrupt)"
        CANNOT_JUDGE = "cannot_judge", "I cannot judge this pair"
        OTHER = "other", "other"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="tasks")
    slot = models.ForeignKey(PairSlot, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotation_tasks")
    kind = models.CharField(max_length=10, choices=Pair.Kind.choices)
    # The shown order: True when pair.clip_x is side A (left), False when it is side B.
    x_is_a = models.BooleanField()
    media_a = models.CharField(max_length=32, unique=True, default=media_token)
    media_b = models.CharField(max_length=32, unique=True, default=media_token)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    skip_comment = models.TextField(blank=True)
    served_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    client_elapsed_ms = models.PositiveIntegerField(null=True, blank=True, help_text="time on the page (browser)")
    server_elapsed_ms = models.PositiveIntegerField(null=True, blank=True, help_text="served -> submitted (server)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "annotator"], name="annotator_sees_pair_once"),
            models.UniqueConstraint(
                fields=["slot"], condition=Q(state__in=["active", "submitted"]), name="one_live_task_per_slot"
            ),
            models.UniqueConstraint(
                fields=["campaign", "annotator"], condition=Q(state="active"), name="one_active_task_per_annotator"
            ),
        ]
        indexes = [models.Index(fields=["annotator", "state", "finished_at"])]


class Judgment(models.Model):
    """One annotator's verdict on one dimension of a pair; clip_a is the clip shown as A."""

    class Outcome(models.TextChoices):
        A = "a", "A better"
        B = "b", "B better"
        BOTH_GOOD = "both_good", "both good"
        BOTH_BAD = "both_bad", "both bad"

    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    clip_a = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    clip_b = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(max_length=20, choices=[(d, d) for d in JUDGED_DIMENSIONS])
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    comment = models.TextField(blank=True)
    is_simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Null for simulated or imported judgments, which have no campaign task.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="judgments")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="judgments")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(clip_a=F("clip_b")), name="judgment_two_different_clips"),
            models.UniqueConstraint(
                fields=["annotator", "clip_a", "clip_b", "dimension"], name="one_judgment_per_annotator_pair_dimension"
            ),
            models.UniqueConstraint(
                fields=["task", "dimension"], condition=Q(task__isnull=False), name="one_judgment_per_task_dimension"
            ),
        ]


class QcAnswer(models.Model):
    """An answer to a gold or attention item: kept apart from Judgment so it never reaches the rankings."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="qc_answers")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=20)
    outcome = models.CharField(max_length=10, choices=Judgment.Outcome.choices)
    expected = models.CharField(max_length=1, help_text="a or b: the side that should win")
    correct = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "dimension"], name="one_qc_answer_per_task_dimension")]
