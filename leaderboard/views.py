"""Browser pages of the leaderboard app: thin views over services and selectors."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from config.exceptions import ApplicationError
from leaderboard import selectors, services
from leaderboard.forms import ModelEntryForm, SubmissionUploadForm
from leaderboard.models import Clip, ModelEntry, Submission
from scoring.engine.catalog import DIMENSIONS


def can_submit(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and (user.is_staff or user.groups.filter(name="researcher").exists())


@login_required
def model_create(request: HttpRequest) -> HttpResponse:
    if not can_submit(request.user):
        raise PermissionDenied("only researchers can register models")
    form = ModelEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.model_entry_create(owner=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form.add_error("name", getattr(error, "message", None) or "; ".join(error.messages))
        else:
            messages.success(request, f'Model "{entry.name}" registered.')
            return redirect("leaderboard:submit")
    return render(request, "leaderboard/model_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def submission_upload(request: HttpRequest) -> HttpResponse:
    if not can_submit(request.user):
        raise PermissionDenied("only researchers can submit")
    models = ModelEntry.objects.all() if request.user.is_staff else ModelEntry.objects.filter(owner=request.user)
    form = SubmissionUploadForm(request.POST or None, request.FILES or None, models=models)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["archive"]
        try:
            submission = services.submission_create(
                owner=request.user,
                model=form.cleaned_data["model"],
                suite=form.cleaned_data["suite"],
                archive=upload,
                archive_name=upload.name,
                is_public=form.cleaned_data["is_public"],
            )
        except ApplicationError as error:
            form.add_error("archive", error.message)
        else:
            return redirect("leaderboard:submission", pk=submission.pk)
    return render(
        request,
        "leaderboard/submit.html",
        {"form": form, "has_models": models.exists()},
        status=400 if form.errors else 200,
    )


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
