"""The library's outbox for calls to the login service (the KB): every change the library asks
of the KB is first stored here, in the library's own transaction, and made by a task after that
transaction commits (bieb.kboutbox.services)."""

import uuid

from django.db import models


class KBCallKind(models.TextChoices):
    ACCOUNT_CREATE = "account_create", "inlogaccount aanmaken"
    ACCOUNT_LINK = "account_link", "bestaand inlogaccount koppelen"
    ACCOUNT_LINK_OWN = "account_link_own", "eigen inlogaccount koppelen (online)"
    ACCOUNT_FORGET = "account_forget", "inlogaccount vergeten"
    ACCOUNTS_FORGET = "accounts_forget", "inlogaccounts vergeten (bewaartermijn)"
    ACTIVATION_RESEND = "activation_resend", "activeringsmail opnieuw versturen"
    EMAIL_CHANGE = "email_change", "e-mail van inlogaccount wijzigen"
    MEMBERSHIPS_UPDATE = "memberships_update", "abonnementen bijwerken"
    LIBRARY_UPDATE = "library_update", "gegevens van de bibliotheek bijwerken"


class KBCallState(models.TextChoices):
    PENDING = "pending", "wacht"
    RUNNING = "running", "bezig"
    DONE = "done", "klaar"
    # The KB said no (a ValidationError, in Dutch): trying again does not help; staff act.
    REFUSED = "refused", "geweigerd door de KB"
    # Made unnecessary before it ran (a new account forgotten while its creation waited).
    CANCELLED = "cancelled", "ingetrokken"


OPEN_STATES = (KBCallState.PENDING, KBCallState.RUNNING)


class KBCall(models.Model):
    """One call to the login service, as the library asked for it.

    A pending call is due at `next_attempt_at`; a worker makes it only after claiming it
    (pending → running, one conditional UPDATE), and only when no earlier call with the same
    `ordering_key` (one customer's calls, one library's membership copies) is still open, so
    that, say, a "Vergeet inlogaccount" never overtakes the creation of that account. The claim
    is a lease: while running, `next_attempt_at` is when it runs out, and a worker that died
    leaves the call to be claimed again. A call may therefore reach the KB twice (an answer lost
    on the way back); each kind is idempotent at the KB (`idempotency_key`: for a new account
    the account's own id, chosen here before the first attempt)."""

    kind = models.CharField("soort", max_length=30, choices=KBCallKind.choices)
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="kb_calls",
        verbose_name="klant",
    )
    ordering_key = models.CharField(
        "volgorde",
        max_length=100,
        help_text="Opdrachten met dezelfde sleutel worden in volgorde uitgevoerd.",
    )
    payload = models.JSONField("gegevens", default=dict, blank=True)
    idempotency_key = models.UUIDField("idempotentiesleutel", default=uuid.uuid4, unique=True)
    actor = models.CharField("aangevraagd door", max_length=150, blank=True)
    state = models.CharField(
        "status", max_length=10, choices=KBCallState.choices, default=KBCallState.PENDING
    )
    attempts = models.PositiveIntegerField("pogingen", default=0)
    next_attempt_at = models.DateTimeField("volgende poging", null=True, blank=True)
    last_attempt_at = models.DateTimeField("laatste poging", null=True, blank=True)
    # Why the last attempt failed: the KB could not be reached (retried), or its refusal.
    unavailable = models.BooleanField("KB niet bereikbaar", default=False)
    last_error = models.TextField("laatste fout", blank=True)
    result = models.JSONField("antwoord", default=dict, blank=True)
    created_at = models.DateTimeField("aangemaakt", auto_now_add=True)
    finished_at = models.DateTimeField("afgerond", null=True, blank=True)

    class Meta:
        verbose_name = "opdracht aan de KB"
        verbose_name_plural = "opdrachten aan de KB"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="kboutbox_due"),
            models.Index(fields=["ordering_key", "state"], name="kboutbox_ordering"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
