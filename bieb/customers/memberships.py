"""Changes of one membership: 'Verlengen' (renew, also early; the member's payment link),
'Opzeggen' (cancel), 'Wijzig abonnement' (another type from the next period), and the pricing of
a next period that the renewal run (bieb.customers.renewals) shares.

Each runs in one transaction under the customer's and the membership's row locks, writes an
audit row (staff member, or the member online by `actor_name`), books through the ledger's
owner (bieb.customers.ledger) and refreshes the year (bieb.customers.year).
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import get_template
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.dates import age_on, date_nl, local_today, month_year_nl, period_valid_through
from bieb.core.money import format_euro
from bieb.customers.costs import ADULT_AGE, CostBuildUp, cost_build_up, subscription_refusal
from bieb.customers.ledger import ledger_period_book
from bieb.customers.models import (
    MEMBERSHIP_CLOSED,
    CancelReason,
    Customer,
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
    RenewalRun,
)
from bieb.customers.validators import masked_iban
from bieb.customers.year import ONE_DAY, customer_year_refresh, period_pay_url
from bieb.libraries.models import (
    Discount,
    Library,
    PaymentProviderCode,
    SubscriptionType,
    Tariff,
    TariffKind,
)
from bieb.mail.services import mail_queue
from bieb.staff.models import User

logger = logging.getLogger(__name__)


@dataclass
class Pricing:
    """What the library's renewals need, loaded once per run."""

    library: Library
    tariffs: list[Tariff]
    types: dict[int, SubscriptionType]
    discounts: dict[int, Discount]

    @classmethod
    def load(cls, library: Library) -> "Pricing":
        return cls(
            library=library,
            tariffs=list(Tariff.objects.filter(library=library)),
            types={t.pk: t for t in SubscriptionType.objects.filter(library=library)},
            discounts={d.pk: d for d in Discount.objects.filter(library=library)},
        )


@dataclass(frozen=True)
class NextPeriod:
    subscription_type: SubscriptionType
    costs: CostBuildUp


def period_next_price(
    *, membership: Membership, customer: Any, pricing: Pricing, start: dt.date
) -> NextPeriod:
    """The cost build-up of the period that starts on `start`: the subscription chosen for the
    next period ("Wijzig abonnement"), or the same one; when the customer's age no longer fits
    it, the type it goes over to (youth → adult). The tariff stays what it was, except that a
    member who turned 18 leaves the free youth tariff for the library's standard one. Raises
    ValidationError when the membership cannot go on (no type fits)."""
    type_id = membership.next_subscription_type_id or membership.subscription_type_id
    subscription = pricing.types[type_id]
    age = age_on(customer.birth_date, start)
    if subscription_refusal(subscription, age) and subscription.successor_id:
        subscription = pricing.types[subscription.successor_id]
    tariff: Tariff | None = next(t for t in pricing.tariffs if t.pk == membership.tariff_id)
    assert tariff is not None  # noqa: S101  (a membership's tariff is its library's)
    if age >= ADULT_AGE and tariff.kind == TariffKind.FREE and not tariff.is_default:
        previous_age = age_on(customer.birth_date, membership.start_date)
        if previous_age < ADULT_AGE or subscription.pk != membership.subscription_type_id:
            tariff = None  # the library's standard tariff for this age
    discount = pricing.discounts.get(membership.discount_id) if membership.discount_id else None
    costs = cost_build_up(
        customer=customer,
        subscription_type=subscription,
        tariff=tariff,
        discount=discount,
        on=start,
        tariffs=pricing.tariffs,
    )
    return NextPeriod(subscription_type=subscription, costs=costs)


def _period_from(
    membership: Membership, priced: NextPeriod, *, state: str, run: RenewalRun | None
) -> MembershipPeriod:
    costs = priced.costs
    return MembershipPeriod(
        library_id=membership.library_id,
        membership=membership,
        subscription_type=priced.subscription_type,
        tariff=costs.tariff,
        discount=costs.discount,
        start=costs.start,
        end=period_valid_through(costs.start, priced.subscription_type.period_months),
        fee=costs.fee,
        discount_amount=costs.discount_amount,
        state=state,
        renewal_run=run,
    )


