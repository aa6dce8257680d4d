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


class JobLease(models.Model):
    """One periodic job's schedule across all servers (bieb.core.periodic): the next due time,
    and who runs it now until when. A server runs a job only after it took the lease with one
    conditional UPDATE, so each due time runs once however many `runperiodic` processes there
    are; a lease whose holder died runs out at `leased_until` and is taken over."""

    name = models.CharField("taak", max_length=100, primary_key=True)
    due_at = models.DateTimeField("volgende keer")
    holder = models.CharField("draait op", max_length=200, blank=True)
    leased_until = models.DateTimeField("bezet tot", null=True, blank=True)

    class Meta:
        verbose_name = "periodieke taak"
        verbose_name_plural = "periodieke taken"

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    """A run of a periodic job: which due time, on which server and process, how it ended."""

    name = models.CharField("taak", max_length=100)
    due_at = models.DateTimeField("gepland voor")
    holder = models.CharField("draaide op", max_length=200)
    started_at = models.DateTimeField("begonnen")
    finished_at = models.DateTimeField("klaar", null=True, blank=True)
    ok = models.BooleanField("gelukt", null=True)
    result = models.TextField("uitkomst", blank=True)

    class Meta:
        verbose_name = "uitvoering periodieke taak"
        verbose_name_plural = "uitvoeringen periodieke taken"
        indexes = [models.Index(fields=["name", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.due_at:%Y-%m-%d %H:%M}"
