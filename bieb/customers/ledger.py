"""The ledger's one owner: every line is written here, and nothing is ever edited or deleted.

Fees and discounts are booked with their period; payments at the desk (contant, pin) and online
(iDEAL, through `bieb.payments`); corrections add reversing lines with a reason: a storno of a
line, a refund (terugbetaling) of money the customer has to get back, a write-off
(kwijtschelding) of a debt. Each write runs in one transaction under the customer's row lock,
writes an audit row naming the staff member, and refreshes the membership year
(`bieb.customers.year`), so that paying restores the rights in the same commit.

Who may correct: a storno of a desk payment booked today by the same staff member is theirs
(a mistyped amount); every other correction needs the finance permission (`staff.finance`).
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bieb.audit.services import audit_event, audit_record, audit_record_many
from bieb.core.bulk import bulk_insert
from bieb.core.dates import local_today
from bieb.core.money import ZERO, format_euro, money_check
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipPeriod,
    PaymentMethod,
    PeriodState,
)
from bieb.customers.year import customer_saldo_of, customer_year_refresh, customers_year_refresh
from bieb.libraries.models import Branch, Library
from bieb.staff.models import User

REASON_MAX = 200
NEEDS_FINANCE = (
    "Hiervoor is de rol Financieel nodig. Vraag een collega met die rol, of de beheerder."
)


class Overpayment(ValidationError):
    """A desk payment above the open saldo: taken only when staff confirm it."""

    def __init__(self, *, amount: Decimal, saldo: Decimal):
        self.amount = amount
        self.saldo = saldo
        super().__init__(
            f"Meer dan het saldo ({format_euro(saldo)}): toch {format_euro(amount)} boeken?",
            code="overpayment",
        )


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _check_library(actor: User | None, customer: Customer) -> None:
    if actor is not None and actor.library_id != customer.library_id:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationError({"reason": "Vul een reden in."})
    if len(text) > REASON_MAX:
        raise ValidationError({"reason": f"Gebruik voor de reden hoogstens {REASON_MAX} tekens."})
    return text


def _amount(amount: Decimal) -> Decimal:
    try:
        return money_check(amount, maximum=settings.BIEB_DESK_PAYMENT_MAXIMUM)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None


def _refresh(customer: Customer, actor: User | None, actor_name: str = "") -> None:
    customer_year_refresh(
        customer=customer, today=local_today(), actor=actor, actor_name=actor_name
    )


# --- fees ------------------------------------------------------------------------------------


def period_lines(period: MembershipPeriod, *, description: str) -> list[LedgerLine]:
    """The unsaved fee and discount lines of a period (for `ledger_period_book` and the
    renewal run, which writes many at once)."""
    lines = []
    if period.fee > 0:
        lines.append(
            LedgerLine(
                library_id=period.library_id,
                customer_id=period.membership.customer_id,
                membership_id=period.membership_id,
                period=period,
                kind=LedgerKind.FEE,
                amount=period.fee,
                description=description,
            )
        )
    if period.discount_amount > 0 and period.discount is not None:
        lines.append(
            LedgerLine(
                library_id=period.library_id,
                customer_id=period.membership.customer_id,
                membership_id=period.membership_id,
                period=period,
                kind=LedgerKind.DISCOUNT,
                amount=-period.discount_amount,
                description=str(period.discount),
            )
        )
    return lines


def ledger_period_book(
    *, period: MembershipPeriod, actor: User | None, description: str, refresh: bool = True
) -> list[LedgerLine]:
    """Book a period: its fee (and discount) lines, and the period marked booked. The caller
    holds the customer's row lock (inside its transaction)."""
    if period.state == PeriodState.BOOKED:
        return []
    lines = period_lines(period, description=description)
    for line in lines:
        line.booked_by = actor
    LedgerLine.objects.bulk_create(lines)
    period.state = PeriodState.BOOKED
    period.booked_at = timezone.now()
    period.save(update_fields=["state", "booked_at"])
    if refresh:
        _refresh(period.membership.customer, actor)
    return lines


# --- payments --------------------------------------------------------------------------------


