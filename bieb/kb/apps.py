from django.apps import AppConfig


class KbConfig(AppConfig):
    """The national login service (the KB's part). Keeps its own tables; the library side
    reaches it only through `bieb.kb.interface`."""

    name = "bieb.kb"
    label = "kb"
    verbose_name = "Landelijke inlogdienst"

    def ready(self) -> None:
        from bieb.kb import csp, jobs  # noqa: F401  (the purge job; the policy's client cache)
