"""Project-wide 404 for paths nothing answers: under /api/ it is JSON like every other API refusal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "message": f"{request.method} {request.path}: no such API endpoint; the endpoints are listed at /api/docs/",
                "extra": {"path": request.path},
            },
            status=404,
        )
    return page_not_found(request, exception)
