from django.apps import AppConfig
from django.core import checks


class ScoringConfig(AppConfig):
    name = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_engine_config, checks.Tags.compatibility)


def check_engine_config(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """`manage.py check` (and every worker start) reports an invalid MSAV_JUDGE_* / MSAV_ASR_* setting."""
    from django.core.exceptions import ImproperlyConfigured

    from scoring.services import engine_config

    try:
        engine_config()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="scoring.E001")]
    return []
