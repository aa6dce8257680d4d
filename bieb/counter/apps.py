from django.apps import AppConfig


class CounterConfig(AppConfig):
    """The counter ("balie"): the pages counter staff use to register and help customers."""

    name = "bieb.counter"
    label = "counter"
    verbose_name = "Balie"

    def ready(self) -> None:
        from bieb.core.errors import csrf_recovery_register
        from bieb.counter.kept import PREFIX, csrf_recovery

        # A counter form that fails the CSRF check is kept and shown again, not lost.
        csrf_recovery_register(PREFIX, csrf_recovery)
