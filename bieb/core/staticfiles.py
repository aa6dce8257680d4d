"""The static files app, in a module of its own: bieb/core/apps.py must hold one AppConfig only,
or Django would not pick CoreConfig for "bieb.core" (and its ready() would not run)."""

from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class StaticFilesConfig(BaseStaticFilesConfig):
    """Django's static files, without what no page of ours serves: django-ninja ships ReDoc
    (a 0.9 MB script and its 3.3 MB source map) next to the Swagger UI that the KB's API
    page uses, and compressing them was a third of `collectstatic`, so of `make run`."""

    ignore_patterns = [*BaseStaticFilesConfig.ignore_patterns, "redoc.standalone.js*"]
