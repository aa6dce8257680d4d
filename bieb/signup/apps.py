from django.apps import AppConfig


class SignupConfig(AppConfig):
    """Self-registration on the library website: `/word-lid/<library>/`."""

    name = "bieb.signup"
    label = "signup"
    verbose_name = "Online inschrijven"

    def ready(self) -> None:
        # Registers the payment handler ("signup") and the clean-up job.
        from bieb.signup import periodic, services  # noqa: F401
