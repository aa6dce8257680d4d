from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "bieb.libraries"
    label = "libraries"
    verbose_name = "Bibliotheken en abonnementen"

    def ready(self) -> None:
        from bieb.libraries import receivers  # noqa: F401  (tells the login service of changes)
