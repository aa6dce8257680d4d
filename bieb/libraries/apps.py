from django.apps import AppConfig, apps


class LibrariesConfig(AppConfig):
    name = "bieb.libraries"
    label = "libraries"
    verbose_name = "Bibliotheken en abonnementen"

    def ready(self) -> None:
        # A login service of its own (BIEB_ROLE=kb) keeps the libraries' tables only for its
        # staff users (they belong to a library): no library side there to tell the KB of
        # changes, or to read its feed.
        if apps.is_installed("bieb.kboutbox"):
            from bieb.libraries import (
                periodic,  # noqa: F401  (reads the login service's event feed)
                receivers,  # noqa: F401  (tells the login service of changes, by the outbox)
            )
