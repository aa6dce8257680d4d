"""The counter's Financieel read side: open amounts (saldo above zero, age by the rule of
`periods_unpaid`, filters, one library only) and the kasopmaak (totals equal the ledger, a
storno and a refund subtract, Europe/Amsterdam days)."""

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bieb.customers.ledger import (
    ledger_payment_book,
    ledger_refund,
    ledger_storno,
    ledger_write_off,
)
from bieb.customers.models import (
    Customer,
    LedgerLine,
    MembershipPeriod,
    PaymentMethod,
    PeriodState,
)
from bieb.customers.renewals import renewals_run
from bieb.customers.reports import (
    OpenFilters,
    cash_report,
    day_bounds,
    open_amounts,
    open_amounts_iter,
    open_amounts_totals,
    renewal_run_periods,
    renewal_runs,
)
from bieb.customers.services import customer_register
from bieb.customers.validators import HouseNumber
from bieb.customers.year import customer_saldo_of, periods_unpaid
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details

pytestmark = pytest.mark.django_db

JUNE_12 = dt.date(2024, 6, 12)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_serial = itertools.count(1)


def member(
    actor: User,
    branch: Branch,
    subscription: SubscriptionType,
    *,
    surname: str,
    on: dt.date = JUNE_12,
    birth_date: dt.date = dt.date(1991, 1, 4),
    paid: bool = False,
) -> Customer:
    """A customer registered at the counter on `on`; with `paid` the first year is paid at
    once (an unpaid one is deregistered by the renewal run before it could renew)."""
    n = next(_serial)
    customer = customer_register(
        actor=actor,
        branch=branch,
        subscription_type=subscription,
        details=details(
            surname=surname,
            email=f"{surname.lower()}{n}@example.nl",
            birth_date=birth_date,
            house=HouseNumber(n),
        ),
        on=on,
        confirm_duplicate=True,
    ).customer
    if paid:
        ledger_payment_book(
            actor=actor, customer=customer, amount=customer_saldo_of(customer.pk), method="pin"
        )
    return customer


def long_patience(library: Library) -> None:
    """A year unpaid and still a member: otherwise the run deregisters (bieb.customers.year)
    whoever left the first year unpaid before it renews them."""
    library.arrears_months = 18
    library.save(update_fields=["arrears_months"])


def pay(actor: User, customer: Customer, amount: str, method: str = "contant") -> LedgerLine:
    return ledger_payment_book(
        actor=actor, customer=customer, amount=Decimal(amount), method=method
    )


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@pytest.fixture
def branch_5281(demo: None) -> Branch:
    return Branch.objects.get(number="5281")


def listed(
    library: Library, today: dt.date, **filters: int
) -> dict[str, tuple[Decimal, int | None]]:
    rows = open_amounts(library=library, filters=OpenFilters(**filters), today=today, limit=500)
    return {row.number: (row.saldo, row.age_days) for row in rows}


# --- open amounts ----------------------------------------------------------------------------


def test_only_customers_with_a_saldo_above_zero_are_listed(
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    youth: SubscriptionType,
    bind: Library,
) -> None:
    owes = member(balie, branch_5280, digital_only, surname="Schuld")
    paid = member(balie, branch_5280, digital_only, surname="Betaald")
    pay(balie, paid, "42")
    credit = member(balie, branch_5280, digital_only, surname="Tegoed")
    ledger_payment_book(
        actor=balie, customer=credit, amount=Decimal("50"), method="pin", allow_overpayment=True
    )
    part = member(balie, branch_5280, digital_only, surname="Deels")
    pay(balie, part, "12.50")
    member(balie, branch_5280, youth, surname="Jeugd", birth_date=dt.date(2014, 2, 2))

    today = dt.date(2024, 7, 12)
    assert listed(bind, today) == {
        owes.number: (Decimal("42.00"), 30),
        part.number: (Decimal("29.50"), 30),
    }
    totals = open_amounts_totals(library=bind, filters=OpenFilters(), today=today)
    assert (totals.count, totals.saldo) == (2, Decimal("71.50"))
    row = open_amounts(library=bind, filters=OpenFilters(), today=today, limit=1)[0]
    assert row.name == "Mw. E.B. Schuld"
    assert row.subscription == "0141 Digital only"
    assert row.branch == "5280 Bind Centrale"
    assert row.status_label == "wacht op betaling"


def test_a_storno_of_the_payment_opens_the_amount_again_and_a_write_off_closes_it(
    balie: User, manager: User, branch_5280: Branch, digital_only: SubscriptionType, bind: Library
) -> None:
    customer = member(balie, branch_5280, digital_only, surname="Storno")
    line = pay(balie, customer, "42")
    assert listed(bind, JUNE_12) == {}
    ledger_storno(actor=balie, line=line, reason="Verkeerd bedrag")
    assert listed(bind, JUNE_12) == {customer.number: (Decimal("42.00"), 0)}
    ledger_write_off(actor=manager, customer=customer, amount=Decimal("42"), reason="Coulance")
    assert listed(bind, JUNE_12) == {}


