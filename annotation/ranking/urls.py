"""Page routes of the ranking area."""

from django.urls import path

from annotation.ranking import views

app_name = "ranking"

urlpatterns = [
    path(
        "suites/<str:name>/<str:version>/disagreements/",
        views.disagreements_page,
        name="disagreements",
    ),
]
