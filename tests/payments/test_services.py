"""Payments: one ledger line and one registration per paid payment, whatever the order and the
number of times the provider reports it; amounts to the cent; desk payments."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from bieb.core.dates import local_today
from bieb.customers.costs import cost_build_up
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    MembershipStatus,
    PaymentMethod,
)
from bieb.customers.selectors import customer_saldo
from bieb.customers.services import customer_register
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.libraries.models import Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from bieb.payments.services import (
    payment_desk_receive,
    payment_status_apply,
    payment_webhook,
    payments_check_unsettled,
)
from bieb.signup.models import Signup, SignupStatus
from bieb.staff.models import User
from tests.customers.factories import details
from tests.signup.factories import active_account, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(demo: None) -> str:
    return active_account("e.b.tester").username


def decide(payment: Payment, status: str) -> None:
    """The tester's choice on the demo provider's page (its side only; no webhook yet)."""
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status=status)


def payment_lines(customer: Customer) -> list[LedgerLine]:
    return list(customer.ledger_lines.filter(kind=LedgerKind.PAYMENT))


def test_a_replayed_webhook_gives_one_registration_one_payment_line_and_one_mail(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    assert (payment.status, payment.provider, payment.amount) == ("open", "demo", Decimal("42.00"))
    assert not Customer.objects.exists()  # nothing before the money is there

    decide(payment, PaymentStatus.PAID)
    for _ in range(3):
        payment_webhook(provider_code="demo", provider_id=payment.provider_id)

    customer = Customer.objects.get()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and payment.customer == customer
    [line] = payment_lines(customer)
    assert (line.amount, line.method) == (Decimal("-42.00"), PaymentMethod.IDEAL)
    assert payment.ledger_line == line
    [fee] = customer.ledger_lines.filter(kind=LedgerKind.FEE)
    assert fee.amount == Decimal("42.00")
    assert customer_saldo(customer=customer) == Decimal("0.00")
    membership = customer.memberships.get()
    assert membership.status == MembershipStatus.ACTIVE
    assert customer.login_account_id == LoginAccount.objects.get(username=member).pk
    linked = LinkedMembership.objects.get(customer_number=customer.number)
    assert (linked.account.username, linked.digital_rights, linked.valid_through) == (
        member,
        "compleet",
        membership.valid_through,
    )
    assert OutboxMessage.objects.filter(kind="signup.welcome").count() == 1
    signup = Signup.objects.get()
    assert (signup.status, signup.customer, signup.details) == (
        SignupStatus.COMPLETED,
        customer,
        {},
    )


@pytest.mark.parametrize(
    ("sequence", "final", "registered"),
    [
        (["paid", "failed"], "paid", True),  # a late "failed" does not undo a payment
        (["paid", "open", "expired"], "paid", True),  # nor do stale answers
        (["failed", "paid"], "paid", True),  # the provider's "paid" means the money is there
        (["pending", "open"], "pending", False),  # no way back to open
        (["expired", "canceled", "failed"], "expired", False),  # final stays final
        (["canceled", "paid", "paid", "canceled"], "paid", True),
    ],
)
def test_out_of_order_and_late_statuses(
    bind: Library,
    digital_only: SubscriptionType,
    member: str,
    sequence: list[str],
    final: str,
    registered: bool,
) -> None:
    payment = start_payment(bind, digital_only)
    for status in sequence:
        payment_status_apply(payment_id=payment.pk, status=status)
    payment.refresh_from_db()
    assert payment.status == final
    assert Customer.objects.count() == (1 if registered else 0)
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == (1 if registered else 0)


def test_the_amount_is_the_cost_build_ups_saldo_to_the_cent(
    bind: Library, adult: SubscriptionType, member: str
) -> None:
    adult.price = Decimal("64.55")
    adult.save()
    payment = start_payment(bind, adult)
    costs = cost_build_up(customer=details(), subscription_type=adult, on=local_today())
    assert payment.amount == costs.amount == Decimal("64.55")
    assert payment.amount.as_tuple().exponent == -2
    checkout = DemoCheckout.objects.get(pk=payment.provider_id)
    assert checkout.amount == Decimal("64.55")
    decide(payment, PaymentStatus.PAID)
    payment_webhook(provider_code="demo", provider_id=payment.provider_id)
    customer = Customer.objects.get()
    assert customer_saldo(customer=customer) == Decimal("0.00")


def test_starting_twice_gives_the_same_payment_and_a_failure_allows_a_new_one(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    import uuid

    key = uuid.uuid4()
    first = start_payment(bind, digital_only, key=key)
    again = start_payment(bind, digital_only, key=key)
    assert again.pk == first.pk and again.checkout_url == first.checkout_url
    assert DemoCheckout.objects.count() == 1 and Signup.objects.count() == 1

    decide(first, PaymentStatus.FAILED)
    payment_webhook(provider_code="demo", provider_id=first.provider_id)
    retry = start_payment(bind, digital_only, key=key)
    assert retry.pk != first.pk and retry.idempotency_key.endswith(":2")
    assert start_payment(bind, digital_only, key=key).pk == retry.pk
    assert Payment.objects.count() == 2 and not Customer.objects.exists()

    decide(retry, PaymentStatus.PAID)
    payment_webhook(provider_code="demo", provider_id=retry.provider_id)
    # the failed one turns out paid after all (a bank's late word): no second customer, but a
    # problem for staff to refund
    payment_status_apply(payment_id=first.pk, status=PaymentStatus.PAID)
    first.refresh_from_db()
    assert first.status == PaymentStatus.PAID and first.ledger_line is None
    assert "dubbele betaling" in first.problem and "betaal haar terug" in first.problem
    assert Customer.objects.count() == 1
    assert first.customer == Customer.objects.get()  # shown with the customer who paid twice
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1


def test_a_different_amount_is_not_taken_as_payment(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    payment_status_apply(payment_id=payment.pk, status="paid", amount=Decimal("0.01"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN and "wijkt af" in payment.problem
    assert not Customer.objects.exists()


def test_a_lost_webhook_is_made_up_for_by_the_periodic_check(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    decide(payment, PaymentStatus.PAID)
    assert payments_check_unsettled()["checked"] == 0  # not overdue yet
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=20)):
        assert payments_check_unsettled()["checked"] == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Customer.objects.count() == 1


def test_an_unpaid_demo_payment_expires(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        payments_check_unsettled()
        payments_check_unsettled()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert not Customer.objects.exists()


def test_a_payment_at_the_desk_is_booked_once(
    balie: User, bind: Library, digital_only: SubscriptionType
) -> None:
    registration = customer_register(
        actor=balie,
        branch=bind.branches.get(number="5280"),
        details=details(),
        subscription_type=digital_only,
    )
    customer = registration.customer
    for _ in range(2):
        payment = payment_desk_receive(
            actor=balie,
            customer=customer,
            amount=Decimal("42"),
            method=PaymentMethod.PIN,
            membership=registration.membership,
            idempotency_key="form-1",
        )
    assert (payment.provider, payment.status, payment.amount) == ("balie", "paid", Decimal("42"))
    assert payment.ledger_line is not None and payment.ledger_line.method == "pin"
    assert Payment.objects.count() == 1
    assert customer_saldo(customer=customer) == Decimal("0.00")


def test_online_payment_is_refused_where_the_library_pays_at_the_desk_only(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    from bieb.payments.providers import ProviderError

    bind.payment_provider = "balie"
    bind.save()
    with pytest.raises(ProviderError, match="aan de balie"):
        start_payment(bind, digital_only)
    assert not Payment.objects.exists() and not Signup.objects.exists()


def test_the_details_are_checked_again_before_paying(
    bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        start_payment(bind, digital_only, postcode="0123 AB")
    assert list(error.value.message_dict) == ["postcode"]
    with pytest.raises(ValidationError) as error:
        start_payment(bind, digital_only, birth_date="01-01-2015")
    assert "18 jaar en ouder" in error.value.message_dict["subscription_type"][0]
    assert not Payment.objects.exists() and not Signup.objects.exists()
