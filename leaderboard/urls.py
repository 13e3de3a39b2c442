from django.urls import path

from leaderboard import public_views, views
from leaderboard.media_ranges import byte_ranges

app_name = "leaderboard"

urlpatterns = [
    # The public pages (leaderboard.public_views).
    path("", public_views.home, name="home"),
    path("suites/<str:name>/<str:version>/", public_views.suite_leaderboard, name="suite"),
    path("suites/<str:name>/<str:version>/agreement/", public_views.agreement_page, name="agreement"),
    path("suites/<str:name>/<str:version>/models/<slug:slug>/", public_views.model_page, name="model"),
    path("clips/<int:pk>/", public_views.clip_page, name="clip"),
    path("bench/constant", public_views.bench_constant, name="bench_constant"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/progress.json", views.submission_progress, name="submission_progress"),
    # Byte ranges so the clip page's player can seek (the view keeps its visibility and safety checks).
    path("clips/<int:pk>/media", byte_ranges(views.clip_media), name="clip_media"),
    path("clips/<int:pk>/result.json", views.clip_result, name="clip_result"),
]
