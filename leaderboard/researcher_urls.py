"""Researchers' pages: sign-up and account, the model registry, uploads, own submissions, curation."""

from django.urls import path, re_path

from leaderboard import researcher_views as views

app_name = "researchers"

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("account/", views.account, name="account"),
    path("account/tokens/", views.token_create, name="token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<slug:slug>/", views.model_detail, name="model_detail"),
    path("models/<slug:slug>/edit/", views.model_edit, name="model_edit"),
    path("submit/", views.submission_upload, name="submit"),
    path("submissions/mine/", views.my_submissions, name="my_submissions"),
    re_path(
        r"^submissions/(?P<pk>[0-9]+)/(?P<action>publish|unpublish|withdraw|rerun|hide|unhide)/$",
        views.submission_action,
        name="submission_action",
    ),
    path("curation/", views.curation, name="curation"),
]
