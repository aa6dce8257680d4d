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
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db.models import F, Q, Sum
from django.urls import get_script_prefix, get_urlconf, reverse

from bieb.audit.models import AuditEvent
from bieb.audit.services import audit_event, audit_record_many
from bieb.core.dates import add_months_to_day
from bieb.core.money import ZERO, to_cents
from bieb.customers.models import (
    Customer,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.kb import interface as login_service
from bieb.kboutbox.models import KBCallKind
from bieb.kboutbox.services import kb_call_queue
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
    return Standing(rights_through=through, status=status)


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
    """The customer's saldo: the sum of the ledger, to the cent (SQLite sums decimals as
    floating point: 64.50 - 16.13 - 48.37 comes back as 7.1e-15, which is not "paid")."""
    total = LedgerLine.objects.filter(customer_id=customer_id).aggregate(s=Sum("amount"))["s"]
    return to_cents(total) if total is not None else ZERO


def customers_saldo_of(customer_ids: list[int]) -> dict[int, Decimal]:
    """The saldo of each of these customers (one grouped query; a customer without ledger
    lines is left out), to the cent as customer_saldo_of."""
    rows = (
        LedgerLine.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(saldo=Sum("amount"))
        .order_by()
        .values_list("customer_id", "saldo")
    )
    return {customer_id: to_cents(saldo) for customer_id, saldo in rows if saldo is not None}


def customer_year_refresh(
    *, customer: Customer, today: dt.date, actor: User | None = None, actor_name: str = ""
) -> list[Membership]:
    """Recompute the rights and status of each of the customer's memberships and store what
    changed: an audit row per status change, the login service told of new rights. Call it in
    the transaction of the change (the caller holds the customer's row lock). Returns the
    memberships that changed."""
    return customers_year_refresh(
        customers=[customer], today=today, actor=actor, actor_name=actor_name
    )


def customers_year_refresh(
    *,
    customers: list[Customer],
    today: dt.date,
    actor: User | None = None,
    actor_name: str = "",
) -> list[Membership]:
    """`customer_year_refresh` for many customers at once (the renewal run): the same rules,
    in a fixed number of queries plus one UPDATE per distinct outcome, an audit row per status
    change and a push per changed membership with a login account. The caller holds the
    customers' row locks."""
    if not customers:
        return []
    by_pk = {c.pk: c for c in customers}
    memberships = list(
        Membership.objects.filter(customer_id__in=by_pk)
        .select_related("subscription_type")
        .order_by("customer_id", "pk")
    )
    if not memberships:
        return []
    libraries = Library.objects.in_bulk({m.library_id for m in memberships})
    for membership in memberships:
        membership.library = libraries[membership.library_id]
    periods_of: dict[int, list[MembershipPeriod]] = {}
    for period in MembershipPeriod.objects.filter(
        membership__customer_id__in=by_pk, state=PeriodState.BOOKED
    ).annotate(customer_id=F("membership__customer_id")):
        periods_of.setdefault(period.customer_id, []).append(period)
    saldos = dict(
        LedgerLine.objects.filter(customer_id__in=by_pk)
        .values("customer_id")
        .annotate(s=Sum("amount"))
        .values_list("customer_id", "s")
    )
    return _year_apply(
        by_pk=by_pk,
        memberships=memberships,
        periods_of=periods_of,
        saldos=saldos,
        today=today,
        actor=actor,
        actor_name=actor_name,
    )


def new_customer_year_refresh(
    *,
    customer: Customer,
    membership: Membership,
    period: MembershipPeriod,
    lines: list[LedgerLine],
    today: dt.date,
    actor: User | None,
) -> list[Membership]:
    """`customer_year_refresh` for a customer registered in this transaction, from what the
    registration just wrote (its one membership, its booked first period and that period's
    ledger lines) instead of reading it back: the same rules, without five reads. Sets the
    membership's status and rights in place."""
    if period.state != PeriodState.BOOKED:
        raise ValueError("the first period is booked before the year's refresh")
    membership.library = customer.library
    return _year_apply(
        by_pk={customer.pk: customer},
        memberships=[membership],
        periods_of={customer.pk: [period]},
        saldos={customer.pk: sum((line.amount for line in lines), ZERO)} if lines else {},
        today=today,
        actor=actor,
        actor_name="",
    )


def _year_apply(
    *,
    by_pk: dict[int, Customer],
    memberships: list[Membership],
    periods_of: dict[int, list[MembershipPeriod]],
    saldos: dict[int, Decimal | None],
    today: dt.date,
    actor: User | None,
    actor_name: str,
) -> list[Membership]:
    unpaid: dict[int, set[int]] = {}
    changed: list[Membership] = []
    updates: dict[tuple[dt.date | None, str, dt.date | None], list[int]] = {}
    events: list[AuditEvent] = []
    for membership in memberships:
        customer_id = membership.customer_id
        periods = periods_of.get(customer_id, [])
        if customer_id not in unpaid:
            saldo = saldos.get(customer_id)
            unpaid[customer_id] = periods_unpaid(periods, to_cents(saldo) if saldo else ZERO)
        standing = membership_standing(
            membership,
            [p for p in periods if p.membership_id == membership.pk],
            unpaid[customer_id],
            library=membership.library,
            today=today,
        )
        if (
            standing.rights_through == membership.rights_through
            and standing.status == membership.status
        ):
            continue
        if standing.status != membership.status:
            events.append(
                audit_event(
                    actor=actor,
                    actor_name=actor_name or ("" if actor else "verlengrun"),
                    action="membership.status_changed",
                    library=membership.library,
                    target=membership,
                    data={
                        "from": membership.status,
                        "to": standing.status,
                        "on": today.isoformat(),
                    },
                )
            )
            membership.status = standing.status
            membership.status_changed_on = today
        membership.rights_through = standing.rights_through
        key = (membership.rights_through, membership.status, membership.status_changed_on)
        updates.setdefault(key, []).append(membership.pk)
        changed.append(membership)
    audit_record_many(events)
    for (rights_through, status, status_changed_on), ids in updates.items():
        Membership.objects.filter(pk__in=ids).update(
            rights_through=rights_through, status=status, status_changed_on=status_changed_on
        )
    pushed = []
    for membership in changed:
        customer = by_pk[membership.customer_id]
        if customer.login_account_id is not None:
            membership.customer = customer
            pushed.append(membership)
    if pushed:
        memberships_push(pushed)
    return changed


def memberships_push(memberships: list[Membership]) -> None:
    """Tell the login service of these memberships (its copies of them), after the commit,
    through the library's outbox: one call per library, in the order of that library's calls.
    The data is read when the call is made (bieb.customers.kb_calls)."""
    by_library: dict[int, list[int]] = {}
    for membership in memberships:
        by_library.setdefault(membership.library_id, []).append(membership.pk)
    for library_id, ids in by_library.items():
        kb_call_queue(
            kind=KBCallKind.MEMBERSHIPS_UPDATE,
            library_id=library_id,
            ordering_key=f"memberships:{library_id}",
            payload={"membership_ids": sorted(set(ids))},
        )


# --- what the login service keeps, and the member's payment link -----------------------------


def membership_data(membership: Membership) -> login_service.MembershipData:
    """What the login service keeps of a membership: its digital rights run through
    `rights_through`; `state` says why not when they do not, with the link to pay."""
    return memberships_data([membership])[0]


def memberships_data(memberships: list[Membership]) -> list[login_service.MembershipData]:
    """`membership_data` of many memberships, their payment links found in one query."""
    to_pay = periods_to_pay_of(
        [
            m
            for m in memberships
            if m.status not in (MembershipStatus.DEREGISTERED,) and not m.is_cancelled
        ]
    )
    data = []
    for membership in memberships:
        period = to_pay.get(membership.pk)
        data.append(
            login_service.MembershipData(
                library_code=membership.library.code,
                library_name=membership.library.name,
                customer_number=membership.customer.number,
                subscription_code=membership.subscription_type.code,
                digital_rights=membership.subscription_type.digital_rights,
                valid_through=membership.rights_through,
                state=membership_state(membership),
                pay_url=period_pay_url(period) if period is not None else "",
                starts_on=membership.start_date,
                period_through=membership.valid_through,
                physical_loans=membership.subscription_type.physical_loans,
            )
        )
    return data


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
    return periods_to_pay_of([membership]).get(membership.pk)


def periods_to_pay_of(memberships: list[Membership]) -> dict[int, MembershipPeriod]:
    """`membership_period_to_pay` of many memberships, in one query."""
    if not memberships:
        return {}
    rights = {m.pk: m.rights_through for m in memberships}
    found: dict[int, MembershipPeriod] = {}
    # Only the periods the rights do not cover (for most, none: no rows to read at all).
    for period in (
        MembershipPeriod.objects.filter(
            membership_id__in=rights, state__in=[PeriodState.OFFERED, PeriodState.BOOKED]
        )
        .filter(
            Q(membership__rights_through__isnull=True) | Q(end__gt=F("membership__rights_through"))
        )
        .order_by("membership_id", "start", "id")
    ):
        through = rights[period.membership_id]
        if period.membership_id not in found and (through is None or period.end > through):
            found[period.membership_id] = period
    return found


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
    head, tail = _pay_path(get_urlconf(), get_script_prefix())
    return f"{settings.BIEB_BASE_URL}{head}{period_pay_token(period)}{tail}"


@functools.lru_cache(maxsize=8)
def _pay_path(urlconf: str | None, script_prefix: str) -> tuple[str, str]:
    """The payment page's path before and after its token, reversed once: `reverse` costs
    more than signing the token, and the renewal run makes a link for every member."""
    head, _, tail = reverse("payments:period_pay", args=["TOKEN"]).rpartition("TOKEN")
    return head, tail
