"""Page routes of the annotation app: /annotate/ for annotators, /curate/campaigns/ for curators."""

from django.urls import path

from annotation import views

app_name = "annotation"

urlpatterns = [
    path("annotate/", views.annotate_home, name="home"),
    path("annotate/<int:campaign_id>/", views.annotate, name="annotate"),
    path("annotate/<int:campaign_id>/join", views.campaign_join, name="join"),
    path("annotate/media/<str:token>", views.task_media, name="media"),
    path("curate/campaigns/", views.campaign_list, name="campaigns"),
    path("curate/campaigns/new/", views.campaign_create, name="campaign_create"),
    path("curate/campaigns/<int:campaign_id>/", views.campaign_dashboard, name="campaign_dashboard"),
    path("curate/campaigns/<int:campaign_id>/judgments.csv", views.campaign_export, {"fmt": "csv"}, name="export_csv"),
    path("curate/campaigns/<int:campaign_id>/judgments.json", views.campaign_export, {"fmt": "json"}, name="export_json"),
]
