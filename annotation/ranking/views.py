"""Pages of the ranking area: the disagreement explorer (linked from the public agreement page)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotation.models import JUDGED_DIMENSIONS
from annotation.ranking import selectors
from leaderboard.models import Suite

EXPLORER_LIMIT = 20


@require_GET
def disagreements_page(request: HttpRequest, name: str, version: str) -> HttpResponse:
    # A NUL cannot be in a stored name (PostgreSQL text refuses it), so such a path names no suite.
    suite = None if "\x00" in name + version else Suite.objects.filter(name=name, version=version).first()
    if suite is None:
        raise Http404(f"no suite {name} {version}")
    dimension = request.GET.get("dimension") or "overall"
    status = 200
    error = ""
    if dimension not in JUDGED_DIMENSIONS:
        error = f'dimension "{dimension}": unknown; one of {", ".join(JUDGED_DIMENSIONS)}'
        dimension, status = "overall", 400
    correlations = {row["dimension"]: row for row in selectors.correlation_latest(suite_id=suite.pk)}
    context = {
        "suite": suite,
        "dimension": dimension,
        "dimensions": JUDGED_DIMENSIONS,
        "error": error,
        "pairs": selectors.disagreements(suite_id=suite.pk, dimension=dimension, limit=EXPLORER_LIMIT),
        "correlation": correlations.get(dimension),
        "weights_fit": selectors.weights_fit_latest(suite_id=suite.pk, dimension=dimension),
    }
    return render(request, "ranking/disagreements.html", context, status=status)
