"""Pairwise human judgments: two clips of the same prompt, which is better on one dimension."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from leaderboard.models import Clip

JUDGED_DIMENSIONS = ("overall", "video", "audio", "shot", "reference", "sync")


class Judgment(models.Model):
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

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(clip_a=F("clip_b")), name="judgment_two_different_clips"),
            models.UniqueConstraint(
                fields=["annotator", "clip_a", "clip_b", "dimension"], name="one_judgment_per_annotator_pair_dimension"
            ),
        ]
