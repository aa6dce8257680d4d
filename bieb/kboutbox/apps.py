from django.apps import AppConfig


class KBOutboxConfig(AppConfig):
    name = "bieb.kboutbox"
    label = "kboutbox"
    verbose_name = "Opdrachten aan de KB"

    def ready(self) -> None:
        from bieb.kboutbox import metrics, periodic  # noqa: F401  (the retry job, the gauges)
