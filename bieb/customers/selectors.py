"""Reads of the customer administration; every one is scoped to a library."""

import datetime as dt
import re
import uuid
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from bieb.core.money import ZERO
from bieb.customers.models import Customer, LedgerLine, Membership
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


SEARCH_LIMIT = 25
_SEARCH_POSTCODE_RE = re.compile(
    r"^(\d{4})\s*([A-Za-z]{1,2})(?:\s*[-,]?\s*(\d{1,5})[A-Za-z0-9 -]*)?$", re.ASCII
)


def customer_search(
    *, library: Library, query: str, limit: int = SEARCH_LIMIT
) -> tuple[list[Customer], bool]:
    """The library's customers matching what counter staff typed, and whether there are more.

    The query is read as a customer number (digits; also the start of a postcode), a postcode
    with an optional house number (`9468 BG 41`), an e-mail address (contains @), or else
    names: every word must occur in the initials, prefix, surname or first name.
    """
    text = " ".join((query or "").split())
    if len(text) < 2:
        return [], False
    customers = Customer.objects.filter(library=library)
    compact = text.replace(" ", "")
    postcode = _SEARCH_POSTCODE_RE.match(text)
    if "@" in text:
        customers = customers.filter(email__icontains=text)
    elif compact.isdigit() and compact.isascii():
        condition = Q(number__contains=compact)
        if len(compact) == 4:
            condition |= Q(postcode__startswith=compact)
        customers = customers.filter(condition)
    elif postcode:
        digits, letters, house = postcode.groups()
        code = f"{digits}{letters.upper()}"
        if house:
            customers = customers.filter(postcode=code, house_number=int(house))
        elif len(letters) == 2:
            customers = customers.filter(postcode=code)
        else:
            customers = customers.filter(postcode__startswith=code)
    else:
        for word in text.split():
            customers = customers.filter(
                Q(surname__icontains=word)
                | Q(prefix__icontains=word)
                | Q(first_name__icontains=word)
                | Q(initials__icontains=word)
            )
    found = list(customers.order_by("surname", "initials", "number")[: limit + 1])
    return found[:limit], len(found) > limit


def customer_memberships(*, customer: Customer) -> QuerySet[Membership]:
    """The customer's memberships, newest first, with what their cost build-up needs."""
    memberships = Membership.objects.filter(customer=customer, library_id=customer.library_id)
    return memberships.select_related(
        "subscription_type", "subscription_type__library", "tariff", "discount", "branch"
    )


def customer_ledger(*, customer: Customer) -> QuerySet[LedgerLine]:
    """The customer's ledger lines in booking order."""
    return LedgerLine.objects.filter(customer=customer, library_id=customer.library_id)


def customer_by_registration_key(*, library: Library, key: uuid.UUID) -> Customer | None:
    """The library's customer registered by the form with this key, if that form was saved."""
    return Customer.objects.filter(library=library, registration_key=key).first()
