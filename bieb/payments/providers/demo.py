"""A simulated payment service for the demo and the tests, behaving like a real one.

It has its own checkout page (`/betalen/demo/<id>/`) where the tester picks the outcome: paid,
failed, cancelled or expired. Then, like Mollie, it tells us by webhook, server-side, with only
the payment's id in the body; our webhook fetches the status from here. A payment left open
expires after DEMO_EXPIRY. Available in demo mode only: outside it, nobody can "pay" by clicking.
"""

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import ClassVar

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bieb.core.requestid import request_id_current
from bieb.customers.models import PaymentMethod
from bieb.payments.models import DemoCheckout, PaymentStatus
from bieb.payments.providers.base import Fetched, PaymentProvider, ProviderError, Started

logger = logging.getLogger(__name__)

DEMO_EXPIRY = dt.timedelta(minutes=30)
WEBHOOK_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 10

# The outcomes the tester can pick, as the checkout page names them.
OUTCOMES = {
    "betaald": PaymentStatus.PAID,
    "mislukt": PaymentStatus.FAILED,
    "geannuleerd": PaymentStatus.CANCELED,
    "verlopen": PaymentStatus.EXPIRED,
}


class DemoProvider(PaymentProvider):
    code: ClassVar[str] = "demo"
    name: ClassVar[str] = "Demo-betaaldienst"
    ledger_method: ClassVar[str] = PaymentMethod.IDEAL

    def is_available(self) -> bool:
        return bool(settings.DEMO)

    def start(
        self,
        *,
        idempotency_key: str,
        public_id: uuid.UUID,
        amount: Decimal,
        description: str,
        redirect_url: str,
        webhook_url: str,
    ) -> Started:
        if not self.is_available():
            raise ProviderError("the demo payment service only runs in demo mode")
        checkout, _ = DemoCheckout.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "id": f"demo_{secrets.token_urlsafe(12)}",
                "amount": amount,
                "description": description,
                "redirect_url": redirect_url,
                "webhook_url": webhook_url,
            },
        )
        return Started(
            provider_id=checkout.id,
            checkout_url=f"{settings.BIEB_BASE_URL}/betalen/demo/{checkout.id}/",
            status=PaymentStatus.OPEN,
        )

    def fetch(self, *, provider_id: str) -> Fetched:
        if not self.is_available():
            raise ProviderError("the demo payment service only runs in demo mode")
        demo_checkouts_expire()
        checkout = DemoCheckout.objects.filter(pk=provider_id).first()
        if checkout is None:
            raise ProviderError(f"no demo payment {provider_id}")
        return Fetched(status=checkout.status, amount=checkout.amount)


def demo_checkout_get(*, checkout_id: str) -> DemoCheckout | None:
    demo_checkouts_expire()
    return DemoCheckout.objects.filter(pk=checkout_id).first()


def demo_checkout_decide(*, checkout_id: str, outcome: str) -> DemoCheckout:
    """The tester's choice on the checkout page. Only an open payment changes (once); then the
    webhook is delivered after commit."""
    status = OUTCOMES[outcome]
    with transaction.atomic():
        changed = DemoCheckout.objects.filter(pk=checkout_id, status=PaymentStatus.OPEN).update(
            status=status, decided_at=timezone.now()
        )
        if changed:
            transaction.on_commit(_webhook_after_commit(checkout_id), robust=True)
    return DemoCheckout.objects.get(pk=checkout_id)


def demo_checkouts_expire() -> int:
    """Open demo payments past DEMO_EXPIRY become expired, and say so by webhook."""
    ids = list(
        DemoCheckout.objects.filter(
            status=PaymentStatus.OPEN, created_at__lte=timezone.now() - DEMO_EXPIRY
        ).values_list("pk", flat=True)[:100]
    )
    expired = 0
    for checkout_id in ids:
        with transaction.atomic():
            if DemoCheckout.objects.filter(pk=checkout_id, status=PaymentStatus.OPEN).update(
                status=PaymentStatus.EXPIRED, decided_at=timezone.now()
            ):
                expired += 1
                transaction.on_commit(_webhook_after_commit(checkout_id), robust=True)
    return expired


def _webhook_after_commit(checkout_id: str) -> Callable[[], None]:
    """The first webhook's enqueue, as a plain function: Django names a robust on_commit
    callback that fails by its __qualname__, which a functools.partial does not have (the
    request would fail with an AttributeError instead of logging the failed enqueue)."""

    def enqueue_webhook() -> None:
        _enqueue_webhook(checkout_id, attempt=1)

    return enqueue_webhook


def _enqueue_webhook(checkout_id: str, *, attempt: int, delay: dt.timedelta | None = None) -> None:
    from bieb.payments.tasks import demo_webhook_task

    task = demo_webhook_task
    if delay is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=timezone.now() + delay)
    task.enqueue(checkout_id=checkout_id, attempt=attempt, request_id=request_id_current())


def demo_webhook_deliver(*, checkout_id: str, attempt: int = 1) -> str:
    """POST `id=<payment id>` to the webhook URL, as a real provider does; retried with backoff
    while our side does not answer 2xx."""
    checkout = DemoCheckout.objects.filter(pk=checkout_id).first()
    if checkout is None:
        return "gone"
    try:
        response = requests.post(
            checkout.webhook_url, data={"id": checkout.id}, timeout=WEBHOOK_TIMEOUT
        )
        outcome = str(response.status_code)
        delivered = 200 <= response.status_code < 300
    except requests.RequestException as error:
        outcome = type(error).__name__
        delivered = False
    if not delivered:
        logger.warning("demo webhook %s attempt %s: %s", checkout_id, attempt, outcome)
        if attempt < WEBHOOK_ATTEMPTS:
            _enqueue_webhook(
                checkout_id, attempt=attempt + 1, delay=dt.timedelta(seconds=15 * 2**attempt)
            )
    return outcome
