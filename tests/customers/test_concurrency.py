"""Races of the membership year on PostgreSQL: two renewal runs of one day at once, two desk
payments of the rest of the saldo at once."""

import datetime as dt
from decimal import Decimal

import pytest

from bieb.customers.ledger import Overpayment, ledger_payment_book
from bieb.customers.models import LedgerKind, LedgerLine, MembershipPeriod
from bieb.customers.renewals import renewals_run
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.concurrency import at_once
from tests.customers.year import member, on

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = dt.date


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
    """`workers=2` (BIEB_RENEWAL_WORKERS, `bieb renewals --workers`): the libraries are run
    in two forked processes; each period booked and mailed once, a second run books none."""
    from bieb.customers.renewals import renewals_run_all

    oost_balie = User.objects.get(username="balie-oost")
    oost_branch = Branch.objects.get(number="6100")
    oost_adult = SubscriptionType.objects.get(library=oost, code="0110")
    for _ in range(3):
        member(balie, branch_5280, adult, D(2024, 6, 12))
    for _ in range(5):
        member(oost_balie, oost_branch, oost_adult, D(2024, 6, 12))

    with on(D(2025, 5, 1), hour=2):
        first = renewals_run_all(day=D(2025, 5, 1), started_by="test", workers=2)
        again = renewals_run_all(day=D(2025, 5, 1), started_by="test", workers=2)

    assert {r.library.code: r.booked for r in first} == {"bind": 3, "oost": 5}
    assert all(r.finished_at is not None for r in first)
    assert sum(r.booked + r.offered + r.mailed for r in again) == 0
    assert MembershipPeriod.objects.filter(start=D(2025, 6, 1)).count() == 8
    renewal_mails = OutboxMessage.objects.filter(kind="customers.renewal_automatic")
    assert renewal_mails.values("reference").distinct().count() == renewal_mails.count() == 8
