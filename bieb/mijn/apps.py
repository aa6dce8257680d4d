from django.apps import AppConfig


class MijnConfig(AppConfig):
    """Mijn bibliotheek (/mijn/<library>/): the member's own pages at their library, signed in
    through the login service as an OpenID Connect relying party."""

    name = "bieb.mijn"
    label = "mijn"
    verbose_name = "Mijn bibliotheek"
