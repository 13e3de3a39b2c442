from django.contrib import admin

from leaderboard.models import (
    ApiToken,
    Clip,
    ModelEntry,
    Prompt,
    ReferenceAsset,
    RubricQuestion,
    Shot,
    Submission,
    Suite,
    UploadSession,
)


class ShotInline(admin.TabularInline):
    model = Shot
    extra = 0


class ReferenceInline(admin.TabularInline):
    model = ReferenceAsset
    extra = 0


class RubricInline(admin.TabularInline):
    model = RubricQuestion
    extra = 0


@admin.register(Suite)
class SuiteAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "imported_at", "content_hash"]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["prompt_id", "suite", "category", "style", "shot_count", "subject_realism", "scene_realism"]
    list_filter = ["suite", "category", "subject_realism", "scene_realism"]
    inlines = [ShotInline, ReferenceInline, RubricInline]


@admin.register(ModelEntry)
class ModelEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "is_open", "paradigm", "task", "owner"]
    prepopulated_fields = {"slug": ["name"]}


class ClipInline(admin.TabularInline):
    model = Clip
    extra = 0
    fields = ["prompt", "status", "status_reason", "attempts", "member_name", "size_bytes"]
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["pk", "model", "suite", "state", "is_public", "hidden_at", "withdrawn_at", "created_at", "scored_at"]
    list_filter = ["state", "suite", "is_public", "failed_by_infrastructure"]
    readonly_fields = ["report", "archive", "archive_size", "state", "state_reason"]
    inlines = [ClipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked here (set "revoked at"); their keys were never stored."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "model", "suite", "filename", "received", "total_size", "state", "updated_at"]
    list_filter = ["state"]
    readonly_fields = ["owner", "model", "suite", "filename", "total_size", "sha256", "received", "submission"]
