"""iDEAL through Mollie, with mollie-api-python.

The API key is BIEB_MOLLIE_API_KEY; BIEB_MOLLIE_API_ENDPOINT points the client elsewhere (the
tests' local fake Mollie). A webhook from Mollie carries only a payment id: the status is always
fetched from the API with our key, so a forged webhook can at most make us ask Mollie.
"""

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.conf import settings
from mollie.api.client import Client
from mollie.api.error import Error as MollieError

from bieb.customers.models import PaymentMethod
from bieb.payments.models import PaymentStatus
from bieb.payments.providers.base import Fetched, PaymentProvider, ProviderError, Started

# Mollie's payment statuses → ours. "authorized" only happens for card/klarna captures.
STATUSES = {
    "open": PaymentStatus.OPEN,
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.PENDING,
    "paid": PaymentStatus.PAID,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELED,
    "expired": PaymentStatus.EXPIRED,
}
TIMEOUT = (3, 10)  # connect, read (seconds)


def _status(value: Any) -> str:
    try:
        return STATUSES[str(value)]
    except KeyError:
        raise ProviderError(f"Mollie answered an unknown status {value!r}") from None


def _amount(value: Any) -> Decimal | None:
    try:
        if value["currency"] != "EUR":
            return None
        return Decimal(value["value"])
    except (KeyError, TypeError, InvalidOperation):
        return None


class MollieProvider(PaymentProvider):
    code: ClassVar[str] = "mollie"
    name: ClassVar[str] = "iDEAL (Mollie)"
    ledger_method: ClassVar[str] = PaymentMethod.IDEAL

    def is_available(self) -> bool:
        return bool(settings.BIEB_MOLLIE_API_KEY)

    def _client(self) -> Client:
        client = Client(api_endpoint=settings.BIEB_MOLLIE_API_ENDPOINT, timeout=TIMEOUT)
        try:
            client.set_api_key(settings.BIEB_MOLLIE_API_KEY)
        except MollieError as error:
            raise ProviderError(f"Mollie is not set up: {error}") from error
        return client

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
        data = {
            "amount": {"currency": "EUR", "value": f"{amount:.2f}"},
            "description": description,
            "redirectUrl": redirect_url,
            "webhookUrl": webhook_url,
            "method": "ideal",
            "locale": "nl_NL",
            "metadata": {"payment": str(public_id)},
        }
        try:
            # Mollie answers a repeated key (within an hour) with the first payment.
            payment = self._client().payments.create(data, idempotency_key=idempotency_key)
        except MollieError as error:
            raise ProviderError(f"Mollie refused the payment: {error}") from error
        if not payment.checkout_url:
            raise ProviderError("Mollie gave no checkout URL")
        return Started(
            provider_id=str(payment.id),
            checkout_url=str(payment.checkout_url),
            status=_status(payment.status),
        )

    def fetch(self, *, provider_id: str) -> Fetched:
        try:
            payment = self._client().payments.get(provider_id)
        except MollieError as error:
            raise ProviderError(f"Mollie did not answer for {provider_id}: {error}") from error
        return Fetched(status=_status(payment.status), amount=_amount(payment.amount))
