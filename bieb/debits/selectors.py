"""Reads of direct debit for the counter: a customer's mandates, and for the "Automatische
incasso" page (/balie/financieel/incasso/) the planned debits not in a file yet (and what the
daily run re-planned or cancelled lately), the open amounts that could become debits, the
files (batches) with their totals per state and what the ledger holds for them, and the
imported return files. Every read takes `library=`."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from bieb.core.money import to_cents
from bieb.customers.models import Customer, LedgerLine, display_name
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    DebitCancelReason,
    DebitState,
    Mandate,
    MandateEvent,
    MandateState,
    ReturnFile,
    ReturnItem,
)
from bieb.libraries.models import Library

ZERO = Decimal("0.00")


def customer_mandates(*, library: Library, customer: Customer) -> QuerySet[Mandate]:
    """This customer's mandates at this library (never another's), newest first, each with its
    history."""
    return (
        Mandate.objects.filter(library=library, customer=customer)
        .prefetch_related(Prefetch("events", queryset=MandateEvent.objects.order_by("at", "id")))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PlannedDay:
    """The planned debits of one collection date. `ready` of them go into a file now (the
    collection date still ahead, the mandate active); the rest stay behind."""

    collection_date: dt.date
    count: int
    total: Decimal
    ready: int

    @property
    def left_behind(self) -> int:
        return self.count - self.ready


def debits_planned_by_date(*, library: Library, today: dt.date) -> list[PlannedDay]:
    ready = Q(collection_date__gt=today, mandate__state=MandateState.ACTIVE)
    rows = (
        Debit.objects.filter(library=library, state=DebitState.PLANNED, batch__isnull=True)
        .values("collection_date")
        .annotate(count=Count("pk"), total=Sum("amount"), ready=Count("pk", filter=ready))
        .order_by("collection_date")
    )
    return [
        PlannedDay(
            collection_date=row["collection_date"],
            count=row["count"],
            total=row["total"] or ZERO,
            ready=row["ready"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class StaleCounts:
    """What the daily run did since a moment with planned debits whose collection date passed
    without a file (bieb.debits.stale), and how many planned debits were cancelled, by why."""

    replanned: int
    cancelled: dict[str, int]

    @property
    def cancelled_total(self) -> int:
        return sum(self.cancelled.values())

    @property
    def cancelled_reasons(self) -> list[tuple[str, int]]:
        """(reason in Dutch, count) in the order of the reasons, those that occurred."""
        return [
            (str(label), self.cancelled[value])
            for value, label in DebitCancelReason.choices
            if self.cancelled.get(value)
        ]


def debits_stale_counts(*, library: Library, since: dt.datetime) -> StaleCounts:
    """One small count over the partial indexes of re-planned and cancelled debits."""
    recent_cancel = Q(cancelled_at__gte=since)
    counts = Debit.objects.filter(
        Q(replanned_at__gte=since) | recent_cancel, library=library
    ).aggregate(
        replanned=Count("pk", filter=Q(replanned_at__gte=since)),
        **{
            value: Count("pk", filter=recent_cancel & Q(cancel_reason=value))
            for value in DebitCancelReason.values
        },
    )
    replanned = counts.pop("replanned")
    return StaleCounts(replanned=replanned, cancelled={k: v for k, v in counts.items() if v})


# --- open amounts to collect -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenToCollect:
    """A customer of the library with an active mandate whose saldo is not yet covered by the
    open debits (gepland, in een bestand): `amount` = saldo - covered, above zero."""

    customer_id: int
    number: str
    name: str
    saldo: Decimal
    covered: Decimal
    mandate_id: int
    mandate_reference: str
    iban: str

    @property
    def amount(self) -> Decimal:
        return self.saldo - self.covered

    @property
    def choice(self) -> str:
        """How a form names this customer and the amount staff saw: "<id>:<amount>"."""
        return f"{self.customer_id}:{self.amount:.2f}"

    @property
    def cents(self) -> int:
        return int(self.amount * 100)


@dataclass(frozen=True)
class OpenToCollectTotals:
    count: int
    amount: Decimal

    @property
    def amount_text(self) -> str:
        """The amount as a form carries it: "1234.50"."""
        return f"{self.amount:.2f}"


# One statement, set-based (GROUP BY on the library's ledger and on its open debits; never a
# query per customer). ROUND: SQLite sums decimals as floats; everything is to the cent.
_TO_COLLECT_SQL = """
WITH saldo AS (
    SELECT l.customer_id, ROUND(SUM(l.amount), 2) AS saldo
    FROM {ledger} l
    WHERE l.library_id = %(library)s {only_ledger} AND l.customer_id IN (
        SELECT m.customer_id FROM {mandates} m
        WHERE m.library_id = %(library)s AND m.state = %(active)s
    )
    GROUP BY l.customer_id
    HAVING ROUND(SUM(l.amount), 2) > 0
),
covered AS (
    SELECT d.customer_id, ROUND(SUM(d.amount), 2) AS covered
    FROM {debits} d
    WHERE d.library_id = %(library)s AND d.state IN (%(planned)s, %(in_file)s) {only_debits}
    GROUP BY d.customer_id
),
to_collect AS (
    SELECT c.id AS customer_id, c.number, c.salutation, c.initials, c.prefix, c.surname,
        s.saldo, COALESCE(cv.covered, 0) AS covered, m.id AS mandate_id,
        m.reference, m.iban
    FROM saldo s
    JOIN {customers} c ON c.id = s.customer_id
    JOIN {mandates} m
        ON m.customer_id = s.customer_id AND m.library_id = %(library)s AND m.state = %(active)s
    LEFT JOIN covered cv ON cv.customer_id = s.customer_id
    WHERE c.library_id = %(library)s AND ROUND(s.saldo - COALESCE(cv.covered, 0), 2) > 0
)
{select}
"""
_TO_COLLECT_ROWS = "SELECT * FROM to_collect ORDER BY number"
# A page with the totals of all rows alongside (no second statement for them).
_TO_COLLECT_PAGE = (
    "SELECT *, COUNT(*) OVER (), SUM(ROUND(saldo - covered, 2)) OVER () FROM to_collect "
    "ORDER BY number LIMIT %(limit)s OFFSET %(offset)s"
)
_TO_COLLECT_TOTALS = "SELECT COUNT(*), SUM(ROUND(saldo - covered, 2)) FROM to_collect"


def _to_collect_sql(
    *, library: Library, select: str, customer_ids: Iterable[int] | None
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {
        "library": library.pk,
        "planned": DebitState.PLANNED.value,
        "in_file": DebitState.IN_FILE.value,
        "active": MandateState.ACTIVE.value,
    }
    only_ledger = only_debits = ""
    if customer_ids is not None:
        ids = sorted(set(customer_ids)) or [0]
        names = [f"c{i}" for i in range(len(ids))]
        params.update(zip(names, ids, strict=True))
        listed = ", ".join(f"%({name})s" for name in names)
        only_ledger = f"AND l.customer_id IN ({listed})"
        only_debits = f"AND d.customer_id IN ({listed})"
    quote = connection.ops.quote_name
    sql = _TO_COLLECT_SQL.format(
        ledger=quote(LedgerLine._meta.db_table),
        debits=quote(Debit._meta.db_table),
        customers=quote(Customer._meta.db_table),
        mandates=quote(Mandate._meta.db_table),
        only_ledger=only_ledger,
        only_debits=only_debits,
        select=select,
    )
    return sql, params


def _cents(value: Any) -> Decimal:
    return to_cents(Decimal(str(value))) if value is not None else ZERO


def _to_collect_row(row: tuple[Any, ...]) -> OpenToCollect:
    customer_id, number, salutation, initials, prefix, surname = row[:6]
    saldo, covered, mandate_id, reference, iban = row[6:]
    return OpenToCollect(
        customer_id=customer_id,
        number=number,
        name=display_name(salutation, initials, prefix, surname),
        saldo=_cents(saldo),
        covered=_cents(covered),
        mandate_id=mandate_id,
        mandate_reference=reference,
        iban=iban,
    )


def open_amounts_to_collect(
    *, library: Library, customer_ids: Iterable[int] | None = None
) -> list[OpenToCollect]:
    """The library's customers with an active mandate and an open saldo that the open debits
    do not cover, by customer number; only those of `customer_ids` if given."""
    sql, params = _to_collect_sql(
        library=library, select=_TO_COLLECT_ROWS, customer_ids=customer_ids
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_to_collect_row(row) for row in cursor.fetchall()]


def open_amounts_to_collect_page(
    *, library: Library, page: int, per_page: int
) -> tuple[list[OpenToCollect], OpenToCollectTotals, int]:
    """Page `page` (from 1) of `open_amounts_to_collect`, the totals of all of them, and the
    page number shown: the last one when `page` is beyond it. One statement, usually."""
    sql, params = _to_collect_sql(library=library, select=_TO_COLLECT_PAGE, customer_ids=None)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "limit": per_page, "offset": (page - 1) * per_page})
        rows = cursor.fetchall()
    if rows:
        count, total = rows[0][-2:]
        totals = OpenToCollectTotals(count=count, amount=_cents(total))
        return [_to_collect_row(row[:-2]) for row in rows], totals, page
    totals = open_amounts_to_collect_totals(library=library)
    if page > 1 and totals.count:
        last = -(-totals.count // per_page)
        return open_amounts_to_collect_page(library=library, page=last, per_page=per_page)
    return [], totals, 1


def open_amounts_to_collect_totals(*, library: Library) -> OpenToCollectTotals:
    """How many customers `open_amounts_to_collect` finds, and their amounts together."""
    sql, params = _to_collect_sql(library=library, select=_TO_COLLECT_TOTALS, customer_ids=None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, total = cursor.fetchone()
    return OpenToCollectTotals(count=count, amount=_cents(total))


# --- files -----------------------------------------------------------------------------------


def debit_batches(*, library: Library) -> QuerySet[DebitBatch]:
    """The library's files, newest collection date first, without their XML."""
    return (
        DebitBatch.objects.filter(library=library).defer("xml").order_by("-collection_date", "-id")
    )


