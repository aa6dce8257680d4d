"""What every payment provider offers."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar


class ProviderError(Exception):
    """The provider cannot be used or did not answer; the message may be shown to a member."""


@dataclass(frozen=True)
class Started:
    """A payment as the provider made it: its id, where the member pays, its first status."""

    provider_id: str
    checkout_url: str
    status: str


@dataclass(frozen=True)
class Fetched:
    """A payment as the provider reports it now (never what a webhook's body claims)."""

    status: str
    amount: Decimal | None


class PaymentProvider:
    code: ClassVar[str]
    name: ClassVar[str]
    # The ledger's payment method for what this provider collects.
    ledger_method: ClassVar[str]
    # Members pay through it themselves (with a checkout page and a webhook).
    online: ClassVar[bool] = True

    def is_available(self) -> bool:
        return True

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
        """Make the payment at the provider. Called again with the same `idempotency_key`, it
        returns the same payment (a retry after a lost answer must not make a second one)."""
        raise ProviderError(f"{self.name} has no online payments")

    def fetch(self, *, provider_id: str) -> Fetched:
        raise ProviderError(f"{self.name} has no online payments")
