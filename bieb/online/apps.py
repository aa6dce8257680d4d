from django.apps import AppConfig


class OnlineConfig(AppConfig):
    """The Online Bibliotheek: an OpenID Connect relying party of the login service."""

    name = "bieb.online"
    label = "online"
    verbose_name = "Online Bibliotheek"