def debit_batch_get(*, library: Library, pk: int) -> DebitBatch:
    """One file of this library (DoesNotExist for another library's)."""
    return DebitBatch.objects.get(library=library, pk=pk)


@dataclass(frozen=True)
class StateTotal:
    state: str
    label: str
    files: int
    count: int
    total: Decimal
    # Verwerkt only: what the ledger holds for these files, the sum of the debits' payment
    # lines (a payment is a negative line; shown as the amount received), and the debits the
    # bank returned before the collection date, which were never booked.
    ledger: Decimal | None = None
    unbooked: Decimal = ZERO

    @property
    def equal(self) -> bool:
        return self.ledger is None or self.ledger + self.unbooked == self.total


def debit_batch_totals(*, library: Library) -> list[StateTotal]:
    """Per state (aangemaakt, verstuurd, verwerkt): files, debits and amount; for verwerkt also
    the ledger's payment lines of those debits."""
    rows: dict[str, dict[str, Any]] = {
        row["state"]: dict(row)
        for row in DebitBatch.objects.filter(library=library)
        .values("state")
        .annotate(files=Count("pk"), count=Sum("count"), total=Sum("total"))
        .order_by()
    }
    processed = Debit.objects.filter(library=library, batch__state=BatchState.PROCESSED)
    sums = processed.aggregate(
        paid=Coalesce(Sum("payment_line__amount"), ZERO),
        unbooked=Coalesce(Sum("amount", filter=Q(payment_line__isnull=True)), ZERO),
    )
    totals = []
    for state, label in BatchState.choices:
        row = rows.get(state, {})
        totals.append(
            StateTotal(
                state=state,
                label=label,
                files=row.get("files", 0),
                count=row.get("count") or 0,
                total=row.get("total") or ZERO,
                **(
                    {"ledger": -sums["paid"], "unbooked": sums["unbooked"]}
                    if state == BatchState.PROCESSED
                    else {}
                ),
            )
        )
    return totals


def batch_ledger_amounts(*, library: Library, batch_ids: list[int]) -> dict[int, Decimal]:
    """For these (processed) files: the ledger's payment lines of their debits, as received."""
    rows = (
        Debit.objects.filter(library=library, batch_id__in=batch_ids, payment_line__isnull=False)
        .values("batch_id")
        .annotate(paid=Sum("payment_line__amount"))
        .order_by()
    )
    return {row["batch_id"]: -row["paid"] for row in rows}


def return_files(*, library: Library) -> QuerySet[ReturnFile]:
    return ReturnFile.objects.filter(library=library).order_by("-imported_at", "-id")


def return_file_get(*, library: Library, pk: int) -> ReturnFile:
    """One imported file of this library (DoesNotExist for another library's)."""
    return ReturnFile.objects.get(library=library, pk=pk)


def return_items(*, file: ReturnFile) -> QuerySet[ReturnItem]:
    return file.lines.select_related("debit__customer").order_by("id")