def test_payments_pay_the_oldest_period_first(
    balie: User, branch_5280: Branch, adult: SubscriptionType, bind: Library
) -> None:
    """Doorlopend, renewed by the run: the debt dates from the oldest unpaid period."""
    long_patience(bind)
    unpaid = member(balie, branch_5280, adult, surname="Nietbetaald")
    half = member(balie, branch_5280, adult, surname="Half")
    renewals_run(library=bind, day=dt.date(2025, 5, 15), started_by="test")
    assert customer_saldo_of(unpaid.pk) == Decimal("129.00")
    pay(balie, half, "64.50")

    today = dt.date(2025, 7, 1)
    assert listed(bind, today) == {
        unpaid.number: (Decimal("129.00"), (today - JUNE_12).days),
        # the first period is paid: owed since the second began (1 June 2025)
        half.number: (Decimal("64.50"), 30),
    }
    # Before the new period begins the debt is not due yet: a negative age.
    assert listed(bind, dt.date(2025, 5, 20))[half.number] == (Decimal("64.50"), -12)


def test_the_age_follows_periods_unpaid(
    balie: User, manager: User, branch_5280: Branch, adult: SubscriptionType, bind: Library
) -> None:
    """The SQL and `bieb.customers.year.periods_unpaid` say the same, whatever was paid."""
    long_patience(bind)
    customers = [member(balie, branch_5280, adult, surname=f"Regel{n}") for n in range(5)]
    renewals_run(library=bind, day=dt.date(2025, 5, 15), started_by="test")
    pay(balie, customers[1], "64.50")
    pay(balie, customers[2], "64.49")
    pay(balie, customers[3], "0.01")
    storno = pay(balie, customers[4], "129")
    ledger_storno(actor=manager, line=storno, reason="Pin geweigerd")
    pay(balie, customers[4], "100")

    today = dt.date(2025, 8, 1)
    rows = {
        row.customer_id: row.debt_since
        for row in open_amounts(library=bind, filters=OpenFilters(), today=today, limit=50)
    }
    expected = {}
    for customer in customers:
        periods = list(
            MembershipPeriod.objects.filter(membership__customer=customer, state=PeriodState.BOOKED)
        )
        unpaid = periods_unpaid(periods, customer_saldo_of(customer.pk))
        expected[customer.pk] = min(p.start for p in periods if p.pk in unpaid)
    assert rows == expected
    assert rows[customers[2].pk] == JUNE_12  # one cent of the first period still open
    assert rows[customers[4].pk] == dt.date(2025, 6, 1)


def test_filters_branch_subscription_and_older_than(
    balie: User,
    branch_5280: Branch,
    branch_5281: Branch,
    digital_only: SubscriptionType,
    adult: SubscriptionType,
    bind: Library,
) -> None:
    old = member(balie, branch_5280, digital_only, surname="Oud", on=dt.date(2024, 1, 10))
    north = member(balie, branch_5281, digital_only, surname="Noord", on=dt.date(2024, 6, 1))
    full = member(balie, branch_5280, adult, surname="Compleet", on=dt.date(2024, 6, 1))
    today = dt.date(2024, 7, 1)

    assert set(listed(bind, today, branch_id=branch_5281.pk)) == {north.number}
    assert set(listed(bind, today, branch_id=branch_5280.pk)) == {old.number, full.number}
    assert set(listed(bind, today, subscription_type_id=adult.pk)) == {full.number}
    assert set(listed(bind, today, older_than_days=30)) == {old.number}
    # "ouder dan 30": 30 days exactly is not older
    assert set(listed(bind, today, older_than_days=29)) == {old.number, north.number, full.number}
    both = listed(bind, today, branch_id=branch_5280.pk, subscription_type_id=digital_only.pk)
    assert set(both) == {old.number}
    totals = open_amounts_totals(
        library=bind, filters=OpenFilters(branch_id=branch_5280.pk), today=today
    )
    assert (totals.count, totals.saldo) == (2, Decimal("106.50"))
    # The page is limited, the export reads them all, in the same order: oldest debt first.
    page = open_amounts(library=bind, filters=OpenFilters(), today=today, limit=2, offset=1)
    everything = list(open_amounts_iter(library=bind, filters=OpenFilters(), today=today))
    assert everything[0].number == old.number
    assert [row.number for row in page] == [row.number for row in everything[1:3]]


def test_another_librarys_open_amounts_are_never_listed(
    balie: User,
    balie_oost: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    bind: Library,
    oost: Library,
) -> None:
    ours = member(balie, branch_5280, digital_only, surname="Bind")
    theirs = member(
        balie_oost,
        Branch.objects.get(number="6100"),
        SubscriptionType.objects.get(library=oost, code="0141"),
        surname="Oost",
    )
    assert set(listed(bind, JUNE_12)) == {ours.number}
    assert set(listed(oost, JUNE_12)) == {theirs.number}
    # A branch of the other library as a filter finds nothing.
    assert listed(bind, JUNE_12, branch_id=Branch.objects.get(number="6100").pk) == {}


# --- kasopmaak -------------------------------------------------------------------------------


