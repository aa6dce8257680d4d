"""Cash or pin at the desk: staff book the payment at once (`payment_desk_receive`)."""

from typing import ClassVar

from bieb.customers.models import PaymentMethod
from bieb.payments.providers.base import PaymentProvider


class BalieProvider(PaymentProvider):
    code: ClassVar[str] = "balie"
    name: ClassVar[str] = "Balie (contant of pin)"
    ledger_method: ClassVar[str] = PaymentMethod.PIN
    online: ClassVar[bool] = False
