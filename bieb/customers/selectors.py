"""Reads of the customer administration; every one is scoped to a library."""

import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet, Sum

from bieb.core.money import ZERO
from bieb.customers.models import Customer, LedgerLine
from bieb.libraries.models import Library


def customer_likely_duplicates(
    *, library: Library, surname: str, birth_date: dt.date, postcode: str
) -> QuerySet[Customer]:
    """Customers of the library with the same surname, birth date and postcode."""
    return Customer.objects.filter(
        library=library,
        surname__iexact=surname,
        birth_date=birth_date,
        postcode=postcode,
    ).order_by("number")


def customer_get(*, library: Library, number: str) -> Customer:
    """The library's customer with this number; Customer.DoesNotExist for another library's."""
    return Customer.objects.get(library=library, number=number)


def customer_saldo(*, customer: Customer) -> Decimal:
    """What the customer still owes: fees minus discounts and payments."""
    total = LedgerLine.objects.filter(customer=customer).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO
