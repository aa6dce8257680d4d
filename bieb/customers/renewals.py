"""The renewal run: once a day per library (`bieb renewals`, the periodic job). The changes of
one membership (Verlengen, Opzeggen, Wijzig abonnement) are in `bieb.customers.memberships`.

A subscription type is Doorlopend (renews by itself until cancelled) or Vast (runs its period,
then ends unless renewed). Within the library's lead time before the end of the current period
the run prices the next period by a new cost build-up on its first day (age, tariffs and
discounts of that day) and mails the member:
- Doorlopend: the period is booked (its fee is owed) and the mail says what renews, from when
  to when, the amount, how to pay (the link, or the desk) and how to cancel;
- Vast: the period is offered, nothing is booked; the mail says "je abonnement loopt af" with a
  link that renews and pays in one go.
Reminders follow when unpaid or not renewed; the statuses that only the calendar changes
(rights ended, betalingsachterstand, uitgeschreven, a cancellation's end) are refreshed.

Idempotency: one period per membership and start date (a unique key), looked for under the
memberships' row locks (skipped when another run holds them: that run books them), so running
a day twice, or two runs at once, books and mails each period once. Reminders count per period.
"""

import datetime as dt
import gc
import logging
import multiprocessing
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.template.loader import get_template
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.bulk import bulk_insert
from bieb.core.dates import local_today, moment_on
from bieb.customers.ledger import period_lines
from bieb.customers.memberships import (
    SUBJECTS,
    Pricing,
    _period_from,
    fee_description,
    mail_context,
    period_next_price,
)
from bieb.customers.models import (
    Customer,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
    RenewalRun,
)
from bieb.customers.year import ONE_DAY, customers_year_refresh, memberships_push
from bieb.debits.collect import DEBIT_OPEN, batches_process_due, debits_for_periods
from bieb.debits.models import Debit
from bieb.debits.services import mandates_lapse
from bieb.debits.stale import debits_settle_stale
from bieb.libraries.models import (
    Library,
    RenewalKind,
)
from bieb.mail.services import mail_queue_many

logger = logging.getLogger(__name__)

CHUNK = 1000


# --- the daily run ---------------------------------------------------------------------------


