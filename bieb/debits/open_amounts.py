"""Open amounts the library chooses to collect by direct debit ("Openstaande bedragen
incasseren" on /balie/financieel/incasso/).

- Who: the library's customers with an active mandate and an open saldo that the open debits
  (gepland, in een bestand) do not cover yet (`bieb.debits.selectors.open_amounts_to_collect`,
  one set-based read).
- What: one debit per customer of that uncovered amount, without a period, on the library's
  first collection day after its pre-notification days (`collection_date_for`), announced to
  the member by mail (`bieb.debits.notices.open_amount_notice`). It then goes the way of every
  debit: into a file, sent, booked as a payment line on its collection date (a payment of the
  saldo, tied to no period), and reversed by a return.
- Once: staff plan what they saw. Under the customers' row locks each amount is read again
  and planned only when it is still the amount shown; a second click, or a colleague at the
  same moment, then finds it covered by the first one's debit and plans nothing (the
  per-period unique constraint cannot guard debits without a period; this does). An amount
  that changed meanwhile is skipped and said so.
- Staff with the finance permission of the library only; each chunk of customers is one
  transaction with its audit row naming them.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.bulk import bulk_insert
from bieb.core.money import ZERO, format_euro
from bieb.customers.models import Customer
from bieb.debits.collect import collection_date_for, end_to_end_id
from bieb.debits.models import Debit, DebitState, Mandate
from bieb.debits.notices import open_amount_notice
from bieb.debits.selectors import OpenToCollectTotals, open_amounts_to_collect
from bieb.libraries.models import Library
from bieb.mail.services import mail_queue_many
from bieb.staff.models import User

CHUNK = 1000
NOT_COLLECTING = "Deze bibliotheek heeft geen Incassant-ID of IBAN ingesteld."


@dataclass(frozen=True)
class OpenPlanned:
    """What a click planned: debits and their total, the customers left out because their
    amount changed or was planned already, and the collection date."""

    count: int
    total: Decimal
    skipped: int
    collection_date: dt.date


def open_amount_description(library: Library, number: str) -> str:
    return f"{library.creditor_display_name} openstaand bedrag klantnummer {number}"[:140]


def _check(library: Library, actor: User) -> None:
    if actor.library_id != library.pk or not actor.has_finance:
        raise ValidationError(
            "Hiervoor is de rol Financieel van deze bibliotheek nodig.", code="forbidden"
        )
    if not library.debits_enabled:
        raise ValidationError(NOT_COLLECTING, code="not_enabled")


def debits_plan_open_amounts(
    *, library: Library, actor: User, shown: dict[int, Decimal], today: dt.date
) -> OpenPlanned:
    """Plan a debit for each customer of `shown` (customer id → the amount staff saw and
    chose) whose amount to collect is still that amount (see the module's docstring)."""
    _check(library, actor)
    if not shown:
        raise ValidationError("Kies minstens één klant.", code="empty")
    date = collection_date_for(library, today=today, not_before=today)
    ids = sorted(shown)
    count = 0
    total = ZERO
    for start in range(0, len(ids), CHUNK):
        debits = _plan_chunk(
            library, ids[start : start + CHUNK], shown=shown, actor=actor, date=date
        )
        count += len(debits)
        total += sum((d.amount for d in debits), ZERO)
    return OpenPlanned(count=count, total=total, skipped=len(ids) - count, collection_date=date)


def debits_plan_all_open_amounts(
    *, library: Library, actor: User, today: dt.date, expected: OpenToCollectTotals | None
) -> OpenPlanned:
    """Plan every open amount there is now. `expected` is what staff confirmed (how many
    customers, how much): when the list changed since, nothing is planned and the error says
    what is open now; when nothing is open any more (the second of a double click), nothing
    is planned either."""
    _check(library, actor)
    rows = open_amounts_to_collect(library=library)
    date = collection_date_for(library, today=today, not_before=today)
    if not rows:
        return OpenPlanned(count=0, total=ZERO, skipped=0, collection_date=date)
    now = OpenToCollectTotals(count=len(rows), amount=sum((r.amount for r in rows), ZERO))
    if expected is not None and expected != now:
        raise ValidationError(
            "De lijst is veranderd sinds u hem opende: nu staan er "
            f"{_customers(now.count)} open met samen {format_euro(now.amount)}. Bekijk de "
            "lijst en kies opnieuw.",
            code="changed",
        )
    shown = {row.customer_id: row.amount for row in rows}
    return debits_plan_open_amounts(library=library, actor=actor, shown=shown, today=today)


def _customers(count: int) -> str:
    return "1 klant" if count == 1 else f"{count} klanten"


def _plan_chunk(
    library: Library, ids: list[int], *, shown: dict[int, Decimal], actor: User, date: dt.date
) -> list[Debit]:
    with transaction.atomic():
        # The customers' row locks, in id order as every writer of the ledger takes them:
        # a payment, a second click or another desk waits, then reads what this one did.
        customers = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(library=library, pk__in=ids)
            .order_by("pk")
            .only(
                "pk", "number", "email", "first_name", "salutation", "initials", "prefix", "surname"
            )
        }
        rows = [
            row
            for row in open_amounts_to_collect(library=library, customer_ids=customers)
            if shown.get(row.customer_id) == row.amount
        ]
        if not rows:
            return []
        now = timezone.now()
        debits = bulk_insert(
            Debit,
            [
                Debit(
                    library_id=library.pk,
                    mandate_id=row.mandate_id,
                    customer_id=row.customer_id,
                    period=None,
                    amount=row.amount,
                    description=open_amount_description(library, row.number),
                    collection_date=date,
                    end_to_end_id=end_to_end_id(),
                    state=DebitState.PLANNED,
                    prenotified_at=now,
                )
                for row in rows
            ],
        )
        mandates = Mandate.objects.in_bulk([row.mandate_id for row in rows])
        mails = [
            open_amount_notice(
                debit,
                customer=customers[debit.customer_id],
                library=library,
                mandate=mandates[debit.mandate_id],
            )
            for debit in debits
        ]
        mail_queue_many([mail for mail in mails if mail is not None])
        audit_record(
            actor=actor,
            action="debits.open_amounts_planned",
            library=library,
            target=None,
            data={
                "count": len(debits),
                "total": str(sum((d.amount for d in debits), ZERO)),
                "collection_date": date.isoformat(),
                "customers": [row.number for row in rows],
            },
        )
    return debits
