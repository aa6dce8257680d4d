from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class CoreConfig(AppConfig):
    name = "bieb.core"
    label = "core"
    verbose_name = "Algemeen"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from bieb.core import lookups  # noqa: F401  (registers `__any`)
        from bieb.core.middleware import staff_session_start

        user_logged_in.connect(staff_session_start, dispatch_uid="bieb.core.staff_session_start")


class StaticFilesConfig(BaseStaticFilesConfig):
    """Django's static files, without what no page of ours serves: django-ninja ships ReDoc
    (a 0.9 MB script and its 3.3 MB source map) next to the Swagger UI that the KB's API
    page uses, and compressing them was a third of `collectstatic`, so of `make run`."""

    ignore_patterns = [*BaseStaticFilesConfig.ignore_patterns, "redoc.standalone.js*"]