def ledger_payment_book(
    *,
    actor: User,
    customer: Customer,
    amount: Decimal,
    method: str,
    membership: Membership | None = None,
    branch: Branch | None = None,
    allow_overpayment: bool = False,
) -> LedgerLine:
    """Book a payment received at the desk (contant, pin): above zero, at most the desk
    maximum (`BIEB_DESK_PAYMENT_MAXIMUM`), and more than the open saldo only with
    `allow_overpayment` (staff confirmed it); else Overpayment."""
    _check_library(actor, customer)
    if method not in (PaymentMethod.CASH, PaymentMethod.PIN):
        raise ValidationError({"method": "Kies contant of pin."})
    amount = _amount(amount)
    with transaction.atomic():
        # The saldo under the customer's row lock: two desks cannot both take "the rest".
        locked = _lock(customer)
        if not allow_overpayment:
            saldo = customer_saldo_of(customer.pk)
            if amount > saldo:
                raise Overpayment(amount=amount, saldo=saldo)
        line = LedgerLine.objects.create(
            library_id=customer.library_id,
            customer=locked,
            membership=membership,
            kind=LedgerKind.PAYMENT,
            amount=-amount,
            method=method,
            description=f"Betaling {PaymentMethod(method).label.lower()} {format_euro(amount)}",
            booked_by=actor,
            branch=branch or actor.branch,
        )
        audit_record(
            actor=actor,
            action="ledger.payment_booked",
            library=customer.library,
            target=customer,
            data={"amount": str(amount), "method": method, "line": line.pk},
        )
        _refresh(locked, actor)
    return line


def ledger_online_payment_book(
    *,
    customer: Customer,
    membership: Membership | None,
    amount: Decimal,
    method: str,
    description: str,
    actor_name: str,
) -> LedgerLine:
    """Book a payment the provider says is paid (for the payment handlers, inside their run)."""
    locked = _lock(customer)
    line = LedgerLine.objects.create(
        library_id=customer.library_id,
        customer=locked,
        membership=membership,
        kind=LedgerKind.PAYMENT,
        amount=-amount,
        method=method,
        description=description,
    )
    _refresh(locked, None, actor_name)
    return line


def ledger_debits_book(
    *, debits: list[Any], customers: list[Customer], today: dt.date, actor_name: str
) -> list[LedgerLine]:
    """The payment lines of collected direct debits (bieb.debits), one per debit, in the order
    given, and the year refreshed for their customers. The caller holds the customers' row
    locks."""
    lines = [
        LedgerLine(
            library_id=debit.library_id,
            customer_id=debit.customer_id,
            membership_id=debit.period.membership_id if debit.period else None,
            period_id=debit.period_id,
            kind=LedgerKind.PAYMENT,
            amount=-debit.amount,
            method=PaymentMethod.DEBIT,
            description=f"Automatische incasso {format_euro(debit.amount)} ({debit.end_to_end_id})",
        )
        for debit in debits
    ]
    bulk_insert(LedgerLine, lines)
    customers_year_refresh(customers=customers, today=today, actor_name=actor_name)
    return lines


def ledger_debits_return(
    *,
    returned: list[tuple[LedgerLine, str]],
    customers: list[Customer],
    today: dt.date,
    actor: User | None,
    actor_name: str = "",
) -> dict[int, LedgerLine]:
    """The storno of each direct debit's payment line the bank returned, with the bank's
    reason (`returned`: line and reason), an audit row each, and the year refreshed for their
    customers. A line reversed before (a return reported twice) is left alone. The caller holds
    the customers' row locks. Returns the new lines by the id of the line they reverse."""
    ids = [line.pk for line, _reason in returned]
    reversed_before = set(
        LedgerLine.objects.filter(reverses_id__in=ids).values_list("reverses_id", flat=True)
    )
    todo = []
    for line, reason in returned:
        if line.pk not in reversed_before:
            reversed_before.add(line.pk)  # the same line twice in one call: once
            todo.append((line, reason))
    stornos = bulk_insert(
        LedgerLine,
        [
            LedgerLine(
                library_id=line.library_id,
                customer_id=line.customer_id,
                membership_id=line.membership_id,
                period_id=line.period_id,
                kind=LedgerKind.STORNO,
                amount=-line.amount,
                method=line.method,
                reason=reason[:REASON_MAX],
                description=f"Storno: {line.description}"[:200],
                booked_by=actor,
                reverses_id=line.pk,
            )
            for line, reason in todo
        ],
    )
    by_pk = {c.pk: c for c in customers}
    libraries = Library.objects.in_bulk({c.library_id for c in customers})
    audit_record_many(
        [
            audit_event(
                actor=actor,
                actor_name=actor_name if actor is None else "",
                action="ledger.debit_returned",
                library=libraries[by_pk[line.customer_id].library_id],
                target=by_pk[line.customer_id],
                data={"line": line.pk, "new_line": storno.pk, "reason": reason},
            )
            for (line, reason), storno in zip(todo, stornos, strict=True)
        ]
    )
    customers_year_refresh(customers=customers, today=today, actor=actor, actor_name=actor_name)
    return {line.pk: storno for (line, _reason), storno in zip(todo, stornos, strict=True)}


# --- corrections -----------------------------------------------------------------------------


