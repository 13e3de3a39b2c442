from django.contrib import admin

from scoring.models import ClipScore, MetricScore, SubmissionScore


class MetricInline(admin.TabularInline):
    model = MetricScore
    extra = 0
    readonly_fields = ["name", "dimension", "value", "status", "tool", "version", "raw", "reason"]


@admin.register(ClipScore)
class ClipScoreAdmin(admin.ModelAdmin):
    list_display = ["clip", "engine_version", "overall", "created_at"]
    list_filter = ["engine_version"]
    inlines = [MetricInline]


@admin.register(SubmissionScore)
class SubmissionScoreAdmin(admin.ModelAdmin):
    list_display = ["submission", "engine_version", "overall", "prompts_scored", "prompts_total"]
