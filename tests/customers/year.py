"""Builders for the membership year's tests: members registered at the counter on a day, the
renewal run of a day, travel in time (Europe/Amsterdam), the mails a member got."""

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Customer, Membership, MembershipPeriod
from bieb.customers.renewals import renewals_run
from bieb.customers.services import customer_register
from bieb.customers.year import customer_saldo_of
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.factories import details

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@contextmanager
def on(day: dt.date, hour: int = 10, minute: int = 0) -> Iterator[Any]:
    """Stand still at `hour` o'clock of `day`, Amsterdam time."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM)
    with time_machine.travel(moment, tick=False) as clock:
        yield clock


def member(
    actor: User,
    branch: Branch,
    subscription: SubscriptionType,
    day: dt.date,
    *,
    pay: bool = True,
    **overrides: Any,
) -> Membership:
    """A customer registered at the counter on `day` (a login account generated), paid at the
    desk the same minute unless `pay` is False."""
    overrides.setdefault("surname", f"Lid{Customer.objects.count() + 1}")
    overrides.setdefault("email", f"{overrides['surname'].lower()}@example.nl")
    with on(day):
        registration = customer_register(
            actor=actor,
            branch=branch,
            details=details(**overrides),
            subscription_type=subscription,
            on=day,
        )
        if pay and customer_saldo_of(registration.customer.pk) > 0:
            pay_saldo(actor, registration.customer)
    return Membership.objects.get(pk=registration.membership.pk)


def pay_saldo(actor: User, customer: Customer, method: str = "pin") -> Decimal:
    saldo = customer_saldo_of(customer.pk)
    ledger_payment_book(actor=actor, customer=customer, amount=saldo, method=method)
    return saldo


def run(library: Library, day: dt.date) -> Any:
    """The renewal run of `day`, on that day."""
    with on(day, hour=2):
        return renewals_run(library=library, day=day, started_by="test")


def fresh(membership: Membership) -> Membership:
    return Membership.objects.select_related("customer", "subscription_type").get(pk=membership.pk)


def periods(membership: Membership) -> list[tuple[dt.date, dt.date, str, Decimal, str]]:
    return [
        (p.start, p.end, p.subscription_type.code, p.amount, p.state)
        for p in MembershipPeriod.objects.filter(membership=membership)
        .select_related("subscription_type")
        .order_by("start")
    ]


def mails(membership: Membership, kind: str = "") -> list[OutboxMessage]:
    found = OutboxMessage.objects.filter(
        to=membership.customer.email, kind__startswith="customers."
    ).order_by("id")
    if kind:
        found = found.filter(kind=f"customers.{kind}")
    return list(found)


def link_in(message: OutboxMessage) -> str:
    match = re.search(r"https?://\S+/betalen/verlengen/(\S+?)/", message.text_body)
    assert match, message.text_body
    return match.group(1)
