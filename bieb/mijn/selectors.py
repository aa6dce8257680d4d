"""What Mijn bibliotheek shows a member: which customer their login account is at this library,
and per membership the period, the rights, the renewal and how it is paid; the ledger with the
open amount and where to pay it.

Every read is scoped to the library of the page and to the signed-in account: a member sees
nothing of another library or of another customer, whatever the address says. Paying uses the
membership year's own payment link (`bieb.customers.year.period_pay_url`, the pages of
`bieb.payments`), so the amount, the renewal of a Vast membership and the rights follow the
same rules as the link in a renewal mail.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.models import (
    MEMBERSHIP_CLOSED,
    Customer,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.customers.selectors import customer_ledger, customer_memberships
from bieb.customers.validators import masked_iban
from bieb.customers.year import ONE_DAY, customer_saldo_of, period_pay_url, periods_to_pay_of
from bieb.debits.collect import DEBIT_OPEN
from bieb.debits.models import Debit, Mandate
from bieb.debits.services import mandate_active
from bieb.libraries.models import Library, PaymentProviderCode, RenewalKind
from bieb.payments.periods import NothingToPay, period_payable


def member_customers(*, library: Library, account_id: str) -> list[Customer]:
    """This library's customers linked to the login account with this id (the OIDC `sub`),
    newest first. Mostly one; a member who left and came back may have two numbers."""
    try:
        account = uuid.UUID(str(account_id))
    except ValueError:
        return []
    return list(
        Customer.objects.filter(library=library, login_account_id=account)
        .select_related("library")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PayOffer:
    url: str
    amount: Decimal
    renew: bool  # a Vast renewal: "Verlengen en betalen"

    @property
    def label(self) -> str:
        return "Verlengen en betalen" if self.renew else "Betalen"

    @property
    def amount_label(self) -> str:
        return format_euro(self.amount)


@dataclass
class MembershipCard:
    membership: Membership
    status: str
    period_start: dt.date
    period_end: dt.date
    renewal: str
    pay: PayOffer | None = None
    can_cancel: bool = False
    cancel_end: dt.date | None = None
    next_period: MembershipPeriod | None = None


@dataclass(frozen=True)
class PlannedDebit:
    collection_date: dt.date
    amount: Decimal
    iban: str

    @property
    def amount_label(self) -> str:
        return format_euro(self.amount)


@dataclass
class Overview:
    customer: Customer
    cards: list[MembershipCard]
    saldo: Decimal
    mandate: Mandate | None
    paying: str  # how this member pays, in a sentence
    debits: list[PlannedDebit] = field(default_factory=list)

    @property
    def saldo_label(self) -> str:
        return format_euro(self.saldo)

    @property
    def pay_offers(self) -> list[tuple[Membership, PayOffer]]:
        return [(c.membership, c.pay) for c in self.cards if c.pay is not None]

    @property
    def credit_label(self) -> str:
        return format_euro(-self.saldo)

    @property
    def mandate_iban(self) -> str:
        return masked_iban(self.mandate.iban) if self.mandate else ""


def _status(membership: Membership) -> str:
    if membership.is_cancelled and membership.status not in MEMBERSHIP_CLOSED:
        assert membership.ends_on is not None  # noqa: S101  (set with cancelled_at)
        return f"opgezegd per {date_nl(membership.ends_on)}"
    if membership.is_cancelled:
        return "opgezegd"
    return MembershipStatus(membership.status).label


def _renewal(membership: Membership, following: MembershipPeriod | None) -> str:
    """How the membership goes on after its period, in the member's words."""
    kind = membership.subscription_type.renewal
    end = membership.valid_through
    if membership.is_cancelled:
        assert membership.ends_on is not None  # noqa: S101
        ends = date_nl(membership.ends_on)
        return f"Opgezegd: je abonnement stopt per {ends} en wordt niet verlengd."
    if membership.status == MembershipStatus.DEREGISTERED:
        return (
            "Uitgeschreven wegens een betalingsachterstand. Neem contact op met de bibliotheek "
            "om weer lid te worden."
        )
    if following is not None and following.state == PeriodState.BOOKED:
        return (
            f"Verlengd: de volgende periode loopt van {date_nl(following.start)} t/m "
            f"{date_nl(following.end)} ({format_euro(following.amount)})."
        )
    if membership.status == MembershipStatus.ENDED:
        return f"Afgelopen op {date_nl(end)}. Verlengen kan nog: dan loopt het weer een jaar."
    if following is not None and following.state == PeriodState.OFFERED:
        return (
            f"Loopt af op {date_nl(end)}. Verleng het vóór die datum: dan loopt het door t/m "
            f"{date_nl(following.end)} ({format_euro(following.amount)})."
        )
    if kind == RenewalKind.AUTOMATIC:
        return (
            f"Wordt op {date_nl(end + ONE_DAY)} vanzelf verlengd met "
            f"{membership.subscription_type.period_months} maanden, tot je opzegt."
        )
    return f"Loopt af op {date_nl(end)}. Je krijgt vooraf een mail om het te verlengen."


