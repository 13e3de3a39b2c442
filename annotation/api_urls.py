"""REST routes for annotators under /api/annotation/."""

from django.urls import path

from annotation import apis

urlpatterns = [
    path("annotation/next/", apis.TaskNextApi.as_view(), name="annotation-next"),
    path("annotation/judgments/", apis.JudgmentSubmitApi.as_view(), name="annotation-judgments"),
    path("annotation/skip/", apis.TaskSkipApi.as_view(), name="annotation-skip"),
]
