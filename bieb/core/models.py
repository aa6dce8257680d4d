"""Small generic tables shared by the apps: attempt counting and once-only form submissions."""

from django.db import models


class Attempt(models.Model):
    """One counted attempt (e.g. a failed staff login) under a key, for rate limits."""

    key = models.CharField("sleutel", max_length=200)
    at = models.DateTimeField("tijdstip", db_index=True)

    class Meta:
        verbose_name = "poging"
        verbose_name_plural = "pogingen"
        indexes = [models.Index(fields=["key", "at"], name="core_attempt_key_at")]

    def __str__(self) -> str:
        return f"{self.key} {self.at:%Y-%m-%d %H:%M:%S}"


class Submission(models.Model):
    """A form's one-time key, stored in the transaction of the change it asked for: a second
    submit of the same form (a double click, a refresh, two tabs) finds it and changes nothing."""

    key = models.UUIDField("sleutel", unique=True)
    scope = models.CharField("soort", max_length=60)
    at = models.DateTimeField("tijdstip", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "formulierinzending"
        verbose_name_plural = "formulierinzendingen"

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
