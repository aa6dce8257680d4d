from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "bieb.libraries"
    label = "libraries"
    verbose_name = "Bibliotheken en abonnementen"
