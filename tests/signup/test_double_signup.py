"""One login account signing up twice for one library (two browsers, both paid): one customer,
and the second payment becomes a refund case that staff see, with what to refund and why."""

import uuid

import pytest
from django.test import Client

from bieb.customers.models import Customer, LedgerKind, LedgerLine, Membership
from bieb.libraries.models import Library, SubscriptionType
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from bieb.payments.services import payment_webhook
from bieb.staff.models import User
from tests.otp import admin_login
from tests.signup.factories import active_account, start_payment

pytestmark = pytest.mark.django_db


def pay(payment: Payment) -> None:
    """The member pays at the provider; its webhook reaches us."""
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status=PaymentStatus.PAID)
    payment_webhook(provider_code="demo", provider_id=payment.provider_id)


def test_a_second_paid_signup_of_one_account_is_a_refund_case_not_a_second_customer(
    client: Client, bind: Library, digital_only: SubscriptionType, balie: User
) -> None:
    active_account("e.b.tester")
    # two browsers, each with its own sign-up, both at the payment page before either pays
    first = start_payment(bind, digital_only, key=uuid.uuid4())
    second = start_payment(bind, digital_only, key=uuid.uuid4())
    assert first.pk != second.pk

    pay(first)
    pay(second)

    customer = Customer.objects.get()
    assert Membership.objects.count() == 1
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.problem, first.customer) == ("", customer)
    assert second.status == PaymentStatus.PAID and second.ledger_line is None
    assert second.customer == customer  # so that it shows with the customer who paid twice
    assert "terugbetalen" in second.problem.lower()
    assert "€ 42,00" in second.problem and customer.number in second.problem
    assert "e.b.tester" in second.problem

    # the counter sees it on the customer's page
    client.force_login(balie)
    page = client.get(f"/balie/klanten/{customer.number}/").content.decode()
    assert "Terugbetalen" in page and second.problem in page

    # and in the admin, among the payments with a problem
    operator = User.objects.create_superuser("operator", "operator@example.nl", "x" * 20)
    admin_login(client, operator, "x" * 20)
    listing = client.get("/admin/payments/payment/", {"probleem": "ja"}).content.decode()
    assert second.provider_id in listing and first.provider_id not in listing


def test_a_replayed_webhook_of_the_first_payment_is_not_a_refund_case(
    bind: Library, digital_only: SubscriptionType
) -> None:
    active_account("e.b.tester")
    first = start_payment(bind, digital_only, key=uuid.uuid4())
    pay(first)
    pay(first)
    first.refresh_from_db()
    assert first.problem == "" and Customer.objects.count() == 1
