"""REST API for researchers: models, submissions, resumable uploads. Views are thin over services/selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import ApplicationError
from leaderboard import schema as _schema  # noqa: F401  (registers the token auth scheme)
from leaderboard import researcher_selectors, selectors, services, upload_limits
from leaderboard.models import ModelEntry, Submission, Suite, UploadSession
from leaderboard.roles import user_can_submit, user_roles
from leaderboard.serializers import (
    HideSerializer,
    MeSerializer,
    MessageSerializer,
    ModelEntryCreateSerializer,
    ModelEntrySerializer,
    ModelEntryUpdateSerializer,
    QuotaSerializer,
    SubmissionCreateSerializer,
    SubmissionDetailSerializer,
    SubmissionSerializer,
    UploadCreateSerializer,
    UploadSerializer,
)

ERRORS = {
    400: OpenApiResponse(MessageSerializer, description="refused: the message says what, where and why"),
    401: OpenApiResponse(MessageSerializer, description="no or invalid credentials"),
    403: OpenApiResponse(MessageSerializer, description="not allowed for your role or not yours"),
    404: OpenApiResponse(MessageSerializer, description="no such object (or not visible to you)"),
}


def _require_submitter(user: Any) -> None:
    if not user_can_submit(user):
        raise ApplicationError("only researchers can register models and submit", status_code=403)


def _model_for(ref: str, user: Any) -> ModelEntry:
    entry = researcher_selectors.model_entry_resolve(ref=ref, user=user)
    if entry is None:
        raise ApplicationError(f'model "{ref}": no such model (by slug or name)', extra={"field": "model"}, status_code=404)
    return entry


def _suite_for(name: str, version: str | None) -> Suite:
    suite = researcher_selectors.suite_resolve(name=name, version=version)
    if suite is None:
        where = f' version "{version}"' if version else ""
        raise ApplicationError(f'suite "{name}"{where}: no such suite', extra={"field": "suite"}, status_code=404)
    return suite


def _valid(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- The caller ----------------------------------------------------------------------------------


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["researchers"], summary="Who the token or session belongs to", responses={200: MeSerializer, 401: ERRORS[401]})
    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            MeSerializer(
                {
                    "username": user.get_username(),
                    "roles": [role.value for role in user_roles(user)],
                    "models": list(ModelEntry.objects.filter(owner=user).values_list("slug", flat=True)),
                }
            ).data
        )


# --- Models --------------------------------------------------------------------------------------


class ModelListApi(APIView):
    @extend_schema(
        tags=["models"],
        summary="Registered models you may see",
        description="The public sees models with a public submission; researchers also their own; curators all.",
        responses={200: ModelEntrySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        entries = researcher_selectors.model_entries_visible_to(user=request.user).select_related("owner").order_by("name")
        return Response(ModelEntrySerializer(entries, many=True).data)

    @extend_schema(
        tags=["models"],
        summary="Register a model (researchers)",
        request=ModelEntryCreateSerializer,
        responses={201: ModelEntrySerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _require_submitter(request.user)
        data = _valid(ModelEntryCreateSerializer, request.data)
        entry = services.model_entry_create(owner=request.user, **data)
        return Response(ModelEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    def _entry(self, request: Request, slug: str) -> ModelEntry:
        entry = researcher_selectors.model_entries_visible_to(user=request.user).filter(slug=slug).first()
        if entry is None:
            raise ApplicationError(f'model "{slug}": no such model', status_code=404)
        return entry

    @extend_schema(tags=["models"], summary="One model", responses={200: ModelEntrySerializer, 404: ERRORS[404]})
    def get(self, request: Request, slug: str) -> Response:
        return Response(ModelEntrySerializer(self._entry(request, slug)).data)

    @extend_schema(
        tags=["models"],
        summary="Edit your model (owner only; the name stays)",
        request=ModelEntryUpdateSerializer,
        responses={200: ModelEntrySerializer, **ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        entry = self._entry(request, slug)
        data = _valid(ModelEntryUpdateSerializer, request.data, partial=True)
        unknown = set(request.data) - set(ModelEntryUpdateSerializer().fields)
        if unknown:
            raise ApplicationError(
                f"model fields {', '.join(sorted(unknown))}: cannot be changed", extra={"fields": sorted(unknown)}
            )
        entry = services.model_entry_update(entry=entry, user=request.user, **data)
        return Response(ModelEntrySerializer(entry).data)


# --- Submissions ----------------------------------------------------------------------------------


def _visible_submission(request: Request, pk: int) -> Submission:
    submission = Submission.objects.select_related("model", "suite").filter(pk=pk).first()
    if submission is None or not selectors.submission_visible_to(submission=submission, user=request.user):
        raise ApplicationError(f"submission {pk}: no such submission", status_code=404)
    return submission


class SubmissionListApi(APIView):
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Before authentication (whose CSRF check may parse the body): the limit applies while receiving.
        self.archive_limit = upload_limits.install_archive_limit(request)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        tags=["submissions"],
        summary="Your submissions (curators: all, with ?all=1)",
        parameters=[OpenApiParameter("all", OpenApiTypes.BOOL, description="curators: every user's submissions")],
        responses={200: SubmissionSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise ApplicationError("log in or send Authorization: Token <key>", status_code=401)
        submissions: QuerySet[Submission]
        if request.user.is_staff and request.query_params.get("all") in ("1", "true"):
            submissions = Submission.objects.select_related("model", "suite").order_by("-created_at", "-pk")
        else:
            submissions = researcher_selectors.submissions_of(user=request.user)
        return Response(SubmissionSerializer(submissions[:500], many=True, context={"request": request}).data)

    @extend_schema(
        tags=["submissions"],
        summary="Submit an archive in one request (multipart)",
        description="For large archives use the resumable upload (/api/uploads/). Counts against the daily quota.",
        request={"multipart/form-data": SubmissionCreateSerializer},
        responses={
            201: SubmissionSerializer,
            **ERRORS,
            413: OpenApiResponse(MessageSerializer, description="archive over the size limit"),
            429: OpenApiResponse(MessageSerializer, description="daily quota used up"),
        },
    )
    def post(self, request: Request) -> Response:
        if upload_limits.declared_body_too_large(request._request):
            raise services.archive_too_large("upload")
        _require_submitter(request.user)
        data = request.data  # parsing happens here, through the size-limit handler
        if self.archive_limit.exceeded:
            raise services.archive_too_large("upload")
        fields = _valid(SubmissionCreateSerializer, data)
        model = _model_for(fields["model"], request.user)
        suite = _suite_for(fields["suite"], fields.get("suite_version"))
        archive = fields["archive"]
        submission = services.submission_create(
            owner=request.user,
            model=model,
            suite=suite,
            archive=archive,
            archive_name=archive.name,
            is_public=fields["publish"],
        )
        return Response(
            SubmissionSerializer(submission, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class SubmissionDetailApi(APIView):
    @extend_schema(
        tags=["submissions"],
        summary="State, progress, per-clip report, refused members, and scores when done",
        responses={200: SubmissionDetailSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: int) -> Response:
        submission = _visible_submission(request, pk)
        return Response(SubmissionDetailSerializer(submission, context={"request": request}).data)


class _SubmissionActionApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    action = ""

    def act(self, request: Request, submission: Submission) -> Submission:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        submission = _visible_submission(request, pk)
        submission = self.act(request, submission)
        return Response(SubmissionSerializer(submission, context={"request": request}).data)


def _action_schema(summary: str, request: Any = None) -> Any:
    return extend_schema(
        tags=["submissions"],
        summary=summary,
        request=request,
        responses={200: SubmissionSerializer, **ERRORS, 409: OpenApiResponse(MessageSerializer, description="not in a state that allows it")},
    )


class SubmissionPublishApi(_SubmissionActionApi):
    @_action_schema("Publish your submission (shown publicly once scored)")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        return services.submission_publish(submission=submission, user=request.user)


class SubmissionUnpublishApi(_SubmissionActionApi):
    @_action_schema("Make your submission private again")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        return services.submission_unpublish(submission=submission, user=request.user)


class SubmissionWithdrawApi(_SubmissionActionApi):
    @_action_schema("Withdraw your submission for good (unfinished scoring is cancelled)")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        return services.submission_withdraw(submission=submission, user=request.user)


class SubmissionRerunApi(_SubmissionActionApi):
    @_action_schema("Validate and score a failed submission again (owner or curator)")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        return services.submission_rerun(submission=submission, user=request.user)


class SubmissionHideApi(_SubmissionActionApi):
    @_action_schema("Hide a submission from the public, with a reason (curators)", request=HideSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        reason = _valid(HideSerializer, request.data)["reason"]
        return services.submission_hide(submission=submission, curator=request.user, reason=reason)


class SubmissionUnhideApi(_SubmissionActionApi):
    @_action_schema("Show a hidden submission again (curators)")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, submission: Submission) -> Submission:
        return services.submission_unhide(submission=submission, curator=request.user)


class QuotaApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["submissions"],
        summary="Your submissions today on a suite and the daily limit",
        parameters=[
            OpenApiParameter("suite", OpenApiTypes.STR, required=True),
            OpenApiParameter("suite_version", OpenApiTypes.STR),
        ],
        responses={200: QuotaSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        name = request.query_params.get("suite", "")
        if not name:
            raise ApplicationError("suite: the query parameter is required", extra={"field": "suite"})
        suite = _suite_for(name, request.query_params.get("suite_version"))
        quota = services.submission_quota_status(owner=request.user, suite=suite)
        return Response(
            QuotaSerializer(
                {"suite": suite.name, "suite_version": suite.version, "used": quota.used, "limit": quota.limit,
                 "resets_at": quota.resets_at}
            ).data
        )


# --- Resumable chunked uploads --------------------------------------------------------------------


class OctetStreamParser(parsers.BaseParser):
    """Declares the chunk body type; the view reads the body itself, in bounded pieces."""

    media_type = "application/octet-stream"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return None


def _upload_response(session: UploadSession, request: Request, status_code: int = 200) -> Response:
    response = Response(UploadSerializer(session).data, status=status_code)
    response["Upload-Offset"] = str(session.received)
    response["Upload-Length"] = str(session.total_size)
    response["Cache-Control"] = "no-store"
    return response


class UploadListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["uploads"],
        summary="Start a resumable upload",
        description=(
            "Declare the archive's name, size and sha256, the model and the suite. Then PATCH chunks with "
            "Content-Range: bytes START-END/TOTAL (START = the offset), HEAD or GET to learn the offset after a "
            "dropped connection, and POST .../complete/ to turn the upload into a submission."
        ),
        request=UploadCreateSerializer,
        responses={201: UploadSerializer, **ERRORS, 413: OpenApiResponse(MessageSerializer), 429: OpenApiResponse(MessageSerializer)},
    )
    def post(self, request: Request) -> Response:
        _require_submitter(request.user)
        fields = _valid(UploadCreateSerializer, request.data)
        session = services.upload_session_create(
            owner=request.user,
            model=_model_for(fields["model"], request.user),
            suite=_suite_for(fields["suite"], fields.get("suite_version")),
            filename=fields["filename"],
            total_size=fields["total_size"],
            sha256=fields["sha256"],
            publish=fields["publish"],
        )
        return _upload_response(session, request, status.HTTP_201_CREATED)


class UploadDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [OctetStreamParser]

    @extend_schema(
        tags=["uploads"],
        summary="The upload's offset (also as the Upload-Offset header; HEAD works too)",
        responses={200: UploadSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: str) -> Response:
        return _upload_response(services.upload_session_get(session_id=pk, owner=request.user), request)

    @extend_schema(
        tags=["uploads"],
        summary="Append one chunk at the current offset",
        parameters=[
            OpenApiParameter("Content-Range", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="bytes START-END/TOTAL, START = the upload's offset, END inclusive"),
        ],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: UploadSerializer,
            **ERRORS,
            409: OpenApiResponse(MessageSerializer, description="START is not the offset (extra.offset says it)"),
            413: OpenApiResponse(MessageSerializer, description="chunk over the chunk limit"),
        },
    )
    def patch(self, request: Request, pk: str) -> Response:
        django_request = request._request
        try:
            length = int(django_request.META.get("CONTENT_LENGTH") or "")
        except ValueError:
            length = None
        session = services.upload_session_append(
            session_id=pk,
            owner=request.user,
            content_range=services.content_range_parse(django_request.META.get("HTTP_CONTENT_RANGE")),
            content_length=length,
            body=django_request,
        )
        return _upload_response(session, request)

    @extend_schema(tags=["uploads"], summary="Abandon an upload (its bytes are deleted)", responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: str) -> Response:
        services.upload_session_abort(session_id=pk, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadCompleteApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["uploads"],
        summary="Turn a fully received upload into a submission (checks the sha256; counts against the quota)",
        request=None,
        responses={201: SubmissionSerializer, **ERRORS, 409: OpenApiResponse(MessageSerializer), 429: OpenApiResponse(MessageSerializer)},
    )
    def post(self, request: Request, pk: str) -> Response:
        submission = services.upload_session_complete(session_id=pk, owner=request.user)
        return Response(SubmissionSerializer(submission, context={"request": request}).data, status=status.HTTP_201_CREATED)
