"""Payments of a library's customers, and the demo payment service's own records."""

import uuid

from django.db import models
from django.db.models import Q

from bieb.customers.models import Customer, LedgerLine, Membership
from bieb.libraries.models import Library


class PaymentStatus(models.TextChoices):
    """Mollie's words for the states of a payment, plus `created` before the provider knows it."""

    CREATED = "created", "aangemaakt"
    OPEN = "open", "open"
    PENDING = "pending", "in behandeling"
    PAID = "paid", "betaald"
    FAILED = "failed", "mislukt"
    CANCELED = "canceled", "geannuleerd"
    EXPIRED = "expired", "verlopen"


# Not (yet) decided by the provider.
UNSETTLED = (PaymentStatus.CREATED, PaymentStatus.OPEN, PaymentStatus.PENDING)
# Final without money: the member may try again with a new payment.
UNPAID_FINAL = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)


class Payment(models.Model):
    """One attempt to pay an amount through one provider.

    `purpose` + `reference` name what the payment is for (e.g. "signup" + the sign-up's key); the
    purpose's handler fulfils it once the provider says it is paid. `idempotency_key` is unique,
    so a repeated start (double click, refresh) finds this row instead of making another.
    """

    public_id = models.UUIDField("kenmerk", default=uuid.uuid4, unique=True, editable=False)
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="klant",
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="lidmaatschap",
    )
    purpose = models.CharField("waarvoor", max_length=20)
    reference = models.CharField("verwijzing", max_length=64, db_index=True)
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2)
    description = models.CharField("omschrijving", max_length=200)
    provider = models.CharField("betaaldienst", max_length=20)
    provider_id = models.CharField("kenmerk betaaldienst", max_length=64, blank=True)
    checkout_url = models.URLField("betaalpagina", max_length=500, blank=True)
    status = models.CharField(
        "status", max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    idempotency_key = models.CharField("idempotentiesleutel", max_length=100, unique=True)
    ledger_line = models.OneToOneField(
        LedgerLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name="boeking",
    )
    fulfilled_at = models.DateTimeField("verwerkt op", null=True, blank=True)
    problem = models.CharField(
        "probleem",
        max_length=300,
        blank=True,
        help_text="Betaald, maar niet verwerkt: bijvoorbeeld dubbel betaald (terugbetalen).",
    )
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    updated_at = models.DateTimeField("gewijzigd op", auto_now=True)
    paid_at = models.DateTimeField("betaald op", null=True, blank=True)

    class Meta:
        verbose_name = "betaling"
        verbose_name_plural = "betalingen"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message="Het bedrag van een betaling moet hoger zijn dan € 0,00.",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="payment_provider_id",
                violation_error_message="De betaaldienst kent al een betaling met dit kenmerk.",
            ),
            models.CheckConstraint(
                condition=Q(ledger_line__isnull=True) | Q(status="paid"),
                name="payment_booked_only_when_paid",
                violation_error_message="Alleen een betaalde betaling kan in de boekhouding staan.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_id or self.public_id} {self.amount} {self.status}"

    @property
    def is_settled(self) -> bool:
        return self.status not in UNSETTLED


class DemoCheckout(models.Model):
    """A payment as the simulated payment service keeps it (its side, not ours)."""

    id = models.CharField(primary_key=True, max_length=40)
    idempotency_key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.CharField(max_length=200)
    redirect_url = models.URLField(max_length=500)
    webhook_url = models.URLField(max_length=500)
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "demobetaling"
        verbose_name_plural = "demobetalingen"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.status}"
