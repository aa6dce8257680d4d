"""Changes of one membership: a payment term, 'Wijzig abonnement' (priced anew, a booked fee
reversed by a storno line, nothing deleted), early 'Verlengen'."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.memberships import membership_change, membership_renew
from bieb.customers.models import LedgerKind, LedgerLine, MembershipStatus, PeriodState
from bieb.customers.year import customer_saldo_of
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.year import fresh, mails, member, on, periods, run

pytestmark = pytest.mark.django_db

D = dt.date


def rows(customer_id: int) -> list[tuple[object, ...]]:
    return list(
        LedgerLine.objects.filter(customer_id=customer_id)
        .order_by("id")
        .values_list("id", "kind", "amount", "period_id", "reverses_id", "description")
    )


def test_a_payment_term_gives_the_rights_at_once_until_it_ends_unpaid(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    bind.payment_term_days = 14
    bind.save(update_fields=["payment_term_days"])
    membership = member(balie, branch_5280, adult, D(2024, 6, 12), pay=False)
    assert (membership.status, membership.rights_through) == ("actief", D(2024, 6, 25))
    run(bind, D(2024, 6, 25))
    assert fresh(membership).status == MembershipStatus.ACTIVE
    run(bind, D(2024, 6, 26))
    membership = fresh(membership)
    assert membership.status == MembershipStatus.AWAITING_PAYMENT
    assert not membership.has_rights_on(D(2024, 6, 26))
    with on(D(2024, 7, 1)):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2025, 5, 31))


def test_a_payment_term_runs_into_a_renewed_period_too(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    bind.payment_term_days = 14
    bind.save(update_fields=["payment_term_days"])
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    assert fresh(membership).rights_through == D(2025, 6, 14)
    run(bind, D(2025, 6, 15))
    assert fresh(membership).status == MembershipStatus.AWAITING_PAYMENT


def test_change_before_the_renewal_prices_the_next_period_with_the_new_type(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    with on(D(2025, 3, 3)):
        membership_change(membership=membership, subscription_type=digital_only, actor=balie)
    membership = fresh(membership)
    assert (membership.subscription_type.code, membership.next_subscription_type.code) == (  # type: ignore[union-attr]
        "0110",
        "0141",
    )
    run(bind, D(2025, 5, 1))
    assert periods(membership)[-1][2:4] == ("0141", Decimal("42.00"))
    assert customer_saldo_of(membership.customer_id) == Decimal("42.00")
    membership = fresh(membership)
    assert membership.subscription_type.code == "0141" and membership.next_subscription_type is None


def test_change_after_the_renewal_was_booked_reverses_the_old_fee_and_deletes_nothing(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    before = rows(membership.customer_id)
    assert customer_saldo_of(membership.customer_id) == Decimal("64.50")
    with on(D(2025, 5, 5)):
        membership_change(membership=membership, subscription_type=digital_only, actor=balie)
    after = rows(membership.customer_id)
    assert after[: len(before)] == before  # nothing edited or deleted
    fee_id = before[-1][0]
    added = [(kind, amount, reverses) for _, kind, amount, _, reverses, _ in after[len(before) :]]
    assert added == [
        (LedgerKind.STORNO, Decimal("-64.50"), fee_id),
        (LedgerKind.FEE, Decimal("42.00"), None),
    ]
    assert customer_saldo_of(membership.customer_id) == Decimal("42.00")
    assert periods(membership)[-1] == (
        D(2025, 6, 1),
        D(2026, 5, 31),
        "0141",
        Decimal("42.00"),
        PeriodState.BOOKED,
    )
    assert fresh(membership).subscription_type.code == "0141"
    # A second change back prices it again, again only by adding lines.
    with on(D(2025, 5, 6)):
        membership_change(membership=membership, subscription_type=adult, actor=balie)
    assert rows(membership.customer_id)[: len(after)] == after
    assert customer_saldo_of(membership.customer_id) == Decimal("64.50")


def test_early_verlengen_books_the_next_period_and_the_run_leaves_it(
    bind: Library, balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, digital_only, D(2024, 6, 12))
    with on(D(2025, 2, 14)):
        period = membership_renew(membership=membership, actor=balie)
        assert (period.start, period.end, period.amount) == (
            D(2025, 6, 1),
            D(2026, 5, 31),
            Decimal("42.00"),
        )
        with pytest.raises(ValidationError, match="al verlengd t/m 31-05-2026"):
            membership_renew(membership=membership, actor=balie)
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("42"), method="contant"
        )
    membership = fresh(membership)
    assert (membership.rights_through, membership.valid_through) == (D(2026, 5, 31),) * 2
    may = run(bind, D(2025, 5, 1))
    assert (may.offered, may.booked, may.mailed) == (0, 0, 0)
    assert mails(membership, "renewal_fixed") == []
    assert len(periods(membership)) == 2


def test_a_change_after_the_renewal_was_booked_checks_the_age_on_its_start(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    youth: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    # 17 on 1 June 2025, 18 only in March 2026: Digital only (18+) cannot be the next period.
    young = member(balie, branch_5280, youth, D(2024, 6, 12), birth_date=D(2008, 3, 1))
    run(bind, D(2025, 5, 1))
    assert periods(young)[-1][2:4] == ("0101", Decimal("0.00"))
    with on(D(2025, 5, 5)), pytest.raises(ValidationError) as refused:
        membership_change(membership=young, subscription_type=digital_only, actor=balie)
    assert "18" in refused.value.message_dict["subscription_type"][0]
    assert periods(young)[-1][2] == "0101"
