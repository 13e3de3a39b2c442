"""REST API routes for researchers: the caller, models, submissions and their actions, resumable uploads."""

from django.urls import path

from leaderboard import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("models/", api.ModelListApi.as_view(), name="api-models"),
    path("models/<slug:slug>/", api.ModelDetailApi.as_view(), name="api-model"),
    path("submissions/", api.SubmissionListApi.as_view(), name="api-submissions"),
    path("submissions/quota/", api.QuotaApi.as_view(), name="api-submission-quota"),
    path("submissions/<int:pk>/", api.SubmissionDetailApi.as_view(), name="api-submission"),
    path("submissions/<int:pk>/publish/", api.SubmissionPublishApi.as_view(), name="api-submission-publish"),
    path("submissions/<int:pk>/unpublish/", api.SubmissionUnpublishApi.as_view(), name="api-submission-unpublish"),
    path("submissions/<int:pk>/withdraw/", api.SubmissionWithdrawApi.as_view(), name="api-submission-withdraw"),
    path("submissions/<int:pk>/rerun/", api.SubmissionRerunApi.as_view(), name="api-submission-rerun"),
    path("submissions/<int:pk>/hide/", api.SubmissionHideApi.as_view(), name="api-submission-hide"),
    path("submissions/<int:pk>/unhide/", api.SubmissionUnhideApi.as_view(), name="api-submission-unhide"),
    path("uploads/", api.UploadListApi.as_view(), name="api-uploads"),
    path("uploads/<uuid:pk>/", api.UploadDetailApi.as_view(), name="api-upload"),
    path("uploads/<uuid:pk>/complete/", api.UploadCompleteApi.as_view(), name="api-upload-complete"),
]