def fee_description(period: MembershipPeriod) -> str:
    return f"{period.subscription_type.label}, Geldig t/m {month_year_nl(period.end)}"


def _apply_booked(membership: Membership, period: MembershipPeriod) -> list[str]:
    """The membership follows its newest booked period."""
    membership.subscription_type = period.subscription_type
    membership.tariff = period.tariff
    membership.discount = period.discount
    membership.valid_through = period.end
    membership.expiry_month = period.end.month
    membership.next_subscription_type = None
    return [
        "subscription_type",
        "tariff",
        "discount",
        "valid_through",
        "expiry_month",
        "next_subscription_type",
    ]


# --- the counter: Verlengen, Opzeggen, Wijzig abonnement -------------------------------------


def _locked(actor: User | None, membership: Membership) -> tuple[Customer, Membership]:
    if actor is not None and actor.library_id != membership.library_id:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")
    customer = Customer.objects.select_for_update().get(pk=membership.customer_id)
    locked = (
        Membership.objects.select_related("subscription_type", "library")
        .select_for_update(of=("self",))
        .get(pk=membership.pk)
    )
    return customer, locked


def _future_periods(membership: Membership, *, on: dt.date) -> list[MembershipPeriod]:
    """The periods after the running one: offered, or booked ahead (by the run or an early
    'Verlengen'). Not "after valid_through": that follows the newest booked period, so a
    period booked ahead would never be found (renewed twice, changed too late)."""
    running_end = (
        MembershipPeriod.objects.filter(
            membership=membership, state=PeriodState.BOOKED, start__lte=on
        )
        .order_by("-start")
        .values_list("end", flat=True)
        .first()
    )
    after = running_end if running_end is not None else membership.start_date - ONE_DAY
    return list(
        MembershipPeriod.objects.filter(membership=membership, start__gt=after)
        .exclude(state=PeriodState.LAPSED)
        .select_related("subscription_type", "discount", "membership")
        .order_by("start")
    )


def membership_renew(
    *,
    membership: Membership,
    actor: User | None,
    actor_name: str = "",
    on: dt.date | None = None,
) -> MembershipPeriod:
    """'Verlengen' (at the counter, also early; or the member's payment link): book the next
    period. A Vast renewal that was offered is booked as offered; otherwise it is priced now.
    Returns the booked period; its payment is the caller's next step."""
    on = on or local_today()
    with transaction.atomic():
        customer, locked = _locked(actor, membership)
        if locked.status == MembershipStatus.DEREGISTERED or locked.is_cancelled:
            raise ValidationError(
                "Dit abonnement is beëindigd en kan niet meer verlengd worden. Schrijf de klant "
                "zo nodig opnieuw in.",
                code="closed",
            )
        future = _future_periods(locked, on=on)
        period = future[0] if future else None
        if period is not None and period.state == PeriodState.BOOKED:
            raise ValidationError(
                f"Dit abonnement is al verlengd t/m {date_nl(period.end)}.", code="renewed"
            )
        if period is None:
            priced = period_next_price(
                membership=locked,
                customer=customer,
                pricing=Pricing.load(locked.library),
                start=locked.valid_through + ONE_DAY,
            )
            period = _period_from(locked, priced, state=PeriodState.OFFERED, run=None)
            period.save()
        period.membership = locked
        locked.save(update_fields=_apply_booked(locked, period))
        ledger_period_book(
            period=period, actor=actor, description=fee_description(period), refresh=False
        )
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action="membership.renewed",
            library=locked.library,
            target=locked,
            data={
                "period": period.pk,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "amount": str(period.amount),
            },
        )
        customer_year_refresh(customer=customer, today=on, actor=actor, actor_name=actor_name)
    return period


