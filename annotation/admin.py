"""Admin for the annotation app (curators normally use /curate/campaigns/)."""
from django.contrib import admin

from annotation.models import Campaign, CampaignMember, Judgment, Pair, QcAnswer, Task


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["annotator", "clip_a", "clip_b", "dimension", "outcome", "campaign", "is_simulated", "created_at"]
    list_filter = ["dimension", "outcome", "is_simulated", "campaign"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "suite", "overlap", "gold_rate", "attention_rate", "daily_limit", "enrollment", "is_active"]
    filter_horizontal = ["entries"]


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "campaign", "status", "anomaly_p_value", "anomaly_flagged_at"]
    list_filter = ["campaign", "status"]


@admin.register(Pair)
class PairAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "prompt", "kind", "model_x", "model_y"]
    list_filter = ["campaign", "kind"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["public_id", "campaign", "annotator", "kind", "state", "served_at", "finished_at"]
    list_filter = ["campaign", "kind", "state"]


@admin.register(QcAnswer)
class QcAnswerAdmin(admin.ModelAdmin):
    list_display = ["task", "annotator", "dimension", "outcome", "expected", "correct"]
