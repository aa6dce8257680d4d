"""Webhooks: the body names a payment and nothing more; the status is fetched from the provider
(the demo service's records, or the Mollie API on a local fake Mollie server)."""

import json
from decimal import Decimal

import pytest
from django.test import Client, override_settings

from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.libraries.models import Library, SubscriptionType
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from tests.payments.fake_mollie import FakeMollie
from tests.signup.factories import active_account, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(demo: None) -> str:
    return active_account("e.b.tester").username


def payment_lines() -> int:
    return LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count()


def test_the_demo_webhook_believes_the_provider_not_the_body(
    client: Client, bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    url = "/betalen/webhook/demo/"
    forged = client.post(url, {"id": payment.provider_id, "status": "paid", "amount": "42.00"})
    assert forged.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN and not Customer.objects.exists()

    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    for _ in range(3):  # delivered, then replayed
        assert client.post(url, {"id": payment.provider_id}).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Customer.objects.count() == 1 and payment_lines() == 1


def test_a_replayed_paid_webhook_leaves_the_valid_payment_without_a_problem(
    client: Client, bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)
    # the member pays on the demo service's page; its webhook reaches us (the demo service's
    # own delivery has no server to reach in this test, so the test delivers it)
    page = client.post(f"/betalen/demo/{payment.provider_id}/", {"uitkomst": "betaald"})
    assert page.status_code == 302
    for _ in range(4):  # delivered, then replayed (the provider retries, an attacker replays)
        assert client.post("/betalen/webhook/demo/", {"id": payment.provider_id}).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.problem) == (PaymentStatus.PAID, "")
    assert payment.ledger_line is not None and payment.fulfilled_at is not None
    assert Customer.objects.count() == 1 and payment_lines() == 1
    assert not Payment.objects.exclude(problem="").exists()


def test_webhook_answers(client: Client, demo: None) -> None:
    assert client.post("/betalen/webhook/demo/", {"id": "demo_unknown"}).status_code == 200
    assert client.post("/betalen/webhook/demo/", {}).status_code == 400
    assert client.get("/betalen/webhook/demo/").status_code == 405
    assert client.post("/betalen/webhook/balie/", {"id": "x"}).status_code == 404
    assert client.post("/betalen/webhook/paypal/", {"id": "x"}).status_code == 404
    # a provider posts without a CSRF token
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/betalen/webhook/demo/", {"id": "demo_unknown"}).status_code == 200


def test_outside_demo_mode_the_demo_payment_service_does_not_exist(
    client: Client, bind: Library, digital_only: SubscriptionType, member: str
) -> None:
    payment = start_payment(bind, digital_only)  # made while the demo was on
    checkout = f"/betalen/demo/{payment.provider_id}/"
    assert client.get(checkout).status_code == 200

    with override_settings(DEMO=False):
        assert client.get(checkout).status_code == 404
        # nobody can "pay" by clicking, nor have the demo service's word fetched
        assert client.post(checkout, {"uitkomst": "betaald"}).status_code == 404
        DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
        webhook = client.post("/betalen/webhook/demo/", {"id": payment.provider_id})
        assert webhook.status_code == 404

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN and not Customer.objects.exists()


@pytest.fixture
def mollie_bind(bind: Library, fake_mollie: FakeMollie) -> Library:
    bind.payment_provider = "mollie"
    bind.save()
    return bind


def test_mollie_payment_is_made_with_the_documented_request(
    mollie_bind: Library, digital_only: SubscriptionType, member: str, fake_mollie: FakeMollie
) -> None:
    import uuid

    key = uuid.uuid4()
    payment = start_payment(mollie_bind, digital_only, key=key)
    [mollie_payment] = fake_mollie.payments.values()
    assert payment.provider == "mollie" and payment.provider_id == mollie_payment["id"]
    assert payment.checkout_url == mollie_payment["_links"]["checkout"]["href"]
    assert mollie_payment["amount"] == {"value": "42.00", "currency": "EUR"}
    assert mollie_payment["method"] == "ideal"
    assert mollie_payment["webhookUrl"].endswith("/betalen/webhook/mollie/")
    assert mollie_payment["redirectUrl"].endswith(f"/word-lid/bind/betaling/{payment.public_id}/")
    assert mollie_payment["metadata"] == {"payment": str(payment.public_id)}
    # a double click: the same payment, here and at Mollie
    assert start_payment(mollie_bind, digital_only, key=key).pk == payment.pk
    assert len(fake_mollie.payments) == 1 and Payment.objects.count() == 1


