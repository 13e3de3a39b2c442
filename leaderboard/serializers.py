"""REST API shapes for researchers: models, submissions, resumable uploads, the caller. Thin: no logic."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leaderboard import researcher_selectors, selectors
from leaderboard.models import ModelEntry, Submission, UploadSession


class ModelEntrySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, read_only=True)
    url_page = serializers.SerializerMethodField(help_text="the model's page in the browser")

    class Meta:
        model = ModelEntry
        fields = [
            "name", "slug", "organisation", "url", "license", "is_open", "paradigm", "task", "description",
            "owner", "created_at", "url_page",
        ]

    def get_url_page(self, entry: ModelEntry) -> str:
        return reverse("researchers:model_detail", args=[entry.slug])


class ModelEntryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    url = serializers.URLField(required=False, allow_blank=True, default="")
    license = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_open = serializers.BooleanField(required=False, default=False, help_text="open weights")
    paradigm = serializers.ChoiceField(choices=ModelEntry.Paradigm.choices, default=ModelEntry.Paradigm.JOINT)
    task = serializers.ChoiceField(choices=ModelEntry.Task.choices, default=ModelEntry.Task.T2AV)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ModelEntryUpdateSerializer(serializers.Serializer):
    """Every field but the name, which identifies the model in rankings and stays as registered."""

    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    url = serializers.URLField(required=False, allow_blank=True)
    license = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_open = serializers.BooleanField(required=False)
    paradigm = serializers.ChoiceField(choices=ModelEntry.Paradigm.choices, required=False)
    task = serializers.ChoiceField(choices=ModelEntry.Task.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class SubmissionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug", read_only=True)
    model_name = serializers.CharField(source="model.name", read_only=True)
    suite = serializers.CharField(source="suite.name", read_only=True)
    suite_version = serializers.CharField(source="suite.version", read_only=True)
    visibility = serializers.SerializerMethodField(
        help_text="private, published (shown once scored), public, hidden (by a curator) or withdrawn"
    )
    hidden_reason = serializers.SerializerMethodField(help_text="why a curator hid it (owner and curators only)")
    url_page = serializers.SerializerMethodField(help_text="the live submission page in the browser")

    class Meta:
        model = Submission
        fields = [
            "id", "model", "model_name", "suite", "suite_version", "state", "state_reason", "visibility",
            "is_public", "published_at", "hidden_reason", "withdrawn_at", "failed_by_infrastructure",
            "archive_name", "archive_size", "created_at", "updated_at", "scored_at", "url_page",
        ]

    def get_visibility(self, submission: Submission) -> str:
        return researcher_selectors.submission_visibility(submission)

    def get_hidden_reason(self, submission: Submission) -> str | None:
        user = self.context["request"].user
        if submission.hidden_at is None or not (user.is_staff or submission.owner_id == user.pk):
            return None
        return submission.hidden_reason

    def get_url_page(self, submission: Submission) -> str:
        return reverse("leaderboard:submission", args=[submission.pk])


class ClipReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prompt = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    overall = serializers.FloatField(allow_null=True)


class RefusedMemberSerializer(serializers.Serializer):
    member_name = serializers.CharField()
    reason = serializers.CharField()


class SubmissionScoresSerializer(serializers.Serializer):
    engine_version = serializers.CharField()
    overall = serializers.FloatField()
    dimensions = serializers.DictField(child=serializers.FloatField(allow_null=True))
    failed_prompts = serializers.ListField(child=serializers.CharField())


class SubmissionProgressSerializer(serializers.Serializer):
    clips_total = serializers.IntegerField()
    clips_done = serializers.IntegerField()
    clips = ClipReportSerializer(many=True, help_text="one per prompt: status and the reason it failed")
    refused = RefusedMemberSerializer(many=True, help_text="archive members refused, each with the reason")
    ignored = serializers.ListField(child=serializers.CharField())
    scores = SubmissionScoresSerializer(allow_null=True, help_text="set once scored")


class SubmissionDetailSerializer(SubmissionSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "progress"]

    @extend_schema_field(SubmissionProgressSerializer)
    def get_progress(self, submission: Submission) -> dict[str, Any]:
        progress = selectors.submission_progress(submission=submission)
        return {key: progress[key] for key in ("clips_total", "clips_done", "clips", "refused", "ignored", "scores")}


class SubmissionCreateSerializer(serializers.Serializer):
    archive = serializers.FileField(help_text="a .zip or .tar.gz with one <prompt id>.mp4/.mov/.mkv/.webm per prompt")
    model = serializers.CharField(help_text="the model's slug or name (one of your models)")
    suite = serializers.CharField(help_text="the suite's name")
    suite_version = serializers.CharField(required=False, allow_blank=True, help_text="default: the latest version")
    publish = serializers.BooleanField(
        required=False, default=False, help_text="show it on the public leaderboard once scored (default: private)"
    )


class UploadCreateSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255, help_text="the archive's file name (.zip or .tar.gz)")
    total_size = serializers.IntegerField(min_value=1, help_text="the archive's size in bytes")
    sha256 = serializers.CharField(min_length=64, max_length=64, help_text="sha256 hex of the whole archive")
    model = serializers.CharField(help_text="the model's slug or name (one of your models)")
    suite = serializers.CharField(help_text="the suite's name")
    suite_version = serializers.CharField(required=False, allow_blank=True, help_text="default: the latest version")
    publish = serializers.BooleanField(required=False, default=False)


class UploadSerializer(serializers.ModelSerializer):
    offset = serializers.IntegerField(source="received", help_text="bytes received: send the next chunk from here")
    model = serializers.CharField(source="model.slug")
    suite = serializers.CharField(source="suite.name")
    suite_version = serializers.CharField(source="suite.version")
    state = serializers.CharField(help_text="open (receiving chunks), complete (a submission) or aborted")
    chunk_max_bytes = serializers.SerializerMethodField()

    class Meta:
        model = UploadSession
        fields = [
            "id", "filename", "total_size", "offset", "sha256", "state", "model", "suite", "suite_version",
            "publish", "submission", "created_at", "updated_at", "chunk_max_bytes",
        ]

    def get_chunk_max_bytes(self, session: UploadSession) -> int:
        return int(settings.MSAV_UPLOAD_CHUNK_MAX_BYTES)


class HideSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="why the submission is hidden; shown to its owner")


class QuotaSerializer(serializers.Serializer):
    suite = serializers.CharField()
    suite_version = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField()
    resets_at = serializers.DateTimeField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    models = serializers.ListField(child=serializers.CharField(), help_text="slugs of your models")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
    extra = serializers.DictField()
