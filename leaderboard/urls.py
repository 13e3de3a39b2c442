from django.urls import path

from leaderboard import views

app_name = "leaderboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("suites/<str:name>/<str:version>/", views.suite_leaderboard, name="suite"),
    path("models/new/", views.model_create, name="model_create"),
    path("submit/", views.submission_upload, name="submit"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/progress.json", views.submission_progress, name="submission_progress"),
    path("clips/<int:pk>/media", views.clip_media, name="clip_media"),
    path("clips/<int:pk>/result.json", views.clip_result, name="clip_result"),
]
