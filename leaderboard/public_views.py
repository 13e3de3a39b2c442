"""The public pages: the leaderboard of a suite, a model's page, a clip's page and the agreement page.

Thin views over `leaderboard.public_selectors`. The table is rendered on the server, so sorting,
filters and tabs are plain links and GET forms (permalinks) that work without JavaScript; the charts
are Plotly, drawn from JSON embedded in the page.

Pages are cached whole for anonymous visitors (the public; no session, no pending messages), keyed
by the path and the canonical query, and invalidated through `leaderboard.cache`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from config.exceptions import ApplicationError
from leaderboard import cache, public_selectors, selectors
from leaderboard.models import Clip, Suite
from leaderboard.vocabulary import PARADIGMS, TASKS
from scoring import engine
from scoring.engine.catalog import DIMENSIONS


def _is_public_request(request: HttpRequest) -> bool:
    """Anonymous with nothing personal to show: the page is the same for every such visitor."""
    return (
        not request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        and not request.COOKIES.get("messages")
        and not request.user.is_authenticated
    )


def _page(
    request: HttpRequest, *, suite_id: int | None, kind: str, params: str, render: Callable[[], str], status: int = 200
) -> HttpResponse:
    if status == 200 and _is_public_request(request):
        html = cache.cached(
            suite_id=suite_id, kind=f"page-{kind}", params=f"{request.path}?{params}", build=render, with_catalog=True
        )
    else:
        html = render()
    response = HttpResponse(html, status=status)
    response["Vary"] = "Cookie"
    return response


def disagreement_explorer_url(suite: Suite) -> str | None:
    """The ranking area's disagreement explorer for this suite, if that page exists."""
    for args in ((suite.name, suite.version), (suite.pk,), ()):
        try:
            return reverse("ranking:disagreements", args=args)
        except NoReverseMatch:
            continue
    return None


def _suite_or_404(name: str, version: str) -> Suite:
    suite = public_selectors.suite_lookup(name=name, version=version)
    if suite is None:
        raise Http404(f"no suite {name} {version}")
    return suite


def _suite_context(suite: Suite, active: str) -> dict[str, Any]:
    return {"suite": suite, "suites": list(selectors.suite_list()), "active_page": active}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    suite = public_selectors.suite_latest()
    if suite is None:
        return HttpResponse(render_to_string("leaderboard/no_suites.html", request=request))
    return suite_leaderboard(request, name=suite.name, version=suite.version)


@require_safe
def suite_leaderboard(request: HttpRequest, name: str, version: str) -> HttpResponse:
    suite = _suite_or_404(name, version)

    def render() -> str:
        query = public_selectors.query_from_params(request.GET, suite=suite, strict=False)
        return _render_leaderboard(request, suite, query)

    try:
        # Keyed by the request's parameters: a cached page is served without parsing anything.
        return _page(
            request, suite_id=suite.pk, kind="leaderboard", params=public_selectors.request_cache_params(request.GET, strict=False), render=render
        )
    except ApplicationError as error:
        # A filter the suite does not have: say which and what is allowed, with the unfiltered table below.
        html = _render_leaderboard(request, suite, public_selectors.LeaderboardQuery(), error=error.message)
        return HttpResponse(html, status=400)


def _render_leaderboard(request: HttpRequest, suite: Suite, query: public_selectors.LeaderboardQuery, error: str = "") -> str:
    board = public_selectors.leaderboard(suite=suite, query=query)
    facets = public_selectors.suite_facets(suite=suite)
    api_params = {"suite": suite.name, "version": suite.version, **query.to_params()}
    api_params.pop("tab", None)
    return render_to_string(
        "leaderboard/leaderboard.html",
        {
            **_suite_context(suite, "leaderboard"),
            "board": board,
            "query": query,
            "error": error,
            "dimensions": DIMENSIONS,
            "rank_dimensions": public_selectors.RANK_DIMENSIONS,
            "paradigms": PARADIGMS,
            "tasks": TASKS,
            "facets": [(axis, public_selectors.BREAKDOWN_LABELS[axis], facets[axis]) for axis in public_selectors.BREAKDOWN_AXES],
            "tabs": [("automatic", "Automatic"), ("human", "Human (arena)"), ("both", "Side by side")],
            "api_params": api_params,
            "clear_params": public_selectors.LeaderboardQuery(tab=query.tab, sort=query.sort, descending=query.descending).to_params(),
            "current_engine": engine.ENGINE_VERSION,
            "min_prompts": public_selectors.min_prompts(),
        },
        request=request,
    )


@require_safe
def model_page(request: HttpRequest, name: str, version: str, slug: str) -> HttpResponse:
    suite = _suite_or_404(name, version)

    def render() -> str:
        profile = public_selectors.model_profile(suite=suite, slug=slug)
        if profile is None:
            raise Http404("no public scored submission of this model on this suite")
        return render_to_string(
            "leaderboard/model.html",
            {
                **_suite_context(suite, "model"),
                "profile": profile,
                "dimensions": DIMENSIONS,
                "chart_data": {"radar": profile["radar"], "breakdowns": profile["breakdowns"], "model": profile["model"].name},
            },
            request=request,
        )

    # The history lists submissions on every suite: depend on all of them, not this suite alone.
    return _page(request, suite_id=None, kind="model", params=slug, render=render)


@require_safe
def clip_page(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(Clip.objects.select_related("submission__model", "submission__suite", "prompt"), pk=pk)
    if not selectors.submission_visible_to(submission=clip.submission, user=request.user):
        raise Http404("no such clip")
    data = public_selectors.clip_page(clip=clip)
    html = render_to_string(
        "leaderboard/clip.html",
        {
            **_suite_context(clip.submission.suite, "clip"),
            "data": data,
            "clip": clip,
            "dimensions": DIMENSIONS,
            "timeline": data["timeline"],
        },
        request=request,
    )
    return HttpResponse(html)


@require_safe
def agreement_page(request: HttpRequest, name: str, version: str) -> HttpResponse:
    suite = _suite_or_404(name, version)
    dimension = request.GET.get("dimension") or public_selectors.OVERALL
    error = ""
    if dimension not in public_selectors.RANK_DIMENSIONS:
        error = public_selectors.ERROR_UNKNOWN_VALUE.format(
            param="dimension", value=dimension, allowed=", ".join(public_selectors.RANK_DIMENSIONS)
        )
        dimension = public_selectors.OVERALL

    def render() -> str:
        data = public_selectors.agreement(suite=suite, dimension=dimension)
        return render_to_string(
            "leaderboard/agreement.html",
            {
                **_suite_context(suite, "agreement"),
                "data": data,
                "dimension": dimension,
                "rank_dimensions": public_selectors.RANK_DIMENSIONS,
                "explorer_url": disagreement_explorer_url(suite),
                "error": error,
            },
            request=request,
        )

    if error:
        return HttpResponse(render(), status=400)
    return _page(request, suite_id=suite.pk, kind="agreement", params=dimension, render=render)


@require_safe
def bench_constant(request: HttpRequest) -> HttpResponse:
    """A constant response through the same middleware: the peer the leaderboard benchmark is measured against."""
    if not settings.MSAV_BENCH_CONSTANT_VIEW:
        raise Http404("enabled only for the benchmark (MSAV_BENCH_CONSTANT_VIEW=1)")
    return HttpResponse("ok", content_type="text/plain")
