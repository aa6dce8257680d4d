from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "bieb.libraries"
    label = "libraries"
    verbose_name = "Bibliotheken en abonnementen"

    def ready(self) -> None:
        from bieb.libraries import (
            periodic,  # noqa: F401  (reads the login service's event feed)
            receivers,  # noqa: F401  (tells the login service of changes)
        )
