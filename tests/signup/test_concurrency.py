"""At the same moment, on PostgreSQL (where requests really run side by side): two presses of
"Betalen" make one sign-up and one payment; two deliveries of the paid webhook make one
customer and one payment line; two sign-ups of one login account paid at once make one
customer and one refund case."""

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection

from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.libraries.models import Library, SubscriptionType
from bieb.payments.models import DemoCheckout, Payment
from bieb.payments.services import payment_webhook
from bieb.signup.models import Signup
from tests.signup.factories import active_account, start_payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(action: Callable[[], object], times: int = 2) -> list[object]:
    barrier = threading.Barrier(times)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_two_betalen_at_once_make_one_payment(
    bind: Library, digital_only: SubscriptionType
) -> None:
    active_account("e.b.tester")
    key = uuid.uuid4()
    payments = at_once(lambda: start_payment(bind, digital_only, key=key).pk)
    assert len(set(payments)) == 1
    assert Payment.objects.count() == Signup.objects.count() == DemoCheckout.objects.count() == 1


def test_two_paid_webhooks_at_once_make_one_customer(
    bind: Library, digital_only: SubscriptionType
) -> None:
    active_account("e.b.tester")
    payment = start_payment(bind, digital_only)
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    at_once(lambda: payment_webhook(provider_code="demo", provider_id=payment.provider_id), 3)
    assert Customer.objects.count() == 1
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1


def test_two_signups_of_one_account_paid_at_once_make_one_customer_and_one_refund_case(
    bind: Library, digital_only: SubscriptionType
) -> None:
    active_account("e.b.tester")
    payments = [start_payment(bind, digital_only, key=uuid.uuid4()) for _ in range(2)]
    DemoCheckout.objects.update(status="paid")
    waiting = list(payments)  # each thread takes one (list.pop is atomic)
    at_once(lambda: payment_webhook(provider_code="demo", provider_id=waiting.pop().provider_id))

    assert Customer.objects.count() == 1
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1
    refunds = [p for p in Payment.objects.all() if p.problem]
    assert len(refunds) == 1 and "terugbetalen" in refunds[0].problem.lower()
    assert refunds[0].customer == Customer.objects.get()
