"""The library's daily figures, counted by hand from a few registrations, payments, a
cancellation, a renewal, a deregistration and a Vast membership that was not renewed; a day
computed twice gives the same rows; the backfill command; another library's data stays out."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from bieb.core.periodic import job_run_due
from bieb.customers.ledger import ledger_online_payment_book, ledger_payment_book
from bieb.customers.memberships import membership_cancel
from bieb.customers.models import Customer
from bieb.customers.renewals import renewals_run
from bieb.customers.services import Registration, customer_register
from bieb.customers.validators import HouseNumber
from bieb.customers.year import customer_saldo_of
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from bieb.statistics.aggregate import figures_day_compute, figures_range_compute
from bieb.statistics.models import DailyFigure, Metric
from tests.customers.factories import details
from tests.signup.factories import active_account

pytestmark = pytest.mark.django_db

MARCH_10 = dt.date(2025, 3, 10)
MARCH_11 = dt.date(2025, 3, 11)
_serial = iter(range(1, 1000))


def at(day: dt.date, hour: int = 10) -> Any:
    """The clock on `day` at `hour` UTC (Amsterdam: the same day)."""
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC), tick=False
    )


def register(
    actor: User | None,
    branch: Branch,
    subscription: SubscriptionType,
    *,
    surname: str,
    birth: dt.date,
    on: dt.date,
    pay: str = "",
) -> Registration:
    """A registration at the counter (`actor`) or online (None: with the member's own account);
    with `pay` the first period is paid at once that way."""
    n = next(_serial)
    account = active_account(f"online.{n}") if actor is None else None
    registration = customer_register(
        actor=actor,
        branch=branch,
        subscription_type=subscription,
        details=details(
            surname=surname, birth_date=birth, email=f"lid{n}@example.nl", house=HouseNumber(n)
        ),
        account_id=account.pk if account else None,
        on=on,
        confirm_duplicate=True,
    )
    amount = registration.costs.amount
    if pay == "ideal":
        with transaction.atomic():
            ledger_online_payment_book(
                customer=registration.customer,
                membership=registration.membership,
                amount=amount,
                method="ideal",
                description="iDEAL",
                actor_name=f"online:{n}",
            )
    elif pay:
        assert actor is not None
        ledger_payment_book(actor=actor, customer=registration.customer, amount=amount, method=pay)
    return registration


def figures(library: Library, day: dt.date, metric: str) -> set[tuple[Any, ...]]:
    """The day's figures of a metric: the dimensions it uses, the count and (if any) amount."""
    out = set()
    for f in DailyFigure.objects.filter(library=library, day=day, metric=metric):
        dims = tuple(v for v in (f.channel, f.subscription, f.age_band, f.method, f.kind) if v)
        out.add((*dims, f.count, *([f.amount] if f.amount else [])))
    return out


def test_a_day_counts_registrations_by_channel_and_age_rights_payments_and_cancellations(
    bind: Library,
    oost: Library,
    balie: User,
    balie_oost: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    youth: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    with at(MARCH_10):
        grown = register(
            balie,
            branch_5280,
            adult,
            surname="Volwassen",
            birth=dt.date(1991, 1, 4),
            on=MARCH_10,
            pay="pin",
        )
        register(balie, branch_5280, youth, surname="Kind", birth=dt.date(2012, 5, 1), on=MARCH_10)
        # Online, 24 on 10 March and 25 the next day.
        register(
            None,
            branch_5280,
            digital_only,
            surname="Online",
            birth=dt.date(2000, 3, 11),
            on=MARCH_10,
            pay="ideal",
        )
        register(
            balie_oost,
            Branch.objects.get(library=oost, number="6100"),
            SubscriptionType.objects.get(library=oost, code="0110"),
            surname="Oosterling",
            birth=dt.date(1960, 1, 1),
            on=MARCH_10,
        )
    with at(MARCH_11):
        membership_cancel(membership=grown.membership, reason="verhuisd", actor=balie)

    assert figures_range_compute(start=MARCH_10, end=MARCH_11)
    fee = grown.costs.amount
    assert figures(bind, MARCH_10, Metric.NEW) == {
        ("balie", "0110", "25-44", 1),
        ("balie", "0101", "0-17", 1),
        ("online", "0141", "18-24", 1),
    }
    assert figures(bind, MARCH_10, Metric.ACTIVE) == {
        ("0110", "25-44", 1),
        ("0101", "0-17", 1),
        ("0141", "18-24", 1),
    }
    # The online member's birthday; the cancelled membership runs to the end of its period.
    assert figures(bind, MARCH_11, Metric.ACTIVE) == {
        ("0110", "25-44", 1),
        ("0101", "0-17", 1),
        ("0141", "25-44", 1),
    }
    assert figures(bind, MARCH_10, Metric.CANCELLED) == set()
    assert figures(bind, MARCH_11, Metric.CANCELLED) == {("0110", "verhuisd", 1)}
    ledger = figures(bind, MARCH_10, Metric.LEDGER)
    assert ("pin", "betaling", 1, -fee) in ledger
    assert ("ideal", "betaling", 1, Decimal("-42.00")) in ledger
    fees = DailyFigure.objects.get(
        library=bind, day=MARCH_10, metric=Metric.LEDGER, kind="abonnementskosten"
    )
    assert fees.amount == fee + Decimal("42.00")
    assert figures(bind, MARCH_10, Metric.RENEWAL_PAID) == set()  # first periods only
    # Oost's registration is Oost's alone.
    assert figures(oost, MARCH_10, Metric.NEW) == {("balie", "0110", "65+", 1)}

    # The same day again: the same rows, nothing twice.
    before = sorted(
        DailyFigure.objects.filter(day=MARCH_10).values_list(
            "library_id",
            "metric",
            "channel",
            "subscription",
            "age_band",
            "method",
            "kind",
            "count",
            "amount",
        )
    )
    figures_day_compute(day=MARCH_10)
    after = sorted(
        DailyFigure.objects.filter(day=MARCH_10).values_list(
            "library_id",
            "metric",
            "channel",
            "subscription",
            "age_band",
            "method",
            "kind",
            "count",
            "amount",
        )
    )
    assert after == before


def test_renewals_paid_deregistration_and_a_vast_membership_not_renewed(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    june_12 = dt.date(2024, 6, 12)
    with at(june_12):
        renewing = register(
            balie,
            branch_5280,
            adult,
            surname="Verlenger",
            birth=dt.date(1980, 3, 1),
            on=june_12,
            pay="pin",
        )
        register(
            balie,
            branch_5280,
            adult,
            surname="Wanbetaler",
            birth=dt.date(1980, 3, 1),
            on=june_12,
        )
        register(
            balie,
            branch_5280,
            digital_only,
            surname="Vast",
            birth=dt.date(1980, 3, 1),
            on=june_12,
            pay="pin",
        )
    for day in (dt.date(2024, 9, 12), dt.date(2025, 5, 2)):
        with at(day, 6):
            renewals_run(library=bind, day=day, started_by="test")
    may_20 = dt.date(2025, 5, 20)
    with at(may_20):
        customer = Customer.objects.get(pk=renewing.customer.pk)
        renewal = customer_saldo_of(customer.pk)
        assert renewal > 0  # the next period, booked by the run
        ledger_payment_book(actor=balie, customer=customer, amount=renewal, method="contant")
    june_1 = dt.date(2025, 6, 1)
    with at(june_1, 6):
        renewals_run(library=bind, day=june_1, started_by="test")

    out = StringIO()
    call_command("statistics", "--from=2025-05-20", "--to=2025-06-01", "--library=bind", stdout=out)
    assert len(out.getvalue().splitlines()) == 13
    assert out.getvalue().startswith("2025-05-20: ")
    call_command("statistics", "--from=2024-09-12", stdout=StringIO())

    assert figures(bind, dt.date(2024, 9, 12), Metric.DEREGISTERED) == {("0110", 1)}
    assert figures(bind, may_20, Metric.RENEWAL_PAID) == {("contant", 1, renewal)}
    assert figures(bind, june_1, Metric.NOT_RENEWED) == {("0141", 1)}
    assert figures(bind, june_1, Metric.ACTIVE) == {("0110", "45-64", 1)}


def test_the_hourly_job_counts_yesterday_again_only_in_its_first_run_after_midnight(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """A member registered at 23:30 is in the day's figures once the first run after midnight
    has been; the runs after it no longer compute yesterday (the operator sees which days a
    run computed in its result)."""

    def registrations() -> int:
        return sum(
            f.count
            for f in DailyFigure.objects.filter(library=bind, day=MARCH_10, metric=Metric.NEW)
        )

    def run(day: dt.date, hour: int, minute: int = 0) -> str:
        clock = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
        with time_machine.travel(clock, tick=False):
            done = job_run_due("statistics_daily", holder="test", force=True)
        assert done is not None and done.ok, done
        return done.result

    def member(surname: str, hour: int, minute: int) -> None:
        clock = dt.datetime(2025, 3, 10, hour, minute, tzinfo=dt.UTC)
        with time_machine.travel(clock, tick=False):
            register(
                balie, branch_5280, adult, surname=surname, birth=dt.date(1990, 1, 1), on=MARCH_10
            )

    member("Vroeg", 9, 0)
    assert "2025-03-10" in run(MARCH_10, 20)  # 21:00 in Amsterdam
    assert registrations() == 1
    member("Laat", 22, 30)  # 23:30 in Amsterdam, after the day's last run
    assert registrations() == 1
    first = run(MARCH_11, 0, 5)  # 01:05 in Amsterdam
    assert "2025-03-10" in first and "2025-03-11" in first
    assert registrations() == 2
    later = run(MARCH_11, 1, 5)
    assert "2025-03-10" not in later and "2025-03-11" in later
