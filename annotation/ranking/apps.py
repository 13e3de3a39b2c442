from django.apps import AppConfig


class RankingConfig(AppConfig):
    name = "annotation.ranking"
    label = "ranking"
    verbose_name = "Human ranking and correlation"
    default_auto_field = "django.db.models.BigAutoField"
