from django.apps import AppConfig


class CounterConfig(AppConfig):
    """The counter ("balie"): the pages counter staff use to register and help customers."""

    name = "bieb.counter"
    label = "counter"
    verbose_name = "Balie"
