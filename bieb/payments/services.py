"""Writes of payments: start a payment at the library's provider, take in what the provider
says (webhook, return page, periodic check), book it in the ledger once, take money at the desk.

Idempotency, in three places:
- starting: a payment is found by its `idempotency_key` (unique) before one is made, and the
  provider is called with the same key, so a double click or a retry makes one payment;
- status: `payment_status_apply` locks the row (select_for_update) and only moves forward
  (open → paid/failed/...; a failed/cancelled/expired payment may still become paid, because the
  provider's "paid" means the money is there; nothing leaves "paid"), so replayed, late and
  out-of-order webhooks change nothing twice;
- booking: the purpose's handler runs only on the change to "paid", and the ledger line hangs
  on the payment by a one-to-one key, so there is one payment line per payment.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.money import format_euro, to_cents
from bieb.customers.ledger import ledger_online_payment_book, ledger_payment_book
from bieb.customers.models import Customer, LedgerLine, Membership, PaymentMethod
from bieb.libraries.models import Library
from bieb.payments.handlers import HANDLERS, FulfilmentProblem
from bieb.payments.models import Payment, PaymentStatus
from bieb.payments.providers import ProviderError, provider_for_library, provider_get
from bieb.staff.models import User

logger = logging.getLogger(__name__)

# Which status may follow which. Anything else (a replay, a stale answer) is ignored.
_FINAL_UNPAID = {PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED}
TRANSITIONS: dict[str, set[str]] = {
    PaymentStatus.CREATED: {PaymentStatus.OPEN, PaymentStatus.PENDING, PaymentStatus.PAID}
    | _FINAL_UNPAID,
    PaymentStatus.OPEN: {PaymentStatus.PENDING, PaymentStatus.PAID} | _FINAL_UNPAID,
    PaymentStatus.PENDING: {PaymentStatus.PAID} | _FINAL_UNPAID,
    PaymentStatus.FAILED: {PaymentStatus.PAID},
    PaymentStatus.CANCELED: {PaymentStatus.PAID},
    PaymentStatus.EXPIRED: {PaymentStatus.PAID},
    PaymentStatus.PAID: set(),
}

CHECK_AFTER = dt.timedelta(minutes=15)  # an unsettled payment's webhook may have been lost
NEVER_STARTED = dt.timedelta(days=1)  # a payment the provider never heard of is given up


def webhook_url(provider_code: str) -> str:
    return f"{settings.BIEB_BASE_URL}/betalen/webhook/{provider_code}/"


def payment_prepare(
    *,
    library: Library,
    purpose: str,
    reference: str,
    idempotency_key: str,
    amount: Decimal,
    description: str,
) -> Payment:
    """The payment with this key, made now if there is none (call inside the caller's
    transaction, under its lock). The provider is not asked yet: see `payment_checkout`."""
    amount = to_cents(amount)
    if amount <= 0:
        raise ValueError("a payment needs an amount above zero")
    provider = provider_for_library(library)
    payment, _ = Payment.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "library": library,
            "purpose": purpose,
            "reference": reference,
            "amount": amount,
            "description": description,
            "provider": provider.code,
        },
    )
    return payment


def payment_checkout(*, payment: Payment, return_url: Callable[[uuid.UUID], str]) -> Payment:
    """Make the payment at its provider, if that has not happened yet, and return it with its
    checkout URL. Safe to repeat: the provider gets the same idempotency key each time."""
    if payment.checkout_url or payment.status != PaymentStatus.CREATED:
        return payment
    provider = provider_get(payment.provider)
    started = provider.start(
        idempotency_key=payment.idempotency_key,
        public_id=payment.public_id,
        amount=payment.amount,
        description=payment.description,
        redirect_url=return_url(payment.public_id),
        webhook_url=webhook_url(provider.code),
    )
    # A concurrent call may have stored it already; the provider gave both the same payment.
    Payment.objects.filter(pk=payment.pk, provider_id="").update(
        provider_id=started.provider_id, checkout_url=started.checkout_url
    )
    payment.refresh_from_db()
    if started.status != PaymentStatus.OPEN:
        payment = payment_status_apply(payment_id=payment.pk, status=started.status)
    else:
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.OPEN
        )
        payment.refresh_from_db()
    return payment


def payment_status_apply(*, payment_id: int, status: str, amount: Decimal | None = None) -> Payment:
    """Record what the provider says. Only allowed changes happen; on the change to paid the
    purpose's handler fulfils the payment in the same transaction. `amount` is what the provider
    says was paid; a different amount is not accepted as payment of this one."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if status == payment.status or status not in TRANSITIONS[payment.status]:
            return payment
        if status == PaymentStatus.PAID and amount is not None and amount != payment.amount:
            logger.error(
                "payment %s: provider says %s paid, expected %s", payment.pk, amount, payment.amount
            )
            _problem(payment, f"Betaald bedrag {format_euro(amount)} wijkt af; controleer het.")
            return payment
        old = payment.status
        payment.status = status
        fields = ["status", "updated_at"]
        if status == PaymentStatus.PAID:
            payment.paid_at = timezone.now()
            fields.append("paid_at")
        payment.save(update_fields=fields)
        audit_record(
            actor=None,
            actor_name=f"betaaldienst:{payment.provider}",
            action="payment.status_changed",
            library=payment.library,
            target=payment,
            data={"from": old, "to": status, "provider_id": payment.provider_id},
        )
        if status == PaymentStatus.PAID:
            _fulfil(payment)
    return payment


