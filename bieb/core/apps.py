from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bieb.core"
    label = "core"
    verbose_name = "Algemeen"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from bieb.core import lookups  # noqa: F401  (registers `__any`)
        from bieb.core.middleware import staff_session_start

        user_logged_in.connect(staff_session_start, dispatch_uid="bieb.core.staff_session_start")
