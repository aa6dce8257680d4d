"""What the counter's "Financieel" shows: the open amounts, the day's kasopmaak and the renewal
runs. Read-only; every selector takes the library and reads nothing of another.

Open amounts ("Openstaande bedragen"): customers whose saldo (the sum of their ledger lines) is
above zero, found by one set-based query (GROUP BY / HAVING on the ledger, window functions for
the rest), never a query per customer.

The age of a debt follows the rule of `bieb.customers.year.periods_unpaid`: payments pay the
oldest period first, so the open saldo is owed for the newest booked periods. A booked period
(with an amount above zero) is unpaid when the amounts of the customer's newer booked periods
(newest first: start, then id) add up to less than the saldo. The debt dates from the first
day of the oldest unpaid period: the day its fee fell due. Its age is the days from then to
today; a period booked ahead of its start (a renewal in the lead time) is not due yet and
shows a negative age. A saldo that no booked period explains (say, the storno of a discount
line) is owed since the oldest booked period; with no booked period at all it has no age.
`tests/customers/test_reports.py` holds the SQL to `periods_unpaid` on the same ledgers.

Kasopmaak: the library's ledger lines of one day (Europe/Amsterdam), paid contant or pin, by
branch, employee, method and kind: payments received, storno's and refunds given back. The
totals are checked against a plain sum of the ledger over the same day and methods.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from bieb.core.money import ZERO, to_cents
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PaymentMethod,
    PeriodState,
    RenewalRun,
    display_name,
)
from bieb.libraries.models import Branch, Library, SubscriptionType

# --- open amounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFilters:
    """The filters of the open amounts: a branch and a subscription type (of the customer's
    newest membership), and debts older than a number of days."""

    branch_id: int | None = None
    subscription_type_id: int | None = None
    older_than_days: int | None = None


@dataclass(frozen=True)
class OpenAmount:
    customer_id: int
    number: str
    name: str
    saldo: Decimal
    debt_since: dt.date | None
    age_days: int | None
    subscription: str
    branch: str
    status: str

    @property
    def status_label(self) -> str:
        return str(MembershipStatus(self.status).label) if self.status else ""


@dataclass(frozen=True)
class OpenTotals:
    count: int
    saldo: Decimal


# The open amounts of a library: one statement, built from this template with the table names
# and the chosen filters (constant fragments; every value is a parameter). ROUND: SQLite sums
# decimals as floats; the saldo and the comparisons are to the cent.
_OPEN_SQL = """
WITH saldo AS (
    SELECT l.customer_id, ROUND(SUM(l.amount), 2) AS saldo
    FROM {ledger} l
    WHERE l.library_id = %(library)s
    GROUP BY l.customer_id
    HAVING ROUND(SUM(l.amount), 2) > 0
),
newest AS (
    SELECT m.customer_id, m.id, ROW_NUMBER() OVER (
        PARTITION BY m.customer_id ORDER BY m.start_date DESC, m.id DESC
    ) AS n
    FROM {memberships} m JOIN saldo s ON s.customer_id = m.customer_id
    WHERE m.library_id = %(library)s
),
owed AS (
    SELECT m.customer_id, p.start, COALESCE(SUM(p.fee - p.discount_amount) OVER (
        PARTITION BY m.customer_id ORDER BY p.start DESC, p.id DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS newer
    FROM {periods} p
    JOIN {memberships} m ON m.id = p.membership_id
    JOIN saldo s ON s.customer_id = m.customer_id
    WHERE p.library_id = %(library)s AND p.state = %(booked)s AND p.fee > p.discount_amount
),
since AS (
    SELECT o.customer_id, MIN(o.start) AS debt_since
    FROM owed o JOIN saldo s ON s.customer_id = o.customer_id
    WHERE ROUND(o.newer, 2) < s.saldo
    GROUP BY o.customer_id
),
open_amounts AS (
    SELECT c.id AS customer_id, c.number, c.salutation, c.initials, c.prefix, c.surname,
        s.saldo, since.debt_since, t.code AS type_code, t.name AS type_name,
        b.number AS branch_number, b.name AS branch_name, m.status
    FROM saldo s
    JOIN {customers} c ON c.id = s.customer_id
    LEFT JOIN since ON since.customer_id = s.customer_id
    LEFT JOIN newest ON newest.customer_id = s.customer_id AND newest.n = 1
    LEFT JOIN {memberships} m ON m.id = newest.id
    LEFT JOIN {types} t ON t.id = m.subscription_type_id
    LEFT JOIN {branches} b ON b.id = m.branch_id
    WHERE c.library_id = %(library)s {filters}
)
{select}
"""
_FILTERS = {
    "branch": "AND m.branch_id = %(branch)s",
    "type": "AND m.subscription_type_id = %(type)s",
    "since": "AND since.debt_since < %(since)s",
}
# Oldest debt first; a saldo without an age after those with one.
_ROWS = (
    "SELECT * FROM open_amounts "
    "ORDER BY CASE WHEN debt_since IS NULL THEN 1 ELSE 0 END, debt_since, number"
)
_PAGE = _ROWS + " LIMIT %(limit)s OFFSET %(offset)s"
_TOTALS = "SELECT COUNT(*), SUM(saldo) FROM open_amounts"


def _open_sql(
    *, library: Library, filters: OpenFilters, today: dt.date, select: str
) -> tuple[str, dict[str, Any]]:
    """The open amounts statement ending in `select` (over the rows `open_amounts`)."""
    params: dict[str, Any] = {"library": library.pk, "booked": PeriodState.BOOKED.value}
    if filters.branch_id is not None:
        params["branch"] = filters.branch_id
    if filters.subscription_type_id is not None:
        params["type"] = filters.subscription_type_id
    if filters.older_than_days is not None:
        since = today - dt.timedelta(days=filters.older_than_days)
        params["since"] = connection.ops.adapt_datefield_value(since)
    quote = connection.ops.quote_name
    sql = _OPEN_SQL.format(
        ledger=quote(LedgerLine._meta.db_table),
        periods=quote(MembershipPeriod._meta.db_table),
        memberships=quote(Membership._meta.db_table),
        customers=quote(Customer._meta.db_table),
        types=quote(SubscriptionType._meta.db_table),
        branches=quote(Branch._meta.db_table),
        filters=" ".join(fragment for key, fragment in _FILTERS.items() if key in params),
        select=select,
    )
    return sql, params


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite answers raw queries with text


def _money(value: Any) -> Decimal:
    return to_cents(Decimal(str(value))) if value is not None else ZERO


def _row(row: tuple[Any, ...], today: dt.date) -> OpenAmount:
    (customer_id, number, salutation, initials, prefix, surname, saldo, since) = row[:8]
    type_code, type_name, branch_number, branch_name, status = row[8:]
    debt_since = _date(since)
    return OpenAmount(
        customer_id=customer_id,
        number=number,
        name=display_name(salutation, initials, prefix, surname),
        saldo=_money(saldo),
        debt_since=debt_since,
        age_days=(today - debt_since).days if debt_since else None,
        subscription=f"{type_code} {type_name}" if type_code else "",
        branch=f"{branch_number} {branch_name}" if branch_number else "",
        status=status or "",
    )


def open_amounts(
    *,
    library: Library,
    filters: OpenFilters,
    today: dt.date,
    limit: int,
    offset: int = 0,
) -> list[OpenAmount]:
    """A page of the library's customers with a saldo above zero, oldest debt first."""
    sql, params = _open_sql(library=library, filters=filters, today=today, select=_PAGE)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "limit": limit, "offset": offset})
        return [_row(row, today) for row in cursor.fetchall()]


