"""The member's own choice for direct debit, on the payment page of a renewal mail's link
(`/betalen/verlengen/<token>/incasso/`): an electronic mandate (IBAN, account holder, the
consent text naming the creditor, its Incassant-ID and the mandate reference, kept as
evidence) and a debit of the period, pre-notified by mail. A Vast period that was only offered
is renewed (booked) first, as paying it would. A booked period whose saldo an open amount's
debit already collects is not collected a second time."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.loader import get_template
from django.utils import timezone

from bieb.core.dates import local_today
from bieb.core.money import to_cents
from bieb.customers.memberships import membership_renew
from bieb.customers.models import Customer, MembershipPeriod, PeriodState
from bieb.customers.year import customer_saldo_of
from bieb.debits.collect import DEBIT_OPEN, debits_for_periods
from bieb.debits.models import Debit, Mandate, MandateKind
from bieb.debits.notices import debit_notice_context
from bieb.debits.services import (
    Consent,
    mandate_active,
    mandate_amend,
    mandate_consent_text,
    mandate_create,
    mandate_reference_next,
)
from bieb.mail.services import mail_queue


@dataclass(frozen=True)
class DebitChoice:
    debit: Debit
    mandate: Mandate


def period_open_debit(period: MembershipPeriod) -> Debit | None:
    """The debit the bank is to collect for this period already: its own, or, for a booked
    period (its fee is in the saldo), an open amount the library is collecting: an open debit
    of the customer when the open debits cover the whole saldo. A second debit for it would
    collect it twice."""
    own = Debit.objects.filter(period=period, state__in=DEBIT_OPEN).select_related("mandate")
    debit = own.first()
    if debit is not None or period.state != PeriodState.BOOKED:
        return debit
    customer_id = period.membership.customer_id
    open_debits = Debit.objects.filter(customer_id=customer_id, state__in=DEBIT_OPEN)
    covered = open_debits.aggregate(total=Sum("amount"))["total"]
    if covered is None or to_cents(covered) < customer_saldo_of(customer_id):
        return None
    return open_debits.select_related("mandate").order_by("-collection_date", "-pk").first()


def period_mandate_reference(period: MembershipPeriod) -> str:
    """The reference the member's mandate has, or will have: shown in the consent text."""
    customer = period.membership.customer
    active = mandate_active(library=period.library, customer=customer)
    if active is not None:
        return active.reference
    return mandate_reference_next(library=period.library, customer=customer)


def period_consent_text(period: MembershipPeriod) -> str:
    return mandate_consent_text(library=period.library, reference=period_mandate_reference(period))


def period_pay_by_debit(
    *,
    period: MembershipPeriod,
    iban: str,
    holder_name: str,
    consent_given: bool,
    ip: str | None,
    user_agent: str,
) -> DebitChoice:
    """The member chooses direct debit for this period (and the years after). Once: a second
    submit returns the debit planned by the first."""
    library = period.library
    if not consent_given:
        raise ValidationError({"consent": "Geef toestemming voor de automatische incasso."})
    customer = period.membership.customer
    name = f"online:{customer.number}"
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        period = MembershipPeriod.objects.select_related(
            "membership", "membership__customer", "library", "subscription_type"
        ).get(pk=period.pk)
        if period.state == PeriodState.LAPSED:
            raise ValidationError("Deze periode gaat niet door; er valt niets te betalen.")
        open_debit = period_open_debit(period)
        if open_debit is not None:
            return DebitChoice(debit=open_debit, mandate=open_debit.mandate)
        consent = Consent(
            text=period_consent_text(period),
            at=timezone.now(),
            ip=ip,
            user_agent=user_agent,
        )
        mandate = mandate_active(library=library, customer=customer)
        if mandate is None:
            mandate = mandate_create(
                library=library,
                customer=customer,
                iban=iban,
                holder_name=holder_name,
                signed_on=local_today(),
                kind=MandateKind.ONLINE,
                actor=None,
                actor_name=name,
                consent=consent,
            )
        else:
            mandate = mandate_amend(mandate=mandate, iban=iban, actor=None, actor_name=name)
        if period.state == PeriodState.OFFERED:
            period = membership_renew(membership=period.membership, actor=None, actor_name=name)
            period = MembershipPeriod.objects.select_related(
                "membership", "membership__customer", "library", "subscription_type"
            ).get(pk=period.pk)
        planned = debits_for_periods([period], library=library, today=local_today())
        debit = planned.get(period.pk)
        if debit is None:
            raise ValidationError("Voor deze periode is niets te betalen.")
        _prenotify(debit, mandate, period)
    return DebitChoice(debit=debit, mandate=mandate)


def _prenotify(debit: Debit, mandate: Mandate, period: MembershipPeriod) -> None:
    customer = period.membership.customer
    library = period.library
    if not customer.email:
        return
    context = debit_notice_context(debit, customer, library, mandate)
    mail_queue(
        to=customer.email,
        subject=f"Automatische incasso voor je abonnement bij {library.name}",
        text=get_template("debits/mail/prenotification.txt").render(context),
        kind="debits.prenotification",
        reference=debit.end_to_end_id,
    )