def _pay_offer(period: MembershipPeriod | None, library: Library) -> PayOffer | None:
    if period is None or library.payment_provider == PaymentProviderCode.BALIE:
        return None
    try:
        amount = period_payable(period)
    except NothingToPay:
        return None
    return PayOffer(
        url=period_pay_url(period), amount=amount, renew=period.state == PeriodState.OFFERED
    )


def _paying(library: Library, mandate: Mandate | None) -> str:
    if mandate is not None:
        return "Automatische incasso"
    if library.payment_provider == PaymentProviderCode.BALIE:
        return "Aan de balie (contant of pin)"
    return "Met een betaallink (iDEAL) in de mail, of aan de balie"


def member_overview(*, customer: Customer, today: dt.date) -> Overview:
    """The memberships (newest first) with what a member wants to know of each, the saldo,
    the way of paying, and the direct debits still to come."""
    library = customer.library
    periods = MembershipPeriod.objects.select_related("subscription_type").order_by("start", "id")
    memberships = list(
        customer_memberships(customer=customer).prefetch_related(
            Prefetch("periods", queryset=periods)
        )
    )
    to_pay = periods_to_pay_of(memberships)
    cards = []
    for membership in memberships:
        kept = [p for p in membership.periods.all() if p.state != PeriodState.LAPSED]
        running = [p for p in kept if p.state == PeriodState.BOOKED and p.start <= today]
        current = running[-1] if running else None
        upcoming = [p for p in kept if p.start > today]
        following = upcoming[0] if upcoming else None
        period = to_pay.get(membership.pk)
        if period is not None:
            period.membership = membership
            period.library = library
        closed = membership.status in MEMBERSHIP_CLOSED
        current_end = current.end if current else membership.valid_through
        cards.append(
            MembershipCard(
                membership=membership,
                status=_status(membership),
                period_start=current.start if current else membership.start_date,
                period_end=current_end,
                renewal=_renewal(membership, following),
                pay=_pay_offer(period, library),
                can_cancel=not membership.is_cancelled and not closed,
                cancel_end=max(current_end, today),
                next_period=following,
            )
        )
    mandate = mandate_active(library=library, customer=customer)
    planned = (
        Debit.objects.filter(customer=customer, library=library, state__in=DEBIT_OPEN)
        .select_related("mandate")
        .order_by("collection_date", "id")
    )
    return Overview(
        customer=customer,
        cards=cards,
        saldo=customer_saldo_of(customer.pk),
        mandate=mandate,
        paying=_paying(library, mandate),
        debits=[
            PlannedDebit(
                collection_date=d.collection_date,
                amount=d.amount,
                iban=masked_iban(d.iban or d.mandate.iban),
            )
            for d in planned
        ],
    )


@dataclass(frozen=True)
class LedgerRow:
    line: LedgerLine
    reversed: bool

    @property
    def amount_label(self) -> str:
        return format_euro(self.line.amount)


def member_ledger(*, customer: Customer) -> list[LedgerRow]:
    """The customer's ledger, newest first, each line with whether a storno reversed it."""
    lines = list(customer_ledger(customer=customer).order_by("-booked_at", "-id"))
    reversed_ids = {line.reverses_id for line in lines if line.reverses_id}
    return [LedgerRow(line=line, reversed=line.pk in reversed_ids) for line in lines]


def member_membership(*, customer: Customer, pk: int) -> Membership | None:
    """One of this customer's memberships (never another's)."""
    return (
        Membership.objects.filter(pk=pk, customer=customer, library_id=customer.library_id)
        .select_related("subscription_type", "library")
        .first()
    )
