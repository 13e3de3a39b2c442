"""Browser pages of the leaderboard app: thin views over services and selectors."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from leaderboard import selectors
from leaderboard.models import Clip, Submission
from scoring.engine.catalog import DIMENSIONS


def _visible_submission(request: HttpRequest, pk: int) -> Submission:
    submission = get_object_or_404(Submission.objects.select_related("model", "suite"), pk=pk)
    if not selectors.submission_visible_to(submission=submission, user=request.user):
        raise Http404("no such submission")
    return submission


def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    return render(
        request,
        "leaderboard/submission.html",
        {
            "submission": submission,
            "progress": selectors.submission_progress(submission=submission),
            "dimensions": DIMENSIONS,
        },
    )


@require_GET
def submission_progress(request: HttpRequest, pk: int) -> JsonResponse:
    submission = _visible_submission(request, pk)
    return JsonResponse(selectors.submission_progress(submission=submission))


@require_GET
def clip_result(request: HttpRequest, pk: int) -> JsonResponse:
    """A clip's metrics and evidence as JSON: why its numbers are what they are."""
    clip = get_object_or_404(Clip.objects.select_related("submission", "prompt"), pk=pk)
    if not selectors.submission_visible_to(submission=clip.submission, user=request.user):
        raise Http404("no such clip")
    result = selectors.clip_result(clip=clip)
    if result is None:
        return JsonResponse({"message": f"clip {clip.pk} has no score yet (status: {clip.status})"}, status=404)
    return JsonResponse(result)


@require_GET
def clip_media(request: HttpRequest, pk: int) -> FileResponse:
    """A clip's file, from the path the platform chose, as inert media that the browser will not run."""
    clip = get_object_or_404(Clip.objects.select_related("submission"), pk=pk)
    if not clip.file or not selectors.submission_visible_to(submission=clip.submission, user=request.user):
        raise Http404("no such clip")
    path = Path(clip.file.path)
    if not path.is_relative_to(settings.MEDIA_ROOT) or not path.is_file():
        raise Http404("no such clip")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not content_type.startswith("video/"):
        content_type = "application/octet-stream"
    response = FileResponse(open(path, "rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="clip-{clip.pk}{path.suffix}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
