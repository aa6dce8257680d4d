"""The membership year: which periods are paid, through which day the rights run, and where a
membership stands ("wacht op betaling", "actief", "betalingsachterstand", "uitgeschreven",
"beëindigd").

Invariants:
- The saldo is the sum of the customer's ledger lines; nothing else about money is stored.
- Paid periods are found from that saldo alone: an open saldo is owed for the newest booked
  periods (payments count against the oldest first), so a storno of a payment makes the newest
  period unpaid again, and a payment of part of the saldo never pays a later period before an
  earlier one.
- `Membership.rights_through` and `Membership.status` are derived here, by
  `customer_year_refresh`, in the transaction of every change that can move them (a ledger
  line, a booked period, a cancellation) and by the daily run for the changes that only the
  calendar makes. The login service's copy (its `valid_through`) is the rights' end, pushed from
  here whenever it changes.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db.models import Sum
from django.urls import reverse

from bieb.audit.services import audit_record
from bieb.core.dates import add_months
from bieb.core.money import ZERO
from bieb.customers.models import (
    Customer,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.kb import interface as login_service
from bieb.libraries.models import Library
from bieb.staff.models import User

ONE_DAY = dt.timedelta(days=1)
PAY_LINK_SALT = "bieb.customers.period-pay"
# A payment link works through the period it pays for and a little after (a member who pays a
# lapsed Vast renewal in June still can), never for ever.
PAY_LINK_DAYS = 400


@dataclass(frozen=True)
class Standing:
    rights_through: dt.date | None
    status: str
    # The first booked period that is not paid, if any (what a payment link pays).
    unpaid: MembershipPeriod | None


def add_months_to_day(day: dt.date, months: int) -> dt.date:
    """The same day `months` months later, or the month's last day when it has fewer days."""
    import calendar

    year, month = add_months(day.year, day.month, months)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods_unpaid(periods: list[MembershipPeriod], saldo: Decimal) -> set[int]:
    """The ids of the booked periods that the open `saldo` is owed for: the newest first."""
    owed = max(saldo, ZERO)
    unpaid: set[int] = set()
    for period in sorted(periods, key=lambda p: (p.start, p.pk), reverse=True):
        if owed <= 0:
            break
        if period.amount > 0:
            unpaid.add(period.pk)
            owed -= period.amount
    return unpaid


def membership_standing(
    membership: Membership,
    periods: list[MembershipPeriod],
    unpaid: set[int],
    *,
    library: Library,
    today: dt.date,
) -> Standing:
    """Rights and status of one membership from its booked periods (`periods`, any order) and
    which of them are unpaid."""
    booked = sorted(
        (p for p in periods if p.state == PeriodState.BOOKED), key=lambda p: (p.start, p.pk)
    )
    through: dt.date | None = None
    first_unpaid = None
    for period in booked:
        contiguous = through is None or period.start <= through + ONE_DAY
        if period.pk not in unpaid and contiguous:
            through = max(through, period.end) if through else period.end
            continue
        first_unpaid = period
        break
    if first_unpaid is not None:
        # Rights may run on into an unpaid period: the payment term, or after a paid period
        # the grace days, whichever is longer.
        extra = library.payment_term_days
        if through is not None:
            extra = max(extra, library.grace_days)
        if extra:
            run_on = min(first_unpaid.start + dt.timedelta(days=extra - 1), first_unpaid.end)
            through = max(through, run_on) if through else run_on
    elif through is not None and library.grace_days and membership.ends_on is None:
        through += dt.timedelta(days=library.grace_days)
    if membership.ends_on is not None and through is not None:
        through = min(through, membership.ends_on)

    status = _status(membership, first_unpaid, through, library=library, today=today)
    if status in (MembershipStatus.DEREGISTERED, MembershipStatus.ENDED) and through:
        through = min(through, max(today - ONE_DAY, membership.start_date))
        if membership.ends_on is not None and membership.ends_on < membership.start_date:
            through = None
    return Standing(rights_through=through, status=status, unpaid=first_unpaid)


def _status(
    membership: Membership,
    first_unpaid: MembershipPeriod | None,
    through: dt.date | None,
    *,
    library: Library,
    today: dt.date,
) -> str:
    current = membership.status
    # Final: uitgeschreven, and a cancelled membership once it ended.
    if current == MembershipStatus.DEREGISTERED:
        return current
    if current == MembershipStatus.ENDED and membership.is_cancelled:
        return current
    if membership.ends_on is not None and today > membership.ends_on:
        return MembershipStatus.ENDED
    if first_unpaid is not None and today >= first_unpaid.start:
        due = first_unpaid.start
        if today >= add_months_to_day(due, library.arrears_months + 1):
            return MembershipStatus.DEREGISTERED
        if today >= add_months_to_day(due, library.arrears_months):
            return MembershipStatus.ARREARS
        if through is not None and today <= through:
            return MembershipStatus.ACTIVE
        return MembershipStatus.AWAITING_PAYMENT
    if through is None:
        return MembershipStatus.AWAITING_PAYMENT
    if today > through:
        # Nothing unpaid and the rights are over: a Vast membership that was not renewed (it
        # may still be), or a Doorlopend one the renewal run has not reached yet.
        if membership.subscription_type.renewal == "vast":
            return MembershipStatus.ENDED
        return MembershipStatus.AWAITING_PAYMENT
    return MembershipStatus.ACTIVE


