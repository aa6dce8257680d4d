from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bieb.core"
    label = "core"
    verbose_name = "Algemeen"
