"""Races of the membership year on PostgreSQL: two renewal runs of one day at once, two desk
payments of the rest of the saldo at once."""

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from bieb.customers.ledger import Overpayment, ledger_payment_book
from bieb.customers.models import LedgerKind, LedgerLine, MembershipPeriod, RenewalRun
from bieb.customers.renewals import renewals_run
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.concurrency import at_once
from tests.customers.year import member, on

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = dt.date
ROOT = Path(__file__).resolve().parents[2]


def test_two_renewal_runs_at_once_book_and_mail_each_period_once(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    for _ in range(6):
        member(balie, branch_5280, adult, D(2024, 6, 12))
    for _ in range(4):
        member(balie, branch_5280, digital_only, D(2024, 6, 12))
    with on(D(2025, 5, 1), hour=2):
        runs = at_once(
            [
                lambda i=i: renewals_run(library=bind, day=D(2025, 5, 1), started_by=f"w{i}")
                for i in (1, 2)
            ]
        )
    assert not [r for r in runs if isinstance(r, BaseException)], runs
    assert sum(r.booked for r in runs) == 6 and sum(r.offered for r in runs) == 4
    assert sum(r.mailed for r in runs) == 10
    assert MembershipPeriod.objects.filter(start=D(2025, 6, 1)).count() == 10
    assert LedgerLine.objects.filter(kind=LedgerKind.FEE, period__start=D(2025, 6, 1)).count() == 6
    renewal_mails = OutboxMessage.objects.filter(kind__startswith="customers.renewal_")
    assert renewal_mails.count() == 10
    assert renewal_mails.values("reference").distinct().count() == 10


def test_two_desk_payments_of_the_rest_at_once_one_is_an_overpayment(
    balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12), pay=False)

    def pay() -> object:
        return ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )

    with on(D(2024, 6, 12), hour=11):
        results = at_once([pay, pay])
    assert sorted(type(r).__name__ for r in results) == ["LedgerLine", "Overpayment"]
    (refused,) = [r for r in results if isinstance(r, Overpayment)]
    assert refused.saldo == Decimal("0.00")
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1


def test_the_libraries_in_two_processes_renew_as_one_process_would(
    bind: Library, oost: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """`bieb renewals --workers 2` (BIEB_RENEWAL_WORKERS): the libraries are run in two
    forked processes; each period booked and mailed once, a second run books none. Run as
    an operator runs it, in a process of its own (forking the test process itself would copy
    the test runner's threads and sockets into the children)."""
    oost_balie = User.objects.get(username="balie-oost")
    oost_branch = Branch.objects.get(number="6100")
    oost_adult = SubscriptionType.objects.get(library=oost, code="0110")
    for _ in range(3):
        member(balie, branch_5280, adult, D(2024, 6, 12))
    for _ in range(5):
        member(oost_balie, oost_branch, oost_adult, D(2024, 6, 12))

    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@{host}:{port}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "bieb.test_settings",
    }
    command = [sys.executable, "-m", "bieb", "renewals", "--as-of", "2025-05-01", "--workers", "2"]
    for _ in range(2):  # the second run of the day books nothing
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]

    runs = RenewalRun.objects.filter(day=D(2025, 5, 1)).select_related("library").order_by("pk")
    first, again = list(runs[:2]), list(runs[2:])
    assert {r.library.code: r.booked for r in first} == {"bind": 3, "oost": 5}
    assert all(r.finished_at is not None for r in first)
    assert sum(r.booked + r.offered + r.mailed for r in again) == 0
    assert MembershipPeriod.objects.filter(start=D(2025, 6, 1)).count() == 8
    renewal_mails = OutboxMessage.objects.filter(kind="customers.renewal_automatic")
    assert renewal_mails.values("reference").distinct().count() == renewal_mails.count() == 8