def test_the_mollie_webhook_ignores_the_body_and_fetches_the_payment(
    client: Client,
    mollie_bind: Library,
    digital_only: SubscriptionType,
    member: str,
    fake_mollie: FakeMollie,
) -> None:
    payment = start_payment(mollie_bind, digital_only)
    tr = payment.provider_id
    url = "/betalen/webhook/mollie/"

    # Mollie sends only the id; a forged body claiming "paid" makes us ask Mollie, nothing more
    client.post(url, {"id": tr, "status": "paid"})
    assert fake_mollie.gets(tr) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN and not Customer.objects.exists()
    body = json.dumps({"id": tr, "status": "paid"})
    client.post(url, body, content_type="application/json")  # no form id at all
    assert client.post(url, body, content_type="application/json").status_code == 400

    fake_mollie.set_status(tr, "paid")
    assert client.post(url, {"id": tr}).status_code == 200
    assert client.post(url, {"id": tr}).status_code == 200  # replayed
    fake_mollie.script(tr, ["open", "failed"])  # a stale answer, then a wrong late one
    client.post(url, {"id": tr})
    client.post(url, {"id": tr})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Customer.objects.count() == 1 and payment_lines() == 1
    line = LedgerLine.objects.get(kind=LedgerKind.PAYMENT)
    assert line.amount == Decimal("-42.00") and tr in line.description
    assert fake_mollie.gets(tr) == 5


def test_a_mollie_webhook_for_a_payment_mollie_does_not_know_changes_nothing(
    client: Client,
    mollie_bind: Library,
    digital_only: SubscriptionType,
    member: str,
    fake_mollie: FakeMollie,
) -> None:
    payment = start_payment(mollie_bind, digital_only)
    Payment.objects.filter(pk=payment.pk).update(provider_id="tr_forged")
    # our record points at an id Mollie has never heard of: 404 there, try-again here
    assert client.post("/betalen/webhook/mollie/", {"id": "tr_forged"}).status_code == 503
    assert client.post("/betalen/webhook/mollie/", {"id": "tr_other"}).status_code == 200
    assert not Customer.objects.exists()


def test_mollie_unreachable_means_try_again(
    client: Client,
    mollie_bind: Library,
    digital_only: SubscriptionType,
    member: str,
    fake_mollie: FakeMollie,
) -> None:
    payment = start_payment(mollie_bind, digital_only)
    fake_mollie.stop()
    response = client.post("/betalen/webhook/mollie/", {"id": payment.provider_id})
    assert response.status_code == 503
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN


def test_a_wrong_api_key_is_refused_by_mollie(
    mollie_bind: Library,
    digital_only: SubscriptionType,
    member: str,
    fake_mollie: FakeMollie,
    settings: object,
) -> None:
    from bieb.payments.providers import ProviderError

    settings.BIEB_MOLLIE_API_KEY = "test_" + "x" * 32  # type: ignore[attr-defined]
    with pytest.raises(ProviderError, match=r"Unauthorized|authenticate"):
        start_payment(mollie_bind, digital_only)
    # Mollie was asked, refused, and made nothing; our payment waits, with no checkout page.
    assert fake_mollie.requests == [("POST", "/v2/payments")]
    assert fake_mollie.payments == {}
    payment = Payment.objects.get()
    assert (payment.status, payment.provider_id, payment.checkout_url) == ("created", "", "")
    assert not Customer.objects.exists()