def _lapse(period: MembershipPeriod, *, actor: User | None, reason: str) -> None:
    """A period that will not run: an offer lapses; a booked one is reversed line by line."""
    if period.state == PeriodState.BOOKED:
        for line in LedgerLine.objects.filter(period=period, reversed_by__isnull=True).exclude(
            kind__in=[LedgerKind.STORNO, LedgerKind.PAYMENT]
        ):
            LedgerLine.objects.create(
                library_id=line.library_id,
                customer_id=line.customer_id,
                membership_id=line.membership_id,
                period=period,
                kind=LedgerKind.STORNO,
                amount=-line.amount,
                reverses=line,
                reason=reason,
                description=f"Storno: {line.description}",
                booked_by=actor,
            )
    period.state = PeriodState.LAPSED
    period.save(update_fields=["state"])


def membership_cancel(
    *,
    membership: Membership,
    reason: str,
    at_once: bool = False,
    actor: User | None,
    actor_name: str = "",
    on: dt.date | None = None,
) -> Membership:
    """'Opzeggen': the membership ends at the end of its current period (or today, `at_once`)
    and does not renew; a next period booked or offered already is withdrawn. The member gets
    a confirmation mail."""
    on = on or local_today()
    if reason not in CancelReason.values:
        raise ValidationError({"reason": "Kies een reden van opzeggen."})
    with transaction.atomic():
        customer, locked = _locked(actor, membership)
        if locked.is_cancelled:
            raise ValidationError("Dit abonnement is al opgezegd.", code="cancelled")
        if locked.status == MembershipStatus.DEREGISTERED:
            raise ValidationError(
                "Dit abonnement is al beëindigd (uitgeschreven wegens betalingsachterstand).",
                code="closed",
            )
        current_end = locked.valid_through
        running = (
            MembershipPeriod.objects.filter(
                membership=locked, start__lte=on, state=PeriodState.BOOKED
            )
            .order_by("-start")
            .first()
        )
        if running is not None:
            current_end = running.end
        ends_on = on if at_once else max(current_end, on)
        for period in MembershipPeriod.objects.filter(membership=locked, start__gt=ends_on):
            if period.state != PeriodState.LAPSED:
                _lapse(period, actor=actor, reason="Opgezegd")
        locked.ends_on = ends_on
        locked.valid_through = max(min(locked.valid_through, ends_on), locked.start_date)
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason
        fields = ["ends_on", "valid_through", "cancelled_at", "cancel_reason"]
        if at_once:
            locked.status = MembershipStatus.ENDED
            locked.status_changed_on = on
            fields += ["status", "status_changed_on"]
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action="membership.cancelled",
            library=locked.library,
            target=locked,
            data={"reason": reason, "ends_on": ends_on.isoformat(), "at_once": at_once},
        )
        customer_year_refresh(customer=customer, today=on, actor=actor, actor_name=actor_name)
        if customer.email:
            _mail(
                "cancelled",
                customer=customer,
                membership=locked,
                subject=f"Je abonnement bij {locked.library.name} is opgezegd",
                extra={
                    "ends_on": date_nl(ends_on),
                    "reason": CancelReason(reason).label,
                    "at_once": at_once,
                },
            )
    membership.refresh_from_db()
    return membership


