"""The payment providers, one interface: a library chooses one (`Library.payment_provider`).

- `balie`: cash or pin at the desk; booked by staff at once, never online;
- `demo`: a simulated payment service with its own checkout page, for the demo and the tests;
- `mollie`: iDEAL through Mollie (mollie-api-python).
"""

from bieb.libraries.models import Library
from bieb.payments.providers.balie import BalieProvider
from bieb.payments.providers.base import Fetched, PaymentProvider, ProviderError, Started
from bieb.payments.providers.demo import DemoProvider
from bieb.payments.providers.mollie import MollieProvider

__all__ = [
    "PROVIDERS",
    "Fetched",
    "PaymentProvider",
    "ProviderError",
    "Started",
    "provider_for_library",
    "provider_get",
]

PROVIDERS: dict[str, PaymentProvider] = {
    provider.code: provider for provider in (BalieProvider(), DemoProvider(), MollieProvider())
}


def provider_get(code: str) -> PaymentProvider:
    try:
        return PROVIDERS[code]
    except KeyError:
        raise ProviderError(f"unknown payment provider {code!r}") from None


def provider_for_library(library: Library) -> PaymentProvider:
    """The library's provider for paying online, or ProviderError (with a Dutch message) when
    members of this library cannot pay online."""
    provider = provider_get(library.payment_provider)
    if not provider.online or not provider.is_available():
        raise ProviderError(
            f"Online betalen kan bij {library.name} nu niet. Schrijf je in aan de balie van "
            "een vestiging."
        )
    return provider