def line_storno_allowed(*, actor: User, line: LedgerLine, today: dt.date | None = None) -> bool:
    """Whether this staff member may reverse this line: their own desk payment of today, or
    anything reversible with the finance permission."""
    if line.kind == LedgerKind.STORNO or line.amount == 0:
        return False
    if actor.has_finance:
        return True
    today = today or local_today()
    return (
        line.kind == LedgerKind.PAYMENT
        and line.method in (PaymentMethod.CASH, PaymentMethod.PIN)
        and line.booked_by_id == actor.pk
        and timezone.localdate(line.booked_at) == today
    )


def ledger_storno(*, actor: User, line: LedgerLine, reason: str) -> LedgerLine:
    """'Storno': a line that reverses `line` (once), with the reason."""
    reason = _reason(reason)
    with transaction.atomic():
        customer = _lock(line.customer)
        _check_library(actor, customer)
        line = LedgerLine.objects.get(pk=line.pk)
        if LedgerLine.objects.filter(reverses=line).exists():
            raise ValidationError("Deze boeking is al teruggedraaid (storno).", code="reversed")
        if not line_storno_allowed(actor=actor, line=line):
            if line.kind == LedgerKind.STORNO:
                raise ValidationError("Een storno kan niet zelf worden teruggedraaid.")
            raise ValidationError(
                "Een eigen betaling aan de balie van vandaag kunt u zelf terugdraaien; "
                + NEEDS_FINANCE,
                code="forbidden",
            )
        storno = _correction_book(
            actor=actor,
            customer=customer,
            kind=LedgerKind.STORNO,
            amount=-line.amount,
            method=line.method,
            reason=reason,
            description=f"Storno: {line.description}",
            action="ledger.storno",
            audit={"line": line.pk, "amount": str(line.amount)},
            membership_id=line.membership_id,
            period_id=line.period_id,
            reverses=line,
        )
    return storno


def _correction_book(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    amount: Decimal,
    method: str,
    reason: str,
    description: str,
    action: str,
    audit: dict[str, object],
    **line_fields: object,
) -> LedgerLine:
    """A correction's line, its audit row and the year refreshed (the caller holds the
    customer's row lock and has checked the rights)."""
    line = LedgerLine.objects.create(
        library_id=customer.library_id,
        customer=customer,
        kind=kind,
        amount=amount,
        method=method,
        reason=reason,
        description=description,
        booked_by=actor,
        branch=actor.branch,
        **line_fields,
    )
    audit_record(
        actor=actor,
        action=action,
        library=customer.library,
        target=customer,
        data={**audit, "new_line": line.pk, "reason": reason},
    )
    _refresh(customer, actor)
    return line


def _finance(actor: User) -> None:
    if not actor.has_finance:
        raise ValidationError(NEEDS_FINANCE, code="forbidden")


def ledger_refund(
    *, actor: User, customer: Customer, amount: Decimal, method: str, reason: str
) -> LedgerLine:
    """'Terugbetaling': money paid back to the customer (contant, pin/bank), at most what the
    customer has in credit (a saldo below zero)."""
    _finance(actor)
    reason = _reason(reason)
    amount = _amount(amount)
    if method not in (PaymentMethod.CASH, PaymentMethod.PIN, PaymentMethod.NONE):
        raise ValidationError({"method": "Kies contant, pin of bank."})
    with transaction.atomic():
        locked = _lock(customer)
        _check_library(actor, locked)
        credit = -customer_saldo_of(locked.pk)
        if amount > credit:
            raise ValidationError(
                {
                    "amount": "Terugbetalen kan tot het tegoed van de klant "
                    f"({format_euro(max(credit, ZERO))})."
                }
            )
        line = _correction_book(
            actor=actor,
            customer=locked,
            kind=LedgerKind.REFUND,
            amount=amount,
            method=method,
            reason=reason,
            description=f"Terugbetaling {format_euro(amount)}",
            action="ledger.refund",
            audit={"amount": str(amount), "method": method},
        )
    return line


def ledger_write_off(
    *, actor: User, customer: Customer, amount: Decimal, reason: str
) -> LedgerLine:
    """'Kwijtschelden': forgive (part of) the open saldo."""
    _finance(actor)
    reason = _reason(reason)
    amount = _amount(amount)
    with transaction.atomic():
        locked = _lock(customer)
        _check_library(actor, locked)
        saldo = customer_saldo_of(locked.pk)
        if amount > saldo:
            raise ValidationError(
                {"amount": f"Kwijtschelden kan tot het saldo ({format_euro(max(saldo, ZERO))})."}
            )
        line = _correction_book(
            actor=actor,
            customer=locked,
            kind=LedgerKind.WRITE_OFF,
            amount=-amount,
            method="",
            reason=reason,
            description=f"Kwijtschelding {format_euro(amount)}",
            action="ledger.write_off",
            audit={"amount": str(amount)},
        )
    return line
