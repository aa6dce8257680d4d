"""A Vast (0141 Digital only) member through the year, as the period payment link meets them:
registered and paid at the desk on 12 June 2024 ("Geldig t/m mei 2025"), offered the renewal by
the run of 2 May 2025 with a mail that carries the link."""

import datetime as dt
import re

import time_machine

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Customer, Membership
from bieb.customers.renewals import renewals_run
from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.factories import details

REGISTERED = dt.datetime(2024, 6, 12, 10, tzinfo=dt.UTC)
RUN_DAY = dt.date(2025, 5, 2)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def member_registered(
    balie: User, branch: Branch, subscription: SubscriptionType, *, paid: bool = True
) -> Customer:
    with time_machine.travel(REGISTERED):
        registration = customer_register(
            actor=balie, branch=branch, details=details(), subscription_type=subscription
        )
        if paid:
            ledger_payment_book(
                actor=balie,
                customer=registration.customer,
                amount=subscription.price,
                method="pin",
            )
    return registration.customer


def renewal_link(customer: Customer, *, day: dt.date = RUN_DAY) -> str:
    """Run the renewals of the member's library on `day`; the link in the mail it sent (the
    path, without the host)."""
    with time_machine.travel(at(day)):
        renewals_run(library=customer.library, day=day, started_by="test")
    message = OutboxMessage.objects.filter(to=customer.email, kind__startswith="customers.").latest(
        "id"
    )
    found = re.search(r"https?://[^/\s]+(/betalen/verlengen/\S+/)", message.text_body)
    assert found, message.text_body
    return found.group(1)


def membership_of(customer: Customer) -> Membership:
    return Membership.objects.get(customer=customer)
