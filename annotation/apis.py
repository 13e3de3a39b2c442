"""REST API for annotators: get (or resume) the next task, submit its judgments, skip it. Thin over services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import queries, selectors, services
from annotation.models import Campaign, Task
from config.exceptions import ApplicationError
from leaderboard.serializers import MessageSerializer

ERRORS = {
    400: OpenApiResponse(MessageSerializer, description="refused: the message says what, where and why"),
    401: OpenApiResponse(MessageSerializer, description="not logged in / no token"),
    403: OpenApiResponse(MessageSerializer, description="not an annotator, not a member, or suspended"),
    404: OpenApiResponse(MessageSerializer, description="no such campaign or task of yours"),
    409: OpenApiResponse(MessageSerializer, description="the task expired, was skipped, or the campaign is closed"),
    429: OpenApiResponse(MessageSerializer, description="the campaign's daily limit is reached"),
}


class TaskShotSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    caption = serializers.CharField()
    shot_scale = serializers.CharField()
    camera_angle = serializers.CharField()
    camera_motion = serializers.CharField()
    transition_in = serializers.CharField()
    audio = serializers.CharField()
    on_screen_text = serializers.CharField()


class AnnotationTaskSerializer(serializers.Serializer):
    """A task as the annotator sees it: never a model, submission, clip or pair id."""

    id = serializers.UUIDField()
    campaign = inline_serializer("TaskCampaign", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    expires_at = serializers.DateTimeField()
    required_watch_s = serializers.FloatField(help_text="seconds from serving before votes are accepted")
    prompt = inline_serializer(
        "TaskPrompt",
        {
            "id": serializers.CharField(),
            "script": serializers.CharField(),
            "duration_s": serializers.FloatField(),
            "languages": serializers.ListField(child=serializers.CharField()),
            "shots": TaskShotSerializer(many=True),
        },
    )
    clips = inline_serializer(
        "TaskClips", {"a": serializers.CharField(help_text="URL of clip A"), "b": serializers.CharField()}
    )
    dimensions = inline_serializer(
        "TaskDimension", {"dimension": serializers.CharField(), "guideline": serializers.CharField()}, many=True
    )


class AnnotatorProgressSerializer(serializers.Serializer):
    done_today = serializers.IntegerField()
    done_total = serializers.IntegerField()
    daily_limit = serializers.IntegerField()


def _campaign_for(user: Any, campaign_id: int | None) -> Campaign:
    if campaign_id is not None:
        campaign = queries.campaign_open(campaign_id=campaign_id)
        if campaign is None:
            raise ApplicationError(f"campaign {campaign_id}: no such open campaign", extra={"field": "campaign"}, status_code=404)
        return campaign
    choices = selectors.campaign_list_for_annotator(user=user)
    if not choices:
        raise ApplicationError("no campaign is open to you: ask a curator for an invitation", status_code=404)
    if len(choices) > 1:
        raise ApplicationError(
            "you take part in several campaigns: say which one with `campaign`",
            extra={"campaigns": [{"id": c.pk, "name": c.name} for c, _ in choices]},
        )
    return choices[0][0]


class TaskNextApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    class TaskNextInputSerializer(serializers.Serializer):
        campaign = serializers.IntegerField(required=False, help_text="campaign id (optional with a single campaign)")

    class TaskNextOutputSerializer(serializers.Serializer):
        task = AnnotationTaskSerializer(allow_null=True)
        resumed = serializers.BooleanField(help_text="true when this is the task you already held")
        message = serializers.CharField(help_text="why there is no task, when task is null")
        progress = AnnotatorProgressSerializer()

    @extend_schema(
        tags=["annotation"],
        summary="Get your active task, or a new one",
        description="Resumes the task you hold in the campaign, else assigns one you have not seen (locked to you "
        "until `expires_at`). `task` is null when nothing is left for you.",
        request=TaskNextInputSerializer,
        responses={200: TaskNextOutputSerializer, **{code: ERRORS[code] for code in (400, 401, 403, 404, 409, 429)}},
    )
    def post(self, request: Request) -> Response:
        data = self.TaskNextInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = _campaign_for(request.user, data.validated_data.get("campaign"))
        result = services.task_next(campaign=campaign, user=request.user)
        return Response(
            {
                "task": selectors.task_payload(task=result.task) if result.task else None,
                "resumed": result.resumed,
                "message": result.reason,
                "progress": result.progress or selectors.annotator_progress(campaign=campaign, user=request.user),
            }
        )


class JudgmentSubmitApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    class JudgmentSubmitInputSerializer(serializers.Serializer):
        task = serializers.UUIDField(help_text="the task's id from /next/")
        votes = serializers.DictField(
            child=serializers.DictField(), help_text='{"overall": {"outcome": "a", "comment": ""}, ...}: every dimension asked'
        )
        client_elapsed_ms = serializers.IntegerField(required=False, min_value=0, help_text="time on the page")

    class JudgmentSubmitOutputSerializer(serializers.Serializer):
        task = serializers.UUIDField()
        stored = serializers.BooleanField(help_text="false when this replayed a submission already stored")
        progress = AnnotatorProgressSerializer()

    @extend_schema(
        tags=["annotation"],
        summary="Submit the judgments of a task (every dimension at once)",
        description="Idempotent per task: posting the same task again stores nothing and answers 200 with "
        "`stored: false` (the first post answers 201).",
        request=JudgmentSubmitInputSerializer,
        responses={201: JudgmentSubmitOutputSerializer, 200: JudgmentSubmitOutputSerializer, **{code: ERRORS[code] for code in (400, 401, 403, 404, 409)}},
    )
    def post(self, request: Request) -> Response:
        data = self.JudgmentSubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Each vote's outcome and comment are checked by the service (against the campaign's dimensions too).
        votes = data.validated_data["votes"]
        result = services.task_submit(
            public_id=data.validated_data["task"],
            user=request.user,
            votes=votes,
            client_elapsed_ms=data.validated_data.get("client_elapsed_ms"),
        )
        return Response(
            {
                "task": str(result.task.public_id),
                "stored": result.stored,
                "progress": result.progress or selectors.annotator_progress(campaign=result.task.campaign, user=request.user),
            },
            status=status.HTTP_201_CREATED if result.stored else status.HTTP_200_OK,
        )


class TaskSkipApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    class TaskSkipInputSerializer(serializers.Serializer):
        task = serializers.UUIDField()
        reason = serializers.ChoiceField(choices=Task.SkipReason.choices)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_COMMENT_CHARS)

    class TaskSkipOutputSerializer(serializers.Serializer):
        task = serializers.UUIDField()
        state = serializers.CharField()

    @extend_schema(
        tags=["annotation"],
        summary="Skip a task with a reason (it returns to the pool; you will not see it again)",
        request=TaskSkipInputSerializer,
        responses={200: TaskSkipOutputSerializer, **{code: ERRORS[code] for code in (400, 401, 404, 409)}},
    )
    def post(self, request: Request) -> Response:
        data = self.TaskSkipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_skip(
            public_id=data.validated_data["task"],
            user=request.user,
            reason=data.validated_data["reason"],
            comment=data.validated_data.get("comment", ""),
        )
        return Response({"task": str(task.public_id), "state": task.state})
