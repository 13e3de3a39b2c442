"""Browser pages of the annotation app: the annotator's page, blind clip media, the curator's campaigns,
dashboard and exports. Thin over services and selectors (the REST API calls the same ones)."""

from __future__ import annotations

import csv
import json
import mimetypes
from functools import wraps
from pathlib import Path
from typing import Any, Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotation import quality_services, selectors, services
from annotation.forms import CampaignForm, usernames_parse
from annotation.media import ranged_file_response, served_copy
from annotation.models import Campaign, CampaignMember, Task
from config.exceptions import ApplicationError
from leaderboard.roles import Role, user_has_role

KEYBOARD_SHORTCUTS = [
    ("Space", "play / pause both clips"),
    ("← / →", "seek both 2 s back / forward"),
    ("H", "hear clip A or B (toggle)"),
    ("1 – 9", "jump to shot 1 – 9"),
    ("A / B", "A better / B better on the selected question"),
    ("G / N", "both good / both bad on the selected question"),
    ("↑ / ↓", "select the previous / next question"),
    ("C", "comment on the selected question"),
    ("Enter", "submit (when every question is answered)"),
    ("S", "skip this task"),
    ("?", "show / hide these shortcuts"),
]


def curator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_has_role(request.user, Role.CURATOR):
            raise PermissionDenied("curators only")
        return view(request, *args, **kwargs)

    return wrapper


# --- Annotators --------------------------------------------------------------------------------


@login_required
def annotate_home(request: HttpRequest) -> HttpResponse:
    if not user_has_role(request.user, Role.ANNOTATOR):
        return render(request, "annotation/not_annotator.html", status=403)
    choices = selectors.campaign_list_for_annotator(user=request.user)
    if len(choices) == 1 and choices[0][1] is not None:
        return redirect("annotation:annotate", campaign_id=choices[0][0].pk)
    return render(request, "annotation/campaigns.html", {"choices": choices})


@login_required
@require_POST
def campaign_join(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id, is_active=True)
    try:
        services.campaign_join(campaign=campaign, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("annotation:home")
    return redirect("annotation:annotate", campaign_id=campaign.pk)


@login_required
def annotate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The annotator's page: the task itself is fetched by static/js/annotate.js from /api/annotation/next/."""
    if not user_has_role(request.user, Role.ANNOTATOR):
        return render(request, "annotation/not_annotator.html", status=403)
    campaign = get_object_or_404(Campaign, pk=campaign_id, is_active=True)
    member = CampaignMember.objects.filter(campaign=campaign, user=request.user).first()
    if member is None and campaign.enrollment != Campaign.Enrollment.OPEN:
        raise Http404("no such campaign")
    return render(
        request,
        "annotation/annotate.html",
        {
            "campaign": campaign,
            "shortcuts": KEYBOARD_SHORTCUTS,
            "skip_reasons": Task.SkipReason.choices,
            "config": {"campaign": campaign.pk, "dimensions": campaign.dimensions},
        },
    )


@login_required
@require_GET
def task_media(request: HttpRequest, token: str) -> HttpResponse:
    """One side of one of your tasks, under its per-task token: nothing in the URL, the headers or the file
    name says which model (or which clip) it is."""
    try:
        task, path_text = selectors.task_media_path(token=token, user=request.user)
    except Task.DoesNotExist:
        raise Http404("no such clip") from None
    if task.state != Task.State.ACTIVE:
        raise Http404("this task is finished")
    path = Path(path_text)
    if not path.is_relative_to(settings.MEDIA_ROOT) or not path.is_file():
        raise Http404("no such clip")
    served = served_copy(path)
    content_type = "video/mp4" if served.suffix == ".mp4" else (mimetypes.guess_type(served.name)[0] or "")
    if not content_type.startswith("video/"):
        content_type = "application/octet-stream"
    return ranged_file_response(request, served, filename=f"{token}{served.suffix}", content_type=content_type)


# --- Curators ----------------------------------------------------------------------------------


@curator_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.select_related("suite").order_by("-created_at")
    return render(request, "annotation/curator_campaigns.html", {"campaigns": campaigns})


@curator_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        users = []
        try:
            names = usernames_parse(data["invite"])
            found = {user.username: user for user in get_user_model().objects.filter(username__in=names)}
            unknown = [name for name in names if name not in found]
            if unknown:
                raise ApplicationError(f"invite: no such user {', '.join(unknown)}")
            users = [found[name] for name in names]
            campaign = services.campaign_create(
                name=data["name"], suite=data["suite"], entries=list(data["entries"]), dimensions=form.dimensions(),
                created_by=request.user, overlap=data["overlap"], gold_rate=data["gold_rate"],
                attention_rate=data["attention_rate"], daily_limit=data["daily_limit"], enrollment=data["enrollment"],
                lock_ttl_s=data["lock_ttl_s"], min_watch_ratio=data["min_watch_ratio"],
            )
            services.campaign_invite(campaign=campaign, users=users)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f'Campaign "{campaign.name}" created with {campaign.pairs.count()} pairs.')
            return redirect("annotation:campaign_dashboard", campaign_id=campaign.pk)
    return render(request, "annotation/campaign_form.html", {"form": form}, status=400 if form.errors else 200)


@curator_required
def campaign_dashboard(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("suite"), pk=campaign_id)
    if request.method == "POST":
        _dashboard_action(request, campaign)
        return redirect("annotation:campaign_dashboard", campaign_id=campaign.pk)
    dashboard = quality_services.campaign_dashboard(campaign=campaign)
    return render(request, "annotation/dashboard.html", {"dashboard": dashboard, "campaign": campaign})


def _dashboard_action(request: HttpRequest, campaign: Campaign) -> None:
    action = request.POST.get("action", "")
    try:
        if action == "invite":
            names = usernames_parse(request.POST.get("usernames", ""))
            users = list(get_user_model().objects.filter(username__in=names))
            unknown = sorted(set(names) - {user.username for user in users})
            if unknown:
                raise ApplicationError(f"invite: no such user {', '.join(unknown)}")
            added = services.campaign_invite(campaign=campaign, users=users)
            messages.success(request, f"{added} annotator(s) invited.")
        elif action in ("suspend", "reinstate"):
            member = get_object_or_404(CampaignMember, pk=request.POST.get("member"), campaign=campaign)
            status = CampaignMember.Status.SUSPENDED if action == "suspend" else CampaignMember.Status.ACTIVE
            services.member_set_status(member=member, status=status, reason=f"{action} by curator {request.user}")
            messages.success(request, f"{member.user} is now {status}.")
        elif action == "sync":
            created = services.campaign_pairs_sync(campaign=campaign)
            messages.success(request, f"{created} new pair(s) from newly scored submissions.")
        elif action == "qc":
            created = quality_services.qc_pairs_generate(campaign=campaign)
            messages.success(request, f"{created['gold']} gold and {created['attention']} attention pair(s) made.")
        elif action in ("close", "open"):
            campaign.is_active = action == "open"
            campaign.save(update_fields=["is_active"])
            messages.success(request, f"Campaign {'opened' if campaign.is_active else 'closed'}.")
        else:
            messages.error(request, f"unknown action {action!r}")
    except ApplicationError as error:
        messages.error(request, error.message)


@curator_required
@require_GET
def campaign_export(request: HttpRequest, campaign_id: int, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    rows = quality_services.campaign_judgments_export(campaign=campaign)
    filename = f"campaign-{campaign.pk}-judgments.{fmt}"
    if fmt == "json":
        response = HttpResponse(json.dumps(rows, indent=1), content_type="application/json")
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.DictWriter(response, fieldnames=quality_services.EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
