"""Paying a membership period online with the member's payment link (renewal mails, reminders,
`/online/`): no login, the signed link is the key. Paying a Vast renewal renews it in the same
transaction ("verlengen en betalen in één keer"); paying a booked period settles it. Either way
the rights come back in the commit that books the payment.

Idempotency as in the sign-up: under the period's row lock an unsettled payment of the same
amount is reused (double click, refresh), a paid one ends it, a retry after a failed one gets the
next key.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.memberships import membership_renew
from bieb.customers.models import MembershipPeriod, MembershipStatus, PeriodState
from bieb.customers.year import customer_saldo_of
from bieb.payments.handlers import FulfilmentProblem, fulfilment_handler
from bieb.payments.models import UNSETTLED, Payment
from bieb.payments.selectors import payments_for
from bieb.payments.services import payment_book, payment_checkout, payment_prepare

PURPOSE = "periode"


class NothingToPay(Exception):
    """The link's period is paid, or no longer open (cancelled, ended): the Dutch reason, and
    which of these it is (`code`: "paid", "cancelled", "ended") for the page's heading."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def period_amount_due(period: MembershipPeriod) -> Decimal:
    """What the link asks: the period's price when it is still to be renewed (Vast, offered);
    for a booked period what is open of it (the customer's saldo, at most the period's price)."""
    if period.state == PeriodState.OFFERED:
        return period.amount
    if period.state != PeriodState.BOOKED:
        return Decimal("0.00")
    saldo = customer_saldo_of(period.membership.customer_id)
    return max(min(saldo, period.amount), Decimal("0.00"))


def period_payable(period: MembershipPeriod) -> Decimal:
    """The amount to pay now, or NothingToPay with the reason."""
    membership = period.membership
    if period.state == PeriodState.LAPSED or membership.is_cancelled:
        raise NothingToPay(
            "Dit abonnement is opgezegd of gewijzigd; deze betaallink werkt niet meer.",
            code="cancelled",
        )
    if membership.status == MembershipStatus.DEREGISTERED:
        raise NothingToPay(
            "Dit abonnement is beëindigd wegens een betalingsachterstand. Neem contact op met de "
            "bibliotheek om weer lid te worden.",
            code="ended",
        )
    amount = period_amount_due(period)
    if amount <= 0:
        raise NothingToPay(
            f"Deze periode is betaald: je abonnement loopt t/m {date_nl(period.end)}.",
            code="paid",
        )
    return amount


def period_payment_start(
    *, period: MembershipPeriod, return_url: Callable[[uuid.UUID], str]
) -> Payment:
    """Start (or find again) the payment of this period; returns it with its checkout URL."""
    reference = str(period.pk)
    with transaction.atomic():
        locked = (
            MembershipPeriod.objects.select_for_update(of=("self",))
            .select_related("membership", "membership__customer", "library", "subscription_type")
            .get(pk=period.pk)
        )
        amount = period_payable(locked)
        earlier = payments_for(purpose=PURPOSE, reference=reference)
        latest = earlier[0] if earlier else None
        if latest is not None and latest.status in UNSETTLED and latest.amount == amount:
            key = latest.idempotency_key
        else:
            key = f"{PURPOSE}:{locked.pk}:{len(earlier) + 1}"
        payment = payment_prepare(
            library=locked.library,
            purpose=PURPOSE,
            reference=reference,
            idempotency_key=key,
            amount=amount,
            description=(
                f"{locked.library.name} {locked.subscription_type.name} "
                f"{date_nl(locked.start)} t/m {date_nl(locked.end)}"
            )[:200],
        )
    return payment_checkout(payment=payment, return_url=return_url)


@fulfilment_handler(PURPOSE)
def period_fulfil(payment: Payment) -> None:
    """The member paid the link: renew the period if it was only offered, book the payment;
    the rights follow in the same transaction."""
    period = (
        MembershipPeriod.objects.select_related("membership", "membership__customer")
        .filter(pk=int(payment.reference), library_id=payment.library_id)
        .first()
    )
    if period is None:
        raise FulfilmentProblem(
            f"Terugbetalen: de periode van deze betaling bestaat niet. Betaal "
            f"{format_euro(payment.amount)} terug."
        )
    membership = period.membership
    customer = membership.customer
    name = f"online:{customer.number}"
    if period.state == PeriodState.OFFERED:
        try:
            membership_renew(membership=membership, actor=None, actor_name=name)
        except ValidationError as error:
            raise FulfilmentProblem(
                f"Terugbetalen: betaald, maar niet verlengd ({error.messages[0]}). Betaal "
                f"{format_euro(payment.amount)} terug.",
                customer=customer,
            ) from None
    elif period.state == PeriodState.LAPSED:
        raise FulfilmentProblem(
            f"Terugbetalen: betaald voor een periode die niet doorgaat (opgezegd of gewijzigd). "
            f"Betaal {format_euro(payment.amount)} terug.",
            customer=customer,
        )
    # Paid also when the saldo was settled meanwhile at the desk: the money is the customer's
    # credit then (saldo below zero), for staff to refund or keep.
    payment_book(payment=payment, customer=customer, membership=membership)


def period_payments(period: MembershipPeriod) -> list[Payment]:
    return payments_for(purpose=PURPOSE, reference=str(period.pk))
