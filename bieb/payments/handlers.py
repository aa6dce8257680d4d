"""What happens when a payment is paid, per purpose ("signup", ...).

The app that starts payments of a purpose registers its handler with `@fulfilment_handler`.
A handler runs in the transaction that records the payment as paid, under the payment's row
lock, exactly once per payment; it books the ledger line with `payment_book` and sets up what
was paid for. It raises FulfilmentProblem (or ValidationError) when it cannot: the payment then
stays paid with its problem noted, for staff to resolve (e.g. refund a double payment).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bieb.customers.models import Customer
    from bieb.payments.models import Payment

FulfilmentHandler = Callable[["Payment"], None]

HANDLERS: dict[str, FulfilmentHandler] = {}


class FulfilmentProblem(Exception):
    """Paid, but what was paid for cannot be delivered; the message is Dutch, for staff: what
    to do (e.g. refund) and why. `customer` is who the payment belongs with (the member who paid
    twice), so that staff see it on that customer's page."""

    def __init__(self, message: str, *, customer: "Customer | None" = None) -> None:
        super().__init__(message)
        self.customer = customer


def fulfilment_handler(purpose: str) -> Callable[[FulfilmentHandler], FulfilmentHandler]:
    def register(func: FulfilmentHandler) -> FulfilmentHandler:
        HANDLERS[purpose] = func
        return func

    return register
