"""Reads of direct debit for the counter."""

from django.db.models import Prefetch, QuerySet

from bieb.customers.models import Customer
from bieb.debits.models import Mandate, MandateEvent
from bieb.libraries.models import Library


def customer_mandates(*, library: Library, customer: Customer) -> QuerySet[Mandate]:
    """This customer's mandates at this library (never another's), newest first, each with its
    history."""
    return (
        Mandate.objects.filter(library=library, customer=customer)
        .prefetch_related(Prefetch("events", queryset=MandateEvent.objects.order_by("at", "id")))
        .order_by("-created_at", "-id")
    )