def open_amounts_totals(*, library: Library, filters: OpenFilters, today: dt.date) -> OpenTotals:
    """How many customers the filters find, and their saldo together."""
    sql, params = _open_sql(library=library, filters=filters, today=today, select=_TOTALS)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, total = cursor.fetchone()
    return OpenTotals(count=count, saldo=_money(total))


def open_amounts_iter(
    *, library: Library, filters: OpenFilters, today: dt.date, chunk: int = 2000
) -> Iterator[OpenAmount]:
    """All of them, for the export: read in chunks from a server-side cursor on PostgreSQL,
    so a long list never sits in memory."""
    sql, params = _open_sql(library=library, filters=filters, today=today, select=_ROWS)
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            for row in rows:
                yield _row(row, today)
    finally:
        cursor.close()


# --- kasopmaak -------------------------------------------------------------------------------

DESK_METHODS = (PaymentMethod.CASH, PaymentMethod.PIN)
DESK_KINDS = (LedgerKind.PAYMENT, LedgerKind.STORNO, LedgerKind.REFUND)


@dataclass
class Tally:
    """A count and an amount of money received (a storno or refund counts negative)."""

    count: int = 0
    amount: Decimal = ZERO

    def add(self, count: int, amount: Decimal) -> None:
        self.count += count
        self.amount += amount


