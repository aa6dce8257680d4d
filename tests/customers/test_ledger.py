"""The ledger's one owner: lines are only ever added; who may reverse what; refunds up to the
credit, write-offs up to the saldo, with reasons; the rights follow the saldo."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bieb.audit.models import AuditEvent
from bieb.customers.ledger import (
    Overpayment,
    ledger_payment_book,
    ledger_refund,
    ledger_storno,
    ledger_write_off,
    line_storno_allowed,
)
from bieb.customers.models import LedgerKind, LedgerLine, MembershipStatus
from bieb.customers.year import customer_saldo_of
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.year import fresh, member, on

pytestmark = pytest.mark.django_db

D = dt.date
DAY = D(2024, 6, 12)


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@pytest.fixture
def colleague(balie: User) -> User:
    """Another counter user of Bind without the finance role."""
    return User.objects.create_user(
        username="balie2", password="x", library=balie.library, branch=balie.branch
    )


def all_rows() -> list[dict[str, object]]:
    return list(LedgerLine.objects.order_by("id").values())


def test_storno_of_todays_own_desk_payment_adds_a_line_and_ends_the_rights(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, digital_only, DAY, pay=False)
    with on(DAY, hour=11):
        payment = ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("42"), method="pin"
        )
        assert fresh(membership).rights_through == D(2025, 5, 31)
        before = all_rows()
        with pytest.raises(ValidationError) as no_reason:
            ledger_storno(actor=balie, line=payment, reason="  ")
        assert "reason" in no_reason.value.message_dict
        storno = ledger_storno(actor=balie, line=payment, reason="Verkeerd bedrag getypt")
        assert all_rows()[: len(before)] == before  # nothing edited or deleted
        assert len(all_rows()) == len(before) + 1
        assert (storno.kind, storno.amount, storno.reverses_id) == (
            LedgerKind.STORNO,
            Decimal("42.00"),
            payment.pk,
        )
        assert storno.booked_by == balie and storno.reason == "Verkeerd bedrag getypt"
        with pytest.raises(ValidationError, match="al teruggedraaid"):
            ledger_storno(actor=balie, line=payment, reason="nog eens")
    assert customer_saldo_of(membership.customer_id) == Decimal("42.00")
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("wacht_op_betaling", None)
    audit = AuditEvent.objects.get(action="ledger.storno")
    assert audit.actor == balie and audit.data["reason"] == "Verkeerd bedrag getypt"


def test_storno_of_yesterdays_or_someone_elses_payment_needs_finance(
    balie: User,
    colleague: User,
    manager: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    membership = member(balie, branch_5280, digital_only, DAY, pay=False)
    with on(DAY, hour=11):
        payment = ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("42"), method="pin"
        )
        assert line_storno_allowed(actor=balie, line=payment)
        assert not line_storno_allowed(actor=colleague, line=payment)
        with pytest.raises(ValidationError, match="rol Financieel"):
            ledger_storno(actor=colleague, line=payment, reason="fout")
    with on(DAY + dt.timedelta(days=1), hour=9):
        assert not line_storno_allowed(actor=balie, line=payment)
        with pytest.raises(ValidationError, match="rol Financieel"):
            ledger_storno(actor=balie, line=payment, reason="fout")
        assert LedgerLine.objects.filter(kind=LedgerKind.STORNO).count() == 0
        storno = ledger_storno(actor=manager, line=payment, reason="Pinbetaling mislukt")
    assert storno.booked_by == manager
    assert AuditEvent.objects.get(action="ledger.storno").actor == manager
    # The fee itself is reversible only with finance, and a storno never.
    fee = LedgerLine.objects.get(kind=LedgerKind.FEE)
    assert not line_storno_allowed(actor=balie, line=fee)
    assert not line_storno_allowed(actor=manager, line=storno)


def test_overpayment_asks_then_refund_up_to_the_credit(
    balie: User, manager: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, digital_only, DAY, pay=False)
    customer = membership.customer
    with on(DAY, hour=11):
        with pytest.raises(Overpayment) as asked:
            ledger_payment_book(actor=balie, customer=customer, amount=Decimal("50"), method="pin")
        assert asked.value.messages == ["Meer dan het saldo (€ 42,00): toch € 50,00 boeken?"]
        assert not LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).exists()
        ledger_payment_book(
            actor=balie,
            customer=customer,
            amount=Decimal("50"),
            method="contant",
            allow_overpayment=True,
        )
        assert customer_saldo_of(customer.pk) == Decimal("-8.00")
        with pytest.raises(ValidationError, match="rol Financieel"):
            ledger_refund(
                actor=balie, customer=customer, amount=Decimal("8"), method="contant", reason="x"
            )
        with pytest.raises(ValidationError) as too_much:
            ledger_refund(
                actor=manager,
                customer=customer,
                amount=Decimal("8.01"),
                method="contant",
                reason="Te veel betaald",
            )
        assert "tegoed van de klant (€ 8,00)" in too_much.value.message_dict["amount"][0]
        with pytest.raises(ValidationError) as no_reason:
            ledger_refund(
                actor=manager, customer=customer, amount=Decimal("8"), method="contant", reason=""
            )
        assert "reason" in no_reason.value.message_dict
        refund = ledger_refund(
            actor=manager,
            customer=customer,
            amount=Decimal("8"),
            method="contant",
            reason="Te veel betaald",
        )
    assert (refund.kind, refund.amount, refund.booked_by) == (
        LedgerKind.REFUND,
        Decimal("8.00"),
        manager,
    )
    assert customer_saldo_of(customer.pk) == Decimal("0.00")
    assert fresh(membership).rights_through == D(2025, 5, 31)
    assert AuditEvent.objects.get(action="ledger.refund").actor == manager


def test_write_off_up_to_the_saldo_pays_the_period(
    bind: Library, balie: User, manager: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, DAY, pay=False)
    customer = membership.customer
    with on(DAY, hour=12):
        with pytest.raises(ValidationError, match="rol Financieel"):
            ledger_write_off(actor=balie, customer=customer, amount=Decimal("1"), reason="x")
        with pytest.raises(ValidationError) as too_much:
            ledger_write_off(
                actor=manager, customer=customer, amount=Decimal("64.51"), reason="Coulance"
            )
        assert "tot het saldo (€ 64,50)" in too_much.value.message_dict["amount"][0]
        before = all_rows()
        ledger_write_off(
            actor=manager, customer=customer, amount=Decimal("64.50"), reason="Coulance"
        )
    assert all_rows()[: len(before)] == before
    assert customer_saldo_of(customer.pk) == Decimal("0.00")
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == (
        MembershipStatus.ACTIVE,
        D(2025, 5, 31),
    )
    audit = AuditEvent.objects.get(action="ledger.write_off")
    assert audit.actor == manager and audit.data["reason"] == "Coulance"


def test_a_storno_of_the_renewal_payment_makes_the_period_unpaid_again(
    bind: Library, balie: User, manager: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    from tests.customers.year import run

    membership = member(balie, branch_5280, adult, DAY)
    run(bind, D(2025, 5, 1))
    with on(D(2025, 5, 10)):
        payment = ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )
    assert fresh(membership).rights_through == D(2026, 5, 31)
    with on(D(2025, 6, 20)):
        ledger_storno(actor=manager, line=payment, reason="Pin teruggeboekt")
    membership = fresh(membership)
    # The older period stays paid; the newest is unpaid: the rights ended with May.
    assert (membership.status, membership.rights_through) == (
        MembershipStatus.AWAITING_PAYMENT,
        D(2025, 5, 31),
    )
    run(bind, D(2025, 8, 1))
    assert fresh(membership).status == MembershipStatus.ARREARS
