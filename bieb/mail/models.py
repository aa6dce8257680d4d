"""The outbox: every mail Bieb sends is first stored here, then sent by a task after commit."""

from django.db import models


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "in wachtrij"
    SENDING = "sending", "wordt verzonden"
    SENT = "sent", "verzonden"
    FAILED = "failed", "mislukt"
    KEPT = "kept", "bewaard (geen SMTP ingesteld)"


class OutboxMessage(models.Model):
    """One mail to one recipient.

    A queued message is due at `next_attempt_at`; a worker sends it only after claiming it
    (queued → sending), so two workers never send it at once. The claim is a lease: while
    sending, `next_attempt_at` is when the claim runs out. A worker that dies mid-send leaves
    the row "sending"; once the lease has run out the periodic retry takes it again. Delivery
    is therefore at least once: the server may have taken the mail in just before the worker
    died. `message_id`, fixed when the mail is queued, goes out with every attempt, so a second
    copy is recognisable (and dropped by servers and clients that deduplicate on it).
    """

    to = models.EmailField("aan")
    subject = models.CharField("onderwerp", max_length=255)
    text_body = models.TextField("tekst")
    html_body = models.TextField("HTML", blank=True)
    kind = models.CharField(
        "soort", max_length=50, blank=True, help_text="bijvoorbeeld kb.activation"
    )
    reference = models.CharField(
        "kenmerk", max_length=100, blank=True, help_text="bijvoorbeeld het nummer van een account"
    )
    status = models.CharField(
        "status", max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    message_id = models.CharField(
        "Message-ID",
        max_length=255,
        blank=True,
        help_text="Gaat mee met elke poging: een tweede exemplaar is zo te herkennen.",
    )
    attempts = models.PositiveSmallIntegerField("pogingen", default=0)
    next_attempt_at = models.DateTimeField(
        "volgende poging",
        null=True,
        blank=True,
        help_text="Bij 'wordt verzonden': wanneer een andere verzender het mag overnemen.",
    )
    last_error = models.TextField("laatste fout", blank=True)
    created_at = models.DateTimeField("aangemaakt", auto_now_add=True)
    sent_at = models.DateTimeField("verzonden op", null=True, blank=True)

    class Meta:
        verbose_name = "uitgaand bericht"
        verbose_name_plural = "uitgaande berichten"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="mail_outbox_due"),
            models.Index(fields=["kind", "reference"], name="mail_outbox_kind_reference"),
            models.Index(fields=["-created_at", "-id"], name="mail_outbox_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
