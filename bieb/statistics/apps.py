from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    """The library's figures ("Statistiek"): daily aggregates of the customer administration,
    kept by a periodic job, read by the counter's statistics page."""

    name = "bieb.statistics"
    label = "statistics"
    verbose_name = "Statistiek"

    def ready(self) -> None:
        from bieb.statistics import periodic  # noqa: F401  (the daily figures' job)
