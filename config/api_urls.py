"""The REST API under /api/: each app contributes its own `api_urls` module; the schema covers all."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("leaderboard.api_urls")),  # researchers: models, submissions, uploads, tokens
    path("", include("leaderboard.public_api_urls")),  # the public leaderboard and its exports
    path("", include("annotation.api_urls")),  # annotators: next task, judgments
    path("", include("annotation.ranking.api_urls")),  # human ratings and correlation
]
