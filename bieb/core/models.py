"""Small generic tables shared by the apps: attempt counting and once-only form submissions."""

from django.db import models


class Throttle(models.Model):
    """The attempts counted under one key (an account, an address, an account from an address)
    for rate limits: one row per key, locked while an attempt is decided (bieb.core.attempts)."""

    key = models.CharField("sleutel", max_length=200, primary_key=True)
    count = models.PositiveIntegerField("pogingen", default=0)
    first_at = models.DateTimeField("eerste poging")
    last_at = models.DateTimeField("laatste poging")
    # The last success under this key, e.g. a login of the account from this address.
    succeeded_at = models.DateTimeField("laatst gelukt", null=True, blank=True)
    keep_until = models.DateTimeField("bewaren tot", db_index=True)

    class Meta:
        verbose_name = "pogingenteller"
        verbose_name_plural = "pogingentellers"

    def __str__(self) -> str:
        return f"{self.key} {self.count}"


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