@dataclass
class MethodTally:
    """One method (contant or pin) of one employee, branch or the library."""

    method: str
    received: Tally = field(default_factory=Tally)
    storno: Tally = field(default_factory=Tally)
    refunded: Tally = field(default_factory=Tally)

    @property
    def label(self) -> str:
        return str(PaymentMethod(self.method).label)

    @property
    def net(self) -> Decimal:
        return self.received.amount + self.storno.amount + self.refunded.amount

    def add(self, kind: str, count: int, amount: Decimal) -> None:
        tally = {
            LedgerKind.PAYMENT: self.received,
            LedgerKind.STORNO: self.storno,
            LedgerKind.REFUND: self.refunded,
        }[LedgerKind(kind)]
        tally.add(count, amount)

    def merge(self, other: "MethodTally") -> None:
        for name in ("received", "storno", "refunded"):
            tally = getattr(other, name)
            getattr(self, name).add(tally.count, tally.amount)


def _methods() -> dict[str, MethodTally]:
    return {method: MethodTally(method) for method in DESK_METHODS}


@dataclass
class EmployeeTally:
    name: str
    methods: dict[str, MethodTally] = field(default_factory=_methods)

    @property
    def net(self) -> Decimal:
        return sum((m.net for m in self.methods.values()), ZERO)


@dataclass
class BranchTally:
    name: str
    employees: dict[int | None, EmployeeTally] = field(default_factory=dict)
    methods: dict[str, MethodTally] = field(default_factory=_methods)

    @property
    def net(self) -> Decimal:
        return sum((m.net for m in self.methods.values()), ZERO)


@dataclass
class CashReport:
    day: dt.date
    branches: list[BranchTally]
    methods: dict[str, MethodTally]
    # The plain sum of the ledger over the same day and methods (money received: sign flipped).
    ledger_total: Decimal

    @property
    def net(self) -> Decimal:
        return sum((m.net for m in self.methods.values()), ZERO)

    @property
    def balanced(self) -> bool:
        return self.net == self.ledger_total


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day from midnight to midnight in Europe/Amsterdam (23 or 25 hours at the clock
    changes), as aware moments."""
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _day_lines(library: Library, day: dt.date) -> QuerySet[LedgerLine]:
    start, end = day_bounds(day)
    return LedgerLine.objects.filter(
        library=library, booked_at__gte=start, booked_at__lt=end, method__in=DESK_METHODS
    )


def _employee_name(first: str, last: str, username: str) -> str:
    full = f"{first} {last}".strip()
    return f"{full} ({username})" if full else username


def cash_report(*, library: Library, day: dt.date) -> CashReport:
    """The kasopmaak of one day: contant and pin received, storno's and refunds, by branch and
    employee, in two queries."""
    rows = (
        _day_lines(library, day)
        .filter(kind__in=DESK_KINDS)
        .values(
            "branch_id",
            "branch__number",
            "branch__name",
            "booked_by_id",
            "booked_by__username",
            "booked_by__first_name",
            "booked_by__last_name",
            "method",
            "kind",
        )
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("branch__number", "booked_by__username", "method", "kind")
    )
    branches: dict[int | None, BranchTally] = {}
    totals = _methods()
    for row in rows:
        branch = branches.get(row["branch_id"])
        if branch is None:
            name = (
                f"{row['branch__number']} {row['branch__name']}"
                if row["branch_id"]
                else "Zonder vestiging"
            )
            branch = branches[row["branch_id"]] = BranchTally(name)
        employee = branch.employees.get(row["booked_by_id"])
        if employee is None:
            name = (
                _employee_name(
                    row["booked_by__first_name"],
                    row["booked_by__last_name"],
                    row["booked_by__username"],
                )
                if row["booked_by_id"]
                else "Onbekend"
            )
            employee = branch.employees[row["booked_by_id"]] = EmployeeTally(name)
        # Money received is positive: a payment line is negative in the ledger.
        received = -to_cents(row["total"])
        for tally in (employee.methods, branch.methods, totals):
            tally[row["method"]].add(row["kind"], row["count"], received)
    ledger = _day_lines(library, day).aggregate(total=Sum("amount"))["total"]
    return CashReport(
        day=day,
        branches=list(branches.values()),
        methods=totals,
        ledger_total=-to_cents(ledger) if ledger is not None else ZERO,
    )


# --- renewal runs ----------------------------------------------------------------------------


def renewal_runs(*, library: Library) -> QuerySet[RenewalRun]:
    """The library's renewal runs, newest first."""
    return RenewalRun.objects.filter(library=library).order_by("-day", "-started_at", "-id")


def renewal_run_get(*, library: Library, pk: int) -> RenewalRun:
    """One run of this library (DoesNotExist for another library's)."""
    return RenewalRun.objects.get(library=library, pk=pk)


def renewal_run_periods(*, run: RenewalRun) -> QuerySet[MembershipPeriod]:
    """The periods a run booked, offered or let lapse, by customer number."""
    return (
        MembershipPeriod.objects.filter(renewal_run=run, library_id=run.library_id)
        .select_related("membership__customer", "subscription_type")
        .order_by("membership__customer__number", "start", "id")
    )
