"""Researchers' browser pages: sign-up, account and API tokens, the model registry, uploads, own submissions.

Thin views: every change goes through leaderboard.services, the same functions the REST API calls.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from config.exceptions import ApplicationError
from leaderboard import researcher_selectors, selectors, services, upload_limits
from leaderboard.forms import ApiTokenForm, HideForm, ModelEntryEditForm, ModelEntryForm, SignUpForm, SubmissionUploadForm
from leaderboard.models import ApiToken, ModelEntry, Submission, Suite
from leaderboard.roles import Role, user_can_submit, user_grant_role, user_has_role, user_roles


def _require_submitter(request: HttpRequest) -> None:
    if not user_can_submit(request.user):
        raise PermissionDenied("only researchers can register models and submit")


# --- Accounts -------------------------------------------------------------------------------------


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("researchers:account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            user_grant_role(user, Role(form.cleaned_data["role"]))
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: you are signed up as {form.cleaned_data['role']}.")
        return redirect("researchers:account")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


def _account_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    quotas = []
    if user_can_submit(user):
        for suite in Suite.objects.order_by("name", "-imported_at"):
            quotas.append((suite, services.submission_quota_status(owner=user, suite=suite)))
    return {
        "roles": [role.value for role in user_roles(user)],
        "tokens": ApiToken.objects.filter(user=user),
        "token_form": extra.pop("token_form", None) or ApiTokenForm(),
        "models": ModelEntry.objects.filter(owner=user),
        "quotas": quotas,
        "api_base": request.build_absolute_uri("/"),
        **extra,
    }


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html", _account_context(request))


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/account.html", _account_context(request, token_form=form), status=400)
    try:
        token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    except ApplicationError as error:
        form.add_error("name", error.message)
        return render(request, "accounts/account.html", _account_context(request, token_form=form), status=400)
    # The key is in this one response only (never stored, never in a URL): the page says so.
    response = render(request, "accounts/account.html", _account_context(request, new_token=token, new_key=key), status=201)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(token_id=pk, user=request.user)
    except ApplicationError as error:
        raise Http404(error.message) from error
    messages.success(request, f'Token "{token.name}" ({token.prefix}…) revoked: it no longer works.')
    return redirect("researchers:account")


# --- Model registry --------------------------------------------------------------------------------


def model_list(request: HttpRequest) -> HttpResponse:
    entries = researcher_selectors.model_entries_visible_to(user=request.user).select_related("owner").order_by("name")
    return render(request, "researchers/model_list.html", {"entries": entries, "can_register": user_can_submit(request.user)})


def _visible_model(request: HttpRequest, slug: str) -> ModelEntry:
    entry = researcher_selectors.model_entries_visible_to(user=request.user).filter(slug=slug).first()
    if entry is None:
        raise Http404("no such model")
    return entry


def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    entry = _visible_model(request, slug)
    public = selectors.submissions_public().filter(model=entry, state=Submission.State.SCORED)
    own = Submission.objects.none()
    if request.user.is_authenticated and (entry.owner_id == request.user.pk or request.user.is_staff):
        own = Submission.objects.filter(model=entry)
    submissions = (public | own).distinct().select_related("suite").order_by("-created_at")
    return render(
        request,
        "researchers/model_detail.html",
        {
            "entry": entry,
            "submissions": [(s, researcher_selectors.submission_visibility(s)) for s in submissions],
            "is_owner": request.user.is_authenticated and entry.owner_id == request.user.pk,
        },
    )


@login_required
def model_create(request: HttpRequest) -> HttpResponse:
    _require_submitter(request)
    form = ModelEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.model_entry_create(owner=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form.add_error("name", getattr(error, "message", None) or "; ".join(error.messages))
        else:
            messages.success(request, f'Model "{entry.name}" registered.')
            return redirect("researchers:submit")
    return render(request, "researchers/model_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def model_edit(request: HttpRequest, slug: str) -> HttpResponse:
    entry = _visible_model(request, slug)
    if entry.owner_id != request.user.pk:
        raise PermissionDenied("only the model's owner can edit it")
    form = ModelEntryEditForm(request.POST or None, instance=ModelEntry.objects.get(pk=entry.pk))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in ModelEntryEditForm.Meta.fields}
        try:
            services.model_entry_update(entry=entry, user=request.user, **fields)
        except (ApplicationError, ValidationError) as error:
            form.add_error(None, getattr(error, "message", None) or "; ".join(error.messages))
        else:
            messages.success(request, f'Model "{entry.name}" updated.')
            return redirect("researchers:model_detail", slug=entry.slug)
    return render(request, "researchers/model_form.html", {"form": form, "entry": entry}, status=400 if form.errors else 200)


# --- Uploads and own submissions -------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@csrf_exempt  # the CSRF check runs below, once the size limit sits in front of the multipart parser
def submission_upload(request: HttpRequest) -> HttpResponse:
    archive_limit = upload_limits.install_archive_limit(request) if request.method == "POST" else None
    return _submission_upload(request, archive_limit)


@csrf_protect
@login_required
def _submission_upload(request: HttpRequest, archive_limit: upload_limits.ArchiveSizeLimitHandler | None) -> HttpResponse:
    _require_submitter(request)
    models = ModelEntry.objects.all() if request.user.is_staff else ModelEntry.objects.filter(owner=request.user)
    form = SubmissionUploadForm(request.POST or None, request.FILES or None, models=models)
    status = 200
    too_large = ""
    if request.method == "POST":
        if (archive_limit is not None and archive_limit.exceeded) or upload_limits.declared_body_too_large(request):
            too_large = services.archive_too_large("upload").message
            if _wants_json(request):
                return JsonResponse({"message": too_large, "extra": {"field": "archive"}}, status=413)
            form = SubmissionUploadForm(models=models)
            status = 413
        elif form.is_valid():
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
                status = error.status_code
            else:
                url = reverse("leaderboard:submission", args=[submission.pk])
                if _wants_json(request):
                    return JsonResponse({"id": submission.pk, "url": url}, status=201)
                return redirect(url)
        else:
            status = 400
        if _wants_json(request) and form.errors:
            errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
            # A refusal that already names its field ('archive "x.txt": ...') is not prefixed twice.
            message = "; ".join(
                " ".join(errs) if field == "__all__" or " ".join(errs).startswith(field) else f"{field}: {' '.join(errs)}"
                for field, errs in errors.items()
            )
            return JsonResponse({"message": message, "extra": {"fields": errors}}, status=status)
    return render(
        request,
        "researchers/submit.html",
        {
            "form": form,
            "has_models": models.exists(),
            "max_bytes": settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES,
            "too_large": too_large,
        },
        status=status,
    )


@login_required
def my_submissions(request: HttpRequest) -> HttpResponse:
    submissions = researcher_selectors.submissions_of(user=request.user)
    return render(
        request,
        "researchers/my_submissions.html",
        {"rows": [(s, researcher_selectors.submission_visibility(s)) for s in submissions[:200]]},
    )


@login_required
def curation(request: HttpRequest) -> HttpResponse:
    """Curators: every submission with its visibility, to hide or show again."""
    if not user_has_role(request.user, Role.CURATOR):
        raise PermissionDenied("only curators can see the curation list")
    submissions = Submission.objects.select_related("model", "suite", "owner").order_by("-created_at")[:300]
    return render(
        request,
        "researchers/curation.html",
        {"rows": [(s, researcher_selectors.submission_visibility(s)) for s in submissions], "hide_form": HideForm()},
    )


SUBMISSION_ACTIONS = {
    "publish": lambda submission, user, post: services.submission_publish(submission=submission, user=user),
    "unpublish": lambda submission, user, post: services.submission_unpublish(submission=submission, user=user),
    "withdraw": lambda submission, user, post: services.submission_withdraw(submission=submission, user=user),
    "rerun": lambda submission, user, post: services.submission_rerun(submission=submission, user=user),
    "hide": lambda submission, user, post: services.submission_hide(
        submission=submission, curator=user, reason=post.get("reason", "")
    ),
    "unhide": lambda submission, user, post: services.submission_unhide(submission=submission, curator=user),
}
ACTION_DONE = {
    "publish": "published: it shows on the public leaderboard once scored",
    "unpublish": "made private",
    "withdraw": "withdrawn",
    "rerun": "queued to be validated and scored again",
    "hide": "hidden from the public",
    "unhide": "shown to the public again",
}


@login_required
@require_POST
def submission_action(request: HttpRequest, pk: str, action: str) -> HttpResponse:
    if action not in SUBMISSION_ACTIONS:
        raise Http404("no such action")
    submission = get_object_or_404(Submission.objects.select_related("model", "suite"), pk=pk)
    if not selectors.submission_visible_to(submission=submission, user=request.user):
        raise Http404("no such submission")
    try:
        SUBMISSION_ACTIONS[action](submission, request.user, request.POST)
    except ApplicationError as error:
        if error.status_code == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, f"Submission {pk}: {error.message}")
    else:
        messages.success(request, f"Submission {pk} {ACTION_DONE[action]}.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("researchers:my_submissions")
    return redirect(next_url)
