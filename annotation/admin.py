from django.contrib import admin

from annotation.models import Judgment


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["annotator", "clip_a", "clip_b", "dimension", "outcome", "is_simulated", "created_at"]
    list_filter = ["dimension", "outcome", "is_simulated"]