def customer_saldo_of(customer_id: int) -> Decimal:
    total = LedgerLine.objects.filter(customer_id=customer_id).aggregate(s=Sum("amount"))["s"]
    return total if total is not None else ZERO


def customer_year_refresh(
    *, customer: Customer, today: dt.date, actor: User | None = None, actor_name: str = ""
) -> list[Membership]:
    """Recompute the rights and status of each of the customer's memberships and store what
    changed: an audit row per status change, the login service told of new rights. Call it in
    the transaction of the change (the caller holds the customer's row lock). Returns the
    memberships that changed."""
    memberships = list(
        Membership.objects.filter(customer_id=customer.pk).select_related(
            "subscription_type", "library"
        )
    )
    if not memberships:
        return []
    periods = list(
        MembershipPeriod.objects.filter(
            membership__customer_id=customer.pk, state=PeriodState.BOOKED
        )
    )
    unpaid = periods_unpaid(periods, customer_saldo_of(customer.pk))
    by_membership: dict[int, list[MembershipPeriod]] = {}
    for period in periods:
        by_membership.setdefault(period.membership_id, []).append(period)
    changed = []
    for membership in memberships:
        standing = membership_standing(
            membership,
            by_membership.get(membership.pk, []),
            unpaid,
            library=membership.library,
            today=today,
        )
        if (
            standing.rights_through == membership.rights_through
            and standing.status == membership.status
        ):
            continue
        fields = ["rights_through"]
        if standing.status != membership.status:
            audit_record(
                actor=actor,
                actor_name=actor_name or ("" if actor else "verlengrun"),
                action="membership.status_changed",
                library=membership.library,
                target=membership,
                data={"from": membership.status, "to": standing.status, "on": today.isoformat()},
            )
            membership.status = standing.status
            membership.status_changed_on = today
            fields += ["status", "status_changed_on"]
        membership.rights_through = standing.rights_through
        membership.save(update_fields=fields)
        changed.append(membership)
    if changed and customer.login_account_id is not None:
        for membership in changed:
            membership.customer = customer
            login_service.update_membership(membership=membership_data(membership))
    return changed


# --- what the login service keeps, and the member's payment link -----------------------------


def membership_data(membership: Membership) -> login_service.MembershipData:
    """What the login service keeps of a membership: its digital rights run through
    `rights_through`; `state` says why not when they do not, with the link to pay."""
    pay_url = ""
    if membership.status not in (MembershipStatus.DEREGISTERED,) and not membership.is_cancelled:
        period = membership_period_to_pay(membership)
        if period is not None:
            pay_url = period_pay_url(period)
    return login_service.MembershipData(
        library_code=membership.library.code,
        library_name=membership.library.name,
        customer_number=membership.customer.number,
        subscription_code=membership.subscription_type.code,
        digital_rights=membership.subscription_type.digital_rights,
        valid_through=membership.rights_through,
        state=membership_state(membership),
        pay_url=pay_url,
    )


def membership_state(membership: Membership) -> str:
    """The status as the login service keeps it, telling the member why the rights ended: a
    cancelled membership that ended is "opgezegd" (its status alone, "beeindigd", is also that
    of a Vast membership that was not renewed)."""
    if membership.is_cancelled and membership.status == MembershipStatus.ENDED:
        return "opgezegd"
    return str(membership.status)


def membership_period_to_pay(membership: Membership) -> MembershipPeriod | None:
    """The period a payment link of this membership pays: the oldest offered (Vast, not yet
    renewed) or booked period that the rights do not cover yet."""
    periods = MembershipPeriod.objects.filter(
        membership=membership, state__in=[PeriodState.OFFERED, PeriodState.BOOKED]
    )
    if membership.rights_through is not None:
        periods = periods.filter(end__gt=membership.rights_through)
    return periods.order_by("start", "id").first()


def period_pay_token(period: MembershipPeriod) -> str:
    return signing.dumps({"p": period.pk}, salt=PAY_LINK_SALT, compress=False)


def period_from_token(token: str) -> MembershipPeriod | None:
    """The period of a payment link, or None for a link that is wrong or too old."""
    try:
        data = signing.loads(token, salt=PAY_LINK_SALT, max_age=dt.timedelta(days=PAY_LINK_DAYS))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    return (
        MembershipPeriod.objects.select_related(
            "membership__customer", "library", "subscription_type", "membership__subscription_type"
        )
        .filter(pk=data["p"])
        .first()
    )


def period_pay_url(period: MembershipPeriod) -> str:
    """The page where the member renews and pays this period, without logging in."""
    path = reverse("payments:period_pay", args=[period_pay_token(period)])
    return f"{settings.BIEB_BASE_URL}{path}"