def test_the_kasopmaak_counts_cash_and_pin_minus_storno_and_refund(
    balie: User,
    manager: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    bind: Library,
    balie_oost: User,
    oost: Library,
) -> None:
    a = member(balie, branch_5280, digital_only, surname="Kas")
    b = member(balie, branch_5280, digital_only, surname="Pin")
    c = member(balie, branch_5280, digital_only, surname="Terug")
    pay(balie, a, "42")
    wrong = pay(balie, b, "40", PaymentMethod.PIN)
    ledger_storno(actor=balie, line=wrong, reason="Verkeerd bedrag")
    pay(balie, b, "42", PaymentMethod.PIN)
    ledger_payment_book(
        actor=manager, customer=c, amount=Decimal("50"), method="contant", allow_overpayment=True
    )
    ledger_refund(
        actor=manager, customer=c, amount=Decimal("8"), method="contant", reason="Te veel betaald"
    )
    # the other library's desk, the same day: not in ours
    oost_customer = member(
        balie_oost,
        Branch.objects.get(number="6100"),
        SubscriptionType.objects.get(library=oost, code="0141"),
        surname="Elders",
    )
    pay(balie_oost, oost_customer, "42")

    today = LedgerLine.objects.latest("id").booked_at.astimezone(AMSTERDAM).date()
    report = cash_report(library=bind, day=today)
    cash, pin = report.methods["contant"], report.methods["pin"]
    assert (cash.received.count, cash.received.amount) == (2, Decimal("92.00"))
    assert (cash.refunded.count, cash.refunded.amount) == (1, Decimal("-8.00"))
    assert cash.net == Decimal("84.00")
    assert (pin.received.count, pin.received.amount) == (2, Decimal("82.00"))
    assert (pin.storno.count, pin.storno.amount) == (1, Decimal("-40.00"))
    assert pin.net == Decimal("42.00")
    assert report.net == Decimal("126.00")
    # The check: the same as a plain sum of the ledger over that day, contant and pin.
    start, end = day_bounds(today)
    ledger = sum(
        line.amount
        for line in LedgerLine.objects.filter(
            library=bind, booked_at__gte=start, booked_at__lt=end, method__in=["contant", "pin"]
        )
    )
    assert report.ledger_total == -ledger == report.net
    assert report.balanced

    [branch] = report.branches
    assert branch.name == "5280 Bind Centrale"
    assert {e.name: e.net for e in branch.employees.values()} == {
        "Balie (balie)": Decimal("84.00"),
        "Manager (manager)": Decimal("42.00"),
    }
    assert branch.net == report.net
    oost_report = cash_report(library=oost, day=today)
    assert oost_report.net == Decimal("42.00") and oost_report.balanced


def test_the_kasopmaak_day_is_the_day_in_amsterdam(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType, bind: Library
) -> None:
    late = member(balie, branch_5280, digital_only, surname="Laat")
    early = member(balie, branch_5280, digital_only, surname="Vroeg")
    # 23:30 in Amsterdam in summer is 21:30 UTC; 00:30 the next day is 22:30 UTC the same day.
    with time_machine.travel(dt.datetime(2024, 7, 1, 23, 30, tzinfo=AMSTERDAM), tick=False):
        pay(balie, late, "42")
    with time_machine.travel(dt.datetime(2024, 7, 2, 0, 30, tzinfo=AMSTERDAM), tick=False):
        pay(balie, early, "42", PaymentMethod.PIN)

    first = cash_report(library=bind, day=dt.date(2024, 7, 1))
    second = cash_report(library=bind, day=dt.date(2024, 7, 2))
    assert (first.methods["contant"].received.count, first.methods["pin"].received.count) == (1, 0)
    assert (second.methods["contant"].received.count, second.methods["pin"].received.count) == (
        0,
        1,
    )
    assert first.balanced and second.balanced
    empty = cash_report(library=bind, day=dt.date(2024, 7, 3))
    assert empty.branches == [] and empty.net == 0 and empty.balanced


# --- renewal runs ----------------------------------------------------------------------------


def test_renewal_runs_of_the_library_newest_first_with_their_periods(
    balie: User, branch_5280: Branch, adult: SubscriptionType, bind: Library, oost: Library
) -> None:
    customer = member(balie, branch_5280, adult, surname="Verlengd")
    pay(balie, customer, "64.50")
    first = renewals_run(library=bind, day=dt.date(2025, 5, 15), started_by="test")
    second = renewals_run(library=bind, day=dt.date(2025, 5, 16), started_by="test")
    renewals_run(library=oost, day=dt.date(2025, 5, 17), started_by="test")

    assert list(renewal_runs(library=bind)) == [second, first]
    assert (first.booked, first.booked_amount) == (1, Decimal("64.50"))
    [period] = renewal_run_periods(run=first)
    assert period.membership.customer == customer
    assert period.state == PeriodState.BOOKED
    assert (period.start, period.amount) == (dt.date(2025, 6, 1), Decimal("64.50"))
    assert list(renewal_run_periods(run=second)) == []