def _fulfil(payment: Payment) -> None:
    # Once per payment: a payment that was fulfilled (booked) is done, however often its "paid"
    # reaches us. Only a different payment for the same thing is a double payment.
    if payment.fulfilled_at is not None or payment.ledger_line_id is not None:
        return
    handler = HANDLERS.get(payment.purpose)
    if handler is None:
        _problem(payment, f"Geen verwerking bekend voor '{payment.purpose}'.")
        return
    try:
        with transaction.atomic():  # a savepoint: the payment stays paid if this fails
            handler(payment)
    except (FulfilmentProblem, ValidationError) as problem:
        message = problem.messages[0] if isinstance(problem, ValidationError) else str(problem)
        logger.error("payment %s paid but not fulfilled: %s", payment.pk, message)
        payment.refresh_from_db()
        customer = problem.customer if isinstance(problem, FulfilmentProblem) else None
        _problem(payment, message, customer=customer)


def _problem(payment: Payment, message: str, *, customer: Customer | None = None) -> None:
    payment.problem = message[:300]
    fields = ["problem", "updated_at"]
    if customer is not None and payment.customer_id is None:
        payment.customer = customer
        fields.append("customer")
    payment.save(update_fields=fields)
    audit_record(
        actor=None,
        actor_name=f"betaaldienst:{payment.provider}",
        action="payment.problem",
        library=payment.library,
        target=payment,
        data={"problem": payment.problem},
    )


def payment_book(
    *, payment: Payment, customer: Customer, membership: Membership | None
) -> LedgerLine:
    """Book a paid online payment in the customer's ledger (for handlers, inside their run)."""
    if payment.ledger_line_id is not None:
        raise FulfilmentProblem("Deze betaling is al geboekt.")
    method = provider_get(payment.provider).ledger_method
    line = ledger_online_payment_book(
        customer=customer,
        membership=membership,
        amount=payment.amount,
        method=method,
        description=(
            f"Betaling {PaymentMethod(method).label} {format_euro(payment.amount)}"
            f" ({payment.provider} {payment.provider_id})"
        ),
        actor_name=f"betaaldienst:{payment.provider}",
    )
    payment.customer = customer
    payment.membership = membership
    payment.ledger_line = line
    payment.fulfilled_at = timezone.now()
    payment.save(
        update_fields=["customer", "membership", "ledger_line", "fulfilled_at", "updated_at"]
    )
    return line


def payment_sync(*, payment: Payment) -> Payment:
    """Ask the provider how the payment stands and record it (webhook, return page, check)."""
    if not payment.provider_id:
        return payment
    fetched = provider_get(payment.provider).fetch(provider_id=payment.provider_id)
    return payment_status_apply(payment_id=payment.pk, status=fetched.status, amount=fetched.amount)


def payment_webhook(*, provider_code: str, provider_id: str) -> Payment | None:
    """A provider says something changed about `provider_id`. Its body is not believed: the
    status comes from the provider's API. Unknown ids are ignored (None)."""
    payment = Payment.objects.filter(provider=provider_code, provider_id=provider_id).first()
    if payment is None:
        return None
    return payment_sync(payment=payment)


def payments_check_unsettled(*, limit: int = 200) -> dict[str, int]:
    """For the periodic job: ask about payments whose webhook is overdue; give up on payments
    the provider never made."""
    now = timezone.now()
    checked = failed = 0
    for payment in Payment.objects.filter(
        status__in=[PaymentStatus.OPEN, PaymentStatus.PENDING], updated_at__lte=now - CHECK_AFTER
    ).order_by("updated_at")[:limit]:
        try:
            payment_sync(payment=payment)
            checked += 1
        except ProviderError as error:
            failed += 1
            logger.warning("payment %s: status check failed: %s", payment.pk, error)
    abandoned = Payment.objects.filter(
        status=PaymentStatus.CREATED, provider_id="", created_at__lte=now - NEVER_STARTED
    ).update(status=PaymentStatus.EXPIRED, updated_at=now)
    return {"checked": checked, "check_failed": failed, "never_started": abandoned}


def payment_desk_receive(
    *,
    actor: User,
    customer: Customer,
    amount: Decimal,
    method: str,
    membership: Membership | None = None,
    idempotency_key: str = "",
    allow_overpayment: bool = False,
) -> Payment:
    """Cash or pin at the desk (provider `balie`): paid at once, booked in the ledger by the
    staff member, with the ledger booking's rules (maximum, more than the saldo only when
    confirmed). With `idempotency_key`, a repeated submit returns the first payment."""
    if idempotency_key:
        earlier = Payment.objects.filter(idempotency_key=f"balie:{idempotency_key}").first()
        if earlier is not None:
            return earlier
    with transaction.atomic():
        line = ledger_payment_book(
            actor=actor,
            customer=customer,
            amount=amount,
            method=method,
            membership=membership,
            allow_overpayment=allow_overpayment,
        )
        now = timezone.now()
        payment = Payment.objects.create(
            library_id=customer.library_id,
            customer=customer,
            membership=membership,
            purpose="balie",
            reference=str(customer.pk),
            amount=-line.amount,
            description=line.description,
            provider="balie",
            provider_id=f"balie-{line.pk}",
            status=PaymentStatus.PAID,
            idempotency_key=f"balie:{idempotency_key or uuid.uuid4()}",
            ledger_line=line,
            paid_at=now,
            fulfilled_at=now,
        )
    return payment
