from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "bieb.mail"
    label = "mail"
    verbose_name = "E-mail"

    def ready(self) -> None:
        # Registers the outbox retry with `bieb runperiodic`.
        from bieb.mail import metrics, periodic  # noqa: F401  (the outbox's gauges)
