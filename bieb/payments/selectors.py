"""Reads of payments."""

import uuid

from bieb.libraries.models import Library
from bieb.payments.models import Payment


def payment_get(*, library: Library, public_id: uuid.UUID) -> Payment | None:
    return Payment.objects.filter(library=library, public_id=public_id).first()


def payments_for(*, purpose: str, reference: str) -> list[Payment]:
    """Every payment made for this purpose and reference, newest first."""
    return list(
        Payment.objects.filter(purpose=purpose, reference=reference).order_by("-created_at", "-id")
    )
