"""The member's mails about a planned debit: the pre-notification of an open amount, the new
date of a debit planned again, and a planned debit that is called off. Each says what SEPA
wants the debtor to know before a collection: the amount, the date, the account, the creditor
(name and Incassant-ID) and the mandate reference. The pre-notification of a renewal is the
renewal mail itself (bieb.customers.renewals); that of an online choice is in
bieb.debits.online; the mail of a returned debit is in bieb.debits.returns.

The builders return the arguments of one mail for `mail_queue_many` (None for a member
without an e-mail address); the caller queues them in its transaction."""

import datetime as dt
from typing import Any

from django.template.loader import get_template

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.models import Customer
from bieb.customers.validators import masked_iban
from bieb.customers.year import membership_period_to_pay, period_pay_url
from bieb.debits.models import Debit, Mandate
from bieb.libraries.models import Library

MailArgs = dict[str, str]


def debit_pay_url(debit: Debit) -> str:
    """The payment link for what a debit that did not go through leaves open: that of its
    period's membership; none for an open amount (no period), whose member is told to contact
    the library or pay at the desk."""
    if debit.period is None:
        return ""
    membership = debit.period.membership
    membership.refresh_from_db()
    period = membership_period_to_pay(membership)
    return period_pay_url(period) if period is not None else ""


def debit_notice_context(
    debit: Debit, customer: Customer, library: Library, mandate: Mandate
) -> dict[str, Any]:
    """What every mail about a planned debit says (SEPA's pre-notification: amount, date,
    account, creditor and Incassant-ID, mandate reference), and the period it pays, if any."""
    context: dict[str, Any] = {
        "name": customer.first_name or customer.display_name,
        "number": customer.number,
        "library": library,
        "contact": library.contact_lines,
        "amount": format_euro(debit.amount),
        "date": date_nl(debit.collection_date),
        "iban": masked_iban(mandate.iban),
        "mandate": mandate.reference,
        "creditor": library.creditor_display_name,
        "creditor_id": library.creditor_id,
    }
    if debit.period is not None:
        context.update(start=date_nl(debit.period.start), end=date_nl(debit.period.end))
    return context


def _mail(customer: Customer, subject: str, template: str, kind: str, debit: Debit, **ctx: Any):
    return {
        "to": customer.email,
        "subject": subject,
        "text": get_template(f"debits/mail/{template}.txt").render(ctx),
        "kind": f"debits.{kind}",
        "reference": debit.end_to_end_id,
    }


def open_amount_notice(
    debit: Debit, *, customer: Customer, library: Library, mandate: Mandate
) -> MailArgs | None:
    """The pre-notification of an open amount the library chose to collect."""
    if not customer.email:
        return None
    return _mail(
        customer,
        f"Aankondiging automatische incasso van {library.name}",
        "open_amount",
        "prenotification",
        debit,
        **debit_notice_context(debit, customer, library, mandate),
    )


def new_date_notice(
    debit: Debit, *, old_date: dt.date, customer: Customer, library: Library, mandate: Mandate
) -> MailArgs | None:
    """A planned debit whose date passed without a file, planned again: the new date is
    pre-notified as the first was."""
    if not customer.email:
        return None
    return _mail(
        customer,
        f"Nieuwe datum voor je automatische incasso bij {library.name}",
        "new_date",
        "new_date",
        debit,
        old_date=date_nl(old_date),
        **debit_notice_context(debit, customer, library, mandate),
    )


def cancelled_notice(
    debit: Debit, *, customer: Customer, library: Library, mandate: Mandate
) -> MailArgs | None:
    """A planned (pre-notified) debit that will not be collected: the amount is still open,
    and how to pay it."""
    if not customer.email:
        return None
    return _mail(
        customer,
        f"Je automatische incasso bij {library.name} gaat niet door",
        "cancelled",
        "cancelled",
        debit,
        pay_url=debit_pay_url(debit),
        **debit_notice_context(debit, customer, library, mandate),
    )
