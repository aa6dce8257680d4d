from django.apps import AppConfig


class KbConfig(AppConfig):
    """The national login service (the KB's part). Keeps its own tables; the library side
    reaches it only through `bieb.kb.interface`."""

    name = "bieb.kb"
    label = "kb"
    verbose_name = "Landelijke inlogdienst"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from bieb.kb import csp, jobs, metrics  # noqa: F401  (purge job; client cache; gauges)
        from bieb.kb.clients import clients_after_migrate

        # The relying parties every installation has, registered by `bieb migrate` (not only
        # by the demo: a production install has no demo data).
        post_migrate.connect(clients_after_migrate, sender=self)

        from bieb.core.errors import error_answer_register
        from bieb.kb.api.problems import error_answer

        # The API's errors that no view of its own sees (a NUL byte, an unknown address) as
        # problem details too.
        error_answer_register("/kb/api/", error_answer)