@dataclass
class RunCounts:
    booked: int = 0
    booked_amount: Decimal = Decimal("0.00")
    offered: int = 0
    offered_amount: Decimal = Decimal("0.00")
    not_renewed: int = 0
    mailed: int = 0
    reminders: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _lock_chunk(queryset: Any) -> Any:
    """Rows another run holds are skipped: that run books them."""
    if connection.vendor == "postgresql":
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def renewals_due_ids(*, library: Library, day: dt.date) -> list[int]:
    """Memberships whose next period is due to be priced on `day` (or was, and was missed)."""
    lead = dt.timedelta(days=library.renewal_lead_days)
    return list(
        Membership.objects.filter(
            library=library,
            valid_through__lte=day + lead,
            cancelled_at__isnull=True,
        )
        .exclude(status=MembershipStatus.DEREGISTERED)
        .exclude(periods__start__gt=F("valid_through"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


class _Mails:
    """The run's mails, rendered from their templates at a fraction of the cost of rendering
    each: a template is rendered once per shape (which of the member's values are empty, and
    `free`) with markers in place of the member's values, and the markers are then filled in
    per member. The first fill of each shape is checked against a real rendering; a template
    whose output the markers cannot reproduce (a filter on a member's value, say) is rendered
    for every member. The library's values are the same for the whole chunk."""

    MEMBER: tuple[str, ...] = ("name", "number", "subscription", "start", "end")
    MEMBER += ("valid_through", "old_end", "amount", "pay_url")
    MEMBER += ("debit_date", "debit_iban", "debit_mandate")
    MARK = re.compile("\x00([0-9]+)\x00")

    def __init__(self) -> None:
        self.templates: dict[str, Any] = {}
        self.stamps: dict[tuple[Any, ...], list[str] | None] = {}

    def render(self, kind: str, context: dict[str, Any]) -> str:
        template = self.templates.get(kind)
        if template is None:
            template = self.templates[kind] = get_template(f"customers/mail/{kind}.txt")
        values = [context.get(key, "") for key in self.MEMBER]
        if not all(isinstance(v, str) for v in values):
            return str(template.render(context))
        shape = (kind, context.get("free"), *(bool(v) for v in values))
        if shape not in self.stamps:
            marked = dict(context)
            for i, key in enumerate(self.MEMBER):
                if values[i]:
                    marked[key] = f"\x00{i}\x00"
                    if any(marked[key] in str(v) for v in context.values()):
                        break  # a marker in the text itself: no stamp
            else:
                made = self.MARK.split(template.render(marked))
                real = str(template.render(context))
                self.stamps[shape] = made if self._fill(made, values) == real else None
                return real
            self.stamps[shape] = None
        stamp = self.stamps[shape]
        if stamp is None:
            return str(template.render(context))
        return self._fill(stamp, values)

    @staticmethod
    def _fill(stamp: list[str], values: list[Any]) -> str:
        parts = stamp[:]
        for i in range(1, len(parts), 2):
            parts[i] = values[int(parts[i])]
        return "".join(parts)


def run_moment(day: dt.date) -> dt.datetime:
    """When a run of `day` did something: now, on that day. A run of another day (a catch-up,
    or a trial `--as-of` a day ahead) stamps its mails with its own day, so the reminders count
    from the day the run stood for, not from the clock."""
    return moment_on(day)


def _book_chunk(
    ids: list[int], *, pricing: Pricing, day: dt.date, run: RenewalRun, counts: RunCounts
) -> None:
    library = pricing.library
    rendered = _Mails()
    with transaction.atomic():
        memberships = list(
            _lock_chunk(
                Membership.objects.filter(pk__in=ids, cancelled_at__isnull=True).exclude(
                    status=MembershipStatus.DEREGISTERED
                )
            ).order_by("pk")
        )
        if not memberships:
            return
        done = set(
            MembershipPeriod.objects.filter(
                membership_id__in=[m.pk for m in memberships],
                start__gt=F("membership__valid_through"),
            ).values_list("membership_id", flat=True)
        )
        customers = {
            c.pk: c
            for c in Customer.objects.filter(
                pk__in=[m.customer_id for m in memberships if m.pk not in done]
            ).only(
                "pk",
                "number",
                "birth_date",
                "email",
                "salutation",
                "initials",
                "prefix",
                "surname",
                "first_name",
                "login_account_id",
            )
        }
        periods: list[MembershipPeriod] = []
        lapsed: list[MembershipPeriod] = []
        now = run_moment(day)
        for membership in memberships:
            if membership.pk in done:
                continue
            customer = customers[membership.customer_id]
            membership.customer = customer
            membership.library = library
            current_type = pricing.types[membership.subscription_type_id]
            membership.subscription_type = current_type
            automatic = current_type.renewal == RenewalKind.AUTOMATIC
            try:
                priced = period_next_price(
                    membership=membership,
                    customer=customer,
                    pricing=pricing,
                    start=membership.valid_through + ONE_DAY,
                )
            except ValidationError:
                # No type fits the member's age any more: recorded once, not renewed.
                lapsed.append(
                    MembershipPeriod(
                        library_id=library.pk,
                        membership=membership,
                        subscription_type=current_type,
                        tariff_id=membership.tariff_id,
                        start=membership.valid_through + ONE_DAY,
                        end=membership.valid_through + ONE_DAY,
                        fee=0,
                        state=PeriodState.LAPSED,
                        renewal_run=run,
                    )
                )
                continue
            state = PeriodState.BOOKED if automatic else PeriodState.OFFERED
            period = _period_from(membership, priced, state=state, run=run)
            if state == PeriodState.BOOKED:
                period.booked_at = now
            if customer.email:
                period.mailed_at = now
            periods.append(period)
        bulk_insert(MembershipPeriod, periods + lapsed)
        # Members with a mandate pay by direct debit; the mail is the pre-notification.
        debits = debits_for_periods(
            [p for p in periods if p.state == PeriodState.BOOKED], library=library, today=day
        )
        counts.not_renewed += len(lapsed)

        lines: list[LedgerLine] = []
        mails: list[dict[str, Any]] = []
        changed: dict[tuple[Any, ...], list[int]] = {}
        for period in periods:
            membership = period.membership
            customer = membership.customer
            automatic = period.state == PeriodState.BOOKED
            if automatic:
                lines += period_lines(period, description=fee_description(period))
                counts.booked += 1
                counts.booked_amount += period.amount
                key = (
                    period.end,
                    period.subscription_type_id,
                    period.tariff_id,
                    period.discount_id,
                )
                changed.setdefault(key, []).append(membership.pk)
            else:
                counts.offered += 1
                counts.offered_amount += period.amount
            if period.mailed_at is not None:
                kind = "renewal_automatic" if automatic else "renewal_fixed"
                context = mail_context(
                    customer, membership, period, library, debit=debits.get(period.pk)
                )
                mails.append(
                    {
                        "to": customer.email,
                        "subject": SUBJECTS[kind].format(
                            library=library.name, old_end=context["old_end"]
                        ),
                        "text": rendered.render(kind, context),
                        "kind": f"customers.{kind}",
                        "reference": str(period.pk),
                    }
                )
        bulk_insert(LedgerLine, lines)
        for (end, type_id, tariff_id, discount_id), member_ids in changed.items():
            Membership.objects.filter(pk__in=member_ids).update(
                valid_through=end,
                expiry_month=end.month,
                subscription_type_id=type_id,
                tariff_id=tariff_id,
                discount_id=discount_id,
                next_subscription_type=None,
            )
        counts.mailed += mail_queue_many(mails)
        if changed:
            booked = [p for p in periods if p.state == PeriodState.BOOKED]
            # The login service's copy gets the new period (its end, type and payment link)
            # whether or not the rights move; the refresh below tells it of rights that do.
            _login_copies_push(booked, pricing=pricing)
            # Whose rights change now: see _rights_may_change.
            refresh = _rights_may_change(booked, library=library)
            customers_year_refresh(customers=[customers[pk] for pk in sorted(refresh)], today=day)


def _login_copies_push(booked: list[MembershipPeriod], *, pricing: Pricing) -> None:
    """Tell the login service of the memberships whose period was just booked (the rows are
    updated already; the objects in hand get the same values first)."""
    renewed = []
    for period in booked:
        membership = period.membership
        if membership.customer.login_account_id is None:
            continue
        membership.valid_through = period.end
        membership.expiry_month = period.end.month
        membership.subscription_type = pricing.types[period.subscription_type_id]
        renewed.append(membership)
    if renewed:
        memberships_push(renewed)


def _rights_may_change(booked: list[MembershipPeriod], *, library: Library) -> set[int]:
    """The customers among those of the `booked` periods whose rights or status a refresh can
    change: a free period is paid at once, a customer with credit may have paid the new period
    already, the payment term may let the rights run into it, and with more than one
    membership the saldo is shared. For anyone else, one membership whose new period costs
    something and a saldo above zero after booking it, the new period is the unpaid one
    (an open saldo is owed for the newest periods first) and nothing moves."""
    customer_ids = {p.membership.customer_id for p in booked}
    if library.payment_term_days > library.grace_days:
        return customer_ids
    free = {p.membership.customer_id for p in booked if p.amount <= 0}
    credit = set(
        LedgerLine.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(s=Sum("amount"))
        .filter(s__lte=0)
        .values_list("customer_id", flat=True)
    )
    several = set(
        Membership.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("customer_id", flat=True)
    )
    return free | credit | several


def _reminders(*, library: Library, day: dt.date, counts: RunCounts) -> None:
    """A first and a second reminder for a period still unpaid (booked) or not renewed
    (offered), counted on the period so that each goes once."""
    for number, after, since_last in (
        (1, library.reminder_first_days, 0),
        (
            2,
            library.reminder_second_days,
            library.reminder_second_days - library.reminder_first_days,
        ),
    ):

        def end_of(days: int) -> dt.datetime:
            return timezone.make_aware(
                dt.datetime.combine(day - dt.timedelta(days=days), dt.time.max)
            )

        due = (
            MembershipPeriod.objects.filter(
                library=library,
                state__in=[PeriodState.BOOKED, PeriodState.OFFERED],
                reminders_sent=number - 1,
                mailed_at__lte=end_of(after),
                membership__cancelled_at__isnull=True,
            )
            .exclude(membership__status=MembershipStatus.DEREGISTERED)
            .filter(
                Q(membership__rights_through__isnull=True)
                | Q(membership__rights_through__lt=F("end"))
            )
            # A period the bank is to collect is not overdue: no reminder to pay it. Nor is
            # one of a customer whose open amount the library chose to collect (a debit
            # without a period), or the member might pay it twice.
            .exclude(debits__state__in=DEBIT_OPEN)
            .exclude(
                Exists(
                    Debit.objects.filter(
                        customer_id=OuterRef("membership__customer_id"),
                        period__isnull=True,
                        state__in=DEBIT_OPEN,
                    )
                )
            )
        )
        if since_last:
            # A run that missed days sends the first reminder, not both at once.
            due = due.filter(reminded_at__lte=end_of(since_last))
        due_ids = list(due.order_by("pk").values_list("pk", flat=True))
        rendered = _Mails()  # per reminder number: `reminder` is the same in all its mails
        for chunk in _chunks(due_ids):
            counts.reminders += _remind_chunk(
                chunk, number=number, library=library, day=day, rendered=rendered
            )


def _remind_chunk(
    ids: list[int], *, number: int, library: Library, day: dt.date, rendered: _Mails
) -> int:
    """Reminder `number` for the periods `ids` that have not had it yet: counted on the periods
    in one statement and mailed in one batch, under the periods' row locks. Returns the number
    of mails (a member without an e-mail address has the reminder counted, not mailed)."""
    with transaction.atomic():
        periods = list(
            _lock_chunk(MembershipPeriod.objects.filter(pk__in=ids, reminders_sent=number - 1))
            .select_related("membership__customer", "subscription_type", "membership")
            .order_by("pk")
        )
        if not periods:
            return 0
        MembershipPeriod.objects.filter(pk__in=[p.pk for p in periods]).update(
            reminders_sent=number, reminded_at=run_moment(day)
        )
        mails: list[dict[str, Any]] = []
        for period in periods:
            membership = period.membership
            membership.library = library
            customer = membership.customer
            if not customer.email:
                continue
            automatic = period.state == PeriodState.BOOKED
            kind = "reminder_automatic" if automatic else "reminder_fixed"
            context = mail_context(customer, membership, period, library)
            context["reminder"] = number
            mails.append(
                {
                    "to": customer.email,
                    "subject": SUBJECTS[kind].format(
                        library=library.name, old_end=context["old_end"]
                    ),
                    "text": rendered.render(kind, context),
                    "kind": f"customers.{kind}",
                    "reference": str(period.pk),
                }
            )
        return mail_queue_many(mails)


def _statuses(*, library: Library, day: dt.date, counts: RunCounts) -> None:
    """What only the calendar changes: rights that ran out, unpaid periods that became
    betalingsachterstand or uitgeschreven, cancellations that ended, offers not taken."""
    due = (
        Membership.objects.filter(library=library)
        .filter(
            Q(status=MembershipStatus.ACTIVE, rights_through__lt=day)
            | Q(status=MembershipStatus.ACTIVE, rights_through__isnull=True)
            | Q(status__in=[MembershipStatus.AWAITING_PAYMENT, MembershipStatus.ARREARS])
            | Q(cancelled_at__isnull=False, ends_on__lt=day)
        )
        .exclude(status=MembershipStatus.DEREGISTERED)
        .exclude(status=MembershipStatus.ENDED, cancelled_at__isnull=False)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    for chunk in _chunks(sorted(set(due))):
        # A chunk at a time under the customers' row locks (taken in id order, as every run
        # does), refreshed in bulk: the same rules as one by one, in a few queries.
        with transaction.atomic():
            customers = list(
                Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
            )
            for membership in customers_year_refresh(customers=customers, today=day):
                counts.statuses[membership.status] = counts.statuses.get(membership.status, 0) + 1


def renewals_run(*, library: Library, day: dt.date, started_by: str) -> RenewalRun:
    """The renewal job of one library for one day: book and offer the next periods, send the
    reminders, move the statuses. Safe to run again for the same day, and at the same time."""
    run = RenewalRun.objects.create(library=library, day=day, started_by=started_by[:150])
    counts = RunCounts()
    pricing = Pricing.load(library)
    # Direct debits whose collection date has come are booked first (their rights follow),
    # and mandates unused for 36 months lapse (bieb.debits), their planned debits vervallen.
    batches_process_due(library=library, today=day, actor_name=started_by[:150])
    mandates_lapse(today=day, library=library)
    # Planned debits whose collection date came without a file: planned again with a new
    # pre-notification, or vervallen (their periods then get the reminders below).
    debits_settle_stale(library=library, today=day, actor_name=started_by[:150])
    # The calendar's status moves first: a run that catches up after missed days must not
    # charge a new year to a member whom the same run deregisters.
    _statuses(library=library, day=day, counts=counts)
    for chunk in _chunks(renewals_due_ids(library=library, day=day)):
        _book_chunk(chunk, pricing=pricing, day=day, run=run, counts=counts)
    _reminders(library=library, day=day, counts=counts)
    run.booked = counts.booked
    run.booked_amount = counts.booked_amount
    run.offered = counts.offered
    run.offered_amount = counts.offered_amount
    run.not_renewed = counts.not_renewed
    run.mailed = counts.mailed
    run.reminders = counts.reminders
    run.awaiting = counts.statuses.get(MembershipStatus.AWAITING_PAYMENT, 0)
    run.arrears = counts.statuses.get(MembershipStatus.ARREARS, 0)
    run.deregistered = counts.statuses.get(MembershipStatus.DEREGISTERED, 0)
    run.ended = counts.statuses.get(MembershipStatus.ENDED, 0)
    run.finished_at = timezone.now()
    run.save()
    audit_record(
        actor=None,
        actor_name=started_by[:150],
        action="renewals.run",
        library=library,
        target=run,
        data={
            "day": day.isoformat(),
            "booked": run.booked,
            "offered": run.offered,
            "reminders": run.reminders,
            "not_renewed": run.not_renewed,
        },
    )
    logger.info(
        "renewals %s %s: booked %s, offered %s, mailed %s, reminders %s",
        library.code,
        day,
        run.booked,
        run.offered,
        run.mailed,
        run.reminders,
    )
    return run


def renewals_run_all(
    *,
    day: dt.date | None = None,
    library_code: str = "",
    started_by: str,
    skip_done: bool = False,
    workers: int = 1,
) -> list[RenewalRun]:
    """The run of `day` for every library (or one). With `skip_done` (the periodic job, which
    looks every hour so that a missed day is caught up soon) a library whose run of that day
    finished already is left alone. With `workers` above 1 (PostgreSQL only) the libraries are
    run in that many processes at once, the largest first: each library's run is the same
    transactions under the same row locks, so the outcome is that of one process."""
    day = day or local_today()
    libraries = Library.objects.order_by("code")
    if library_code:
        libraries = libraries.filter(code=library_code)
    if skip_done:
        done = RenewalRun.objects.filter(day=day, finished_at__isnull=False)
        libraries = libraries.exclude(pk__in=done.values("library_id"))
    chosen = list(libraries)
    if workers > 1 and len(chosen) > 1 and connection.vendor == "postgresql":
        return _run_in_processes(chosen, day=day, started_by=started_by, workers=workers)
    return [renewals_run(library=lib, day=day, started_by=started_by) for lib in chosen]


def _run_in_processes(
    libraries: list[Library], *, day: dt.date, started_by: str, workers: int
) -> list[RenewalRun]:
    """The libraries' runs in `workers` processes forked from this one. The connections are
    closed before the fork (a child opens its own), and the largest libraries go first, so
    that the processes end at about the same time."""
    sizes = dict(
        Membership.objects.filter(library__in=libraries)
        .values("library_id")
        .annotate(n=Count("id"))
        .values_list("library_id", "n")
    )
    order = sorted(libraries, key=lambda lib: -sizes.get(lib.pk, 0))
    connections.close_all()
    context = multiprocessing.get_context("fork")
    # What this process holds stays its own: frozen objects are never collected in a child,
    # so a child cannot finalize an inherited (unreachable but unclosed) database connection
    # and end the server session behind a socket it shares with this process.
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            run_ids = list(pool.map(_run_one, [(lib.pk, day, started_by) for lib in order]))
    finally:
        gc.unfreeze()
    return list(
        RenewalRun.objects.filter(pk__in=run_ids)
        .select_related("library")
        .order_by("library__code")
    )


def _run_one(job: tuple[int, dt.date, str]) -> int:
    library_id, day, started_by = job
    try:
        library = Library.objects.get(pk=library_id)
        return renewals_run(library=library, day=day, started_by=started_by).pk
    finally:
        connections.close_all()
