"""REST API routes of the human ranking (anonymous, read-only): ratings, correlation and its history."""

from django.urls import path

from annotation.ranking import apis

urlpatterns = [
    path("ratings/", apis.RatingsApi.as_view(), name="ranking-ratings"),
    path("correlation/", apis.CorrelationLatestApi.as_view(), name="ranking-correlation"),
    path("correlation/history/", apis.CorrelationHistoryApi.as_view(), name="ranking-correlation-history"),
]
