"""Tables of the KB's API: the libraries' event feed, the stored answers of idempotent calls and
the log of every call a library system made."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class LibraryEventKind(models.TextChoices):
    ACTIVATED = "account.activated", "inlogaccount geactiveerd"
    EMAIL_CHANGED = "account.email_changed", "e-mailadres gewijzigd"
    DELETED = "account.deleted", "inlogaccount verwijderd"
    PURGED = "account.purged", "inlogaccount opgeruimd (nooit geactiveerd)"


class LibraryEvent(models.Model):
    """Something that happened to an account linked to a library's customer, for that library
    to read (`GET /kb/api/v1/libraries/<code>/events`). One row per linked membership, written
    in the transaction of the change; it keeps the account id and the customer number, so a
    library can match it after the account (and its link) is gone.

    `position` is the feed's cursor. It is not the id: on PostgreSQL an id is drawn when a row
    is inserted, not when it commits, so a row with a smaller id can become visible after a
    reader moved past it. Positions are handed out only to committed rows, in one
    serialised step (`bieb.kb.api.events.events_sequence`), so they become visible in order."""

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField("positie", null=True, blank=True, unique=True)
    at = models.DateTimeField("tijdstip", default=timezone.now)
    library_code = models.CharField("bibliotheek", max_length=30)
    kind = models.CharField("gebeurtenis", max_length=30, choices=LibraryEventKind.choices)
    account_id = models.UUIDField("account")
    customer_number = models.CharField("klantnummer", max_length=20)
    username = models.CharField("gebruikersnaam", max_length=80, blank=True)
    email = models.CharField("e-mailadres", max_length=254, blank=True)

    class Meta:
        verbose_name = "gebeurtenis voor bibliotheek"
        verbose_name_plural = "gebeurtenissen voor bibliotheken"
        indexes = [
            models.Index(fields=["library_code", "position"], name="kb_libevent_feed"),
            models.Index(
                fields=["id"], condition=Q(position__isnull=True), name="kb_libevent_unsequenced"
            ),
            models.Index(fields=["at"], name="kb_libevent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.position or '-'} {self.library_code} {self.kind} {self.customer_number}"


class LibraryEventHead(models.Model):
    """One row: the last position handed out. Its row lock serialises `events_sequence`."""

    last = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "laatste positie gebeurtenissen"
        verbose_name_plural = "laatste positie gebeurtenissen"

    def __str__(self) -> str:
        return str(self.last)


class IdempotentCall(models.Model):
    """The stored answer of a call made with an `Idempotency-Key`: the same key again from the
    same client gets this answer instead of a second change. Written in the transaction of the
    change (an error rolls it back with the change, so a retry runs again)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField("client", max_length=100)
    key = models.CharField("sleutel", max_length=200)
    # SHA-256 of method, path and the canonical JSON body: the same key with another request
    # is refused.
    fingerprint = models.CharField("vingerafdruk", max_length=64)
    status = models.PositiveSmallIntegerField("status", null=True, blank=True)
    response = models.JSONField("antwoord", null=True, blank=True)
    created_at = models.DateTimeField("ontvangen op", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "idempotente aanroep"
        verbose_name_plural = "idempotente aanroepen"
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "key"],
                name="kb_idempotent_once",
                violation_error_message="Deze client gebruikte deze sleutel al.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.key}"


class ApiCall(models.Model):
    """The audit log of the API: every authenticated call, with the client that made it, the
    library it acted for and the answer's status."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField("tijdstip", default=timezone.now, db_index=True)
    client_id = models.CharField("client", max_length=100, db_index=True)
    library_code = models.CharField("bibliotheek", max_length=30, blank=True)
    actor = models.CharField("medewerker", max_length=150, blank=True)
    method = models.CharField("methode", max_length=10)
    path = models.CharField("pad", max_length=300)
    status = models.PositiveSmallIntegerField("status")
    ip = models.GenericIPAddressField("IP-adres", null=True, blank=True)

    class Meta:
        verbose_name = "API-aanroep"
        verbose_name_plural = "API-aanroepen"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.client_id} {self.method} {self.path} {self.status}"