def membership_change(
    *,
    membership: Membership,
    subscription_type: SubscriptionType,
    actor: User | None,
    actor_name: str = "",
    on: dt.date | None = None,
) -> Membership:
    """'Wijzig abonnement': another subscription type from the next period on. A next period
    that is offered or booked already is priced again with the new type."""
    on = on or local_today()
    with transaction.atomic():
        customer, locked = _locked(actor, membership)
        if subscription_type.library_id != locked.library_id or not subscription_type.active:
            raise ValidationError(
                {"subscription_type": "Kies een abonnement van deze bibliotheek."}
            )
        if locked.is_cancelled or locked.status in MEMBERSHIP_CLOSED:
            raise ValidationError("Dit abonnement is opgezegd of beëindigd.", code="closed")
        start = locked.valid_through + ONE_DAY
        refusal = subscription_refusal(subscription_type, age_on(customer.birth_date, start))
        if refusal:
            raise ValidationError({"subscription_type": refusal})
        locked.next_subscription_type = (
            None if subscription_type.pk == locked.subscription_type_id else subscription_type
        )
        locked.save(update_fields=["next_subscription_type"])
        pricing = Pricing.load(locked.library)
        for period in _future_periods(locked, on=on):
            priced = period_next_price(
                membership=locked, customer=customer, pricing=pricing, start=period.start
            )
            was_booked = period.state == PeriodState.BOOKED
            if was_booked:
                _lapse(period, actor=actor, reason="Abonnement gewijzigd")
            fresh = _period_from(locked, priced, state=PeriodState.OFFERED, run=None)
            for name in ("subscription_type", "tariff", "discount", "end", "fee"):
                setattr(period, name, getattr(fresh, name))
            period.discount_amount = fresh.discount_amount
            period.state = PeriodState.OFFERED
            period.save()
            if was_booked:
                period.membership = locked
                locked.save(update_fields=_apply_booked(locked, period))
                ledger_period_book(
                    period=period, actor=actor, description=fee_description(period), refresh=False
                )
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action="membership.changed",
            library=locked.library,
            target=locked,
            data={"subscription": subscription_type.code, "from": start.isoformat()},
        )
        customer_year_refresh(customer=customer, today=on, actor=actor, actor_name=actor_name)
    membership.refresh_from_db()
    return membership


# --- mails -----------------------------------------------------------------------------------


def _how_to_pay(library: Library) -> str:
    if library.payment_provider == PaymentProviderCode.BALIE:
        return "desk"
    return "link"


def mail_context(
    customer: Any,
    membership: Membership,
    period: MembershipPeriod | None,
    library: Library,
    debit: Any = None,
) -> dict[str, Any]:
    """What the membership mails fill in. With a planned direct `debit` (bieb.debits) the mail
    is also its pre-notification: the amount, the collection date, the account, the mandate
    reference and the library's Incassant-ID."""
    context: dict[str, Any] = {
        "name": customer.first_name or customer.display_name,
        "number": customer.number,
        "library": library,
        "contact": library.contact_lines,
        "subscription": membership.subscription_type.label,
        "how": _how_to_pay(library),
    }
    if period is not None:
        context.update(
            {
                "subscription": period.subscription_type.label,
                "start": date_nl(period.start),
                "end": date_nl(period.end),
                "valid_through": month_year_nl(period.end),
                "old_end": date_nl(period.start - ONE_DAY),
                "amount": format_euro(period.amount),
                "free": period.amount <= 0,
                "pay_url": period_pay_url(period) if period.amount > 0 else "",
            }
        )
    if debit is not None:
        context.update(
            {
                "pay_url": "",
                "debit_date": date_nl(debit.collection_date),
                "debit_iban": masked_iban(debit.mandate.iban),
                "debit_mandate": debit.mandate.reference,
                "creditor_id": library.creditor_id,
            }
        )
    return context


SUBJECTS = {
    "renewal_automatic": "Je abonnement bij {library} wordt verlengd",
    "renewal_fixed": "Je abonnement bij {library} loopt af op {old_end}",
    "reminder_automatic": "Herinnering: betaal je abonnement bij {library}",
    "reminder_fixed": "Herinnering: je abonnement bij {library} loopt af",
}


def _mail(
    kind: str,
    *,
    customer: Any,
    membership: Membership,
    subject: str,
    period: MembershipPeriod | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    context = mail_context(customer, membership, period, membership.library)
    context.update(extra or {})
    mail_queue(
        to=customer.email,
        subject=subject,
        text=get_template(f"customers/mail/{kind}.txt").render(context),
        kind=f"customers.{kind}",
        reference=str(period.pk if period else membership.pk),
    )
