"""Reads of payments."""

import uuid

from django.db.models import QuerySet

from bieb.customers.models import Customer
from bieb.libraries.models import Library
from bieb.payments.models import Payment, PaymentStatus


def payment_get(*, library: Library, public_id: uuid.UUID) -> Payment | None:
    return Payment.objects.filter(library=library, public_id=public_id).first()


def payments_for(*, purpose: str, reference: str) -> list[Payment]:
    """Every payment made for this purpose and reference, newest first."""
    return list(
        Payment.objects.filter(purpose=purpose, reference=reference).order_by("-created_at", "-id")
    )


def payments_to_refund(*, customer: Customer) -> QuerySet[Payment]:
    """The customer's paid payments that were not used (not booked) and carry a problem for
    staff, such as a second online sign-up: money to pay back. Oldest first."""
    return (
        Payment.objects.filter(
            customer=customer, status=PaymentStatus.PAID, ledger_line__isnull=True
        )
        .exclude(problem="")
        .order_by("paid_at", "id")
    )
