"""Reads for researchers' pages and API: which models a user may see, resolving names, own submissions."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from leaderboard.models import ModelEntry, Submission, Suite
from leaderboard.selectors import submissions_public


def model_entries_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[ModelEntry]:
    """Curators see every model; others see models with a public submission, plus their own.

    A model registered but not yet shown publicly (e.g. before a paper) stays unknown to the public.
    """
    if user.is_authenticated and user.is_staff:
        return ModelEntry.objects.all()
    visible = Q(pk__in=submissions_public().values("model_id"))
    if user.is_authenticated:
        visible |= Q(owner_id=user.pk)
    return ModelEntry.objects.filter(visible)


def model_entry_resolve(*, ref: str, user: AbstractBaseUser | AnonymousUser) -> ModelEntry | None:
    """A model the user may see, by slug or by name (case-insensitive)."""
    models = model_entries_visible_to(user=user)
    return models.filter(slug=ref).first() or models.filter(name__iexact=ref.strip()).first()


def suite_resolve(*, name: str, version: str | None = None) -> Suite | None:
    """A suite by name and version; without a version, the latest imported version of that name."""
    suites = Suite.objects.filter(name=name.strip())
    if version:
        return suites.filter(version=version.strip()).first()
    return suites.order_by("-imported_at", "-pk").first()


def submissions_of(*, user: AbstractBaseUser) -> QuerySet[Submission]:
    """The user's own submissions, newest first."""
    return Submission.objects.filter(owner_id=user.pk).select_related("model", "suite").order_by("-created_at", "-pk")


def submission_visibility(submission: Submission) -> str:
    """One word for the owner: withdrawn, hidden, public (published and scored), published (not scored yet), private."""
    if submission.withdrawn_at is not None:
        return "withdrawn"
    if submission.hidden_at is not None:
        return "hidden"
    if submission.is_public:
        return "public" if submission.state == Submission.State.SCORED else "published"
    return "private"
