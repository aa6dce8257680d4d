"""The daily figures (`DailyFigure`), computed from what the customer administration records.

    figures_day_compute(day=...)            # every library, one day, in one transaction
    figures_range_compute(start=..., end=...)

What each metric reads (and so what it means):
- new: memberships whose `start_date` is the day (a membership is made only by a registration,
  so this is the registrations of the day). Channel: a customer registered by a staff member
  (`Customer.created_by`) came through the counter, one without through the online sign-up.
  Age band: the customer's age on the day.
- active: memberships with rights on the day: `start_date <= day <= rights_through`
  (`rights_through` is derived from the paid periods, and for a membership that was
  uitgeschreven or ended it stops the day before). A past day is read from today's rights: a
  period paid late counts from its start.
- cancelled: `Membership.cancelled_at` on the day ("Opzeggen", at the counter or at Mijn
  bibliotheek), with the reason.
- deregistered: status uitgeschreven since the day (unpaid for the library's arrears limit, the
  churn that is not a choice); not_renewed: a Vast membership ended that day without renewal.
- renewal_paid: payment lines booked on the day (not reversed by a storno) of a customer who had a
  renewed period (one after the membership's first) booked by then, by way of payment.
- ledger: every ledger line booked on the day, by kind and way of payment (the revenue).
- account_forgotten, account_remade: the counter's "Vergeet inlogaccount" and "Nieuw
  inlogaccount genereren" on a customer's page that day (their audit rows).

Recomputing a day deletes that day's rows and inserts them again, in one transaction: a day
computed twice gives the same rows, and a reader never sees half a day.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, QuerySet, Sum, Value, When

from bieb.audit.models import AuditEvent
from bieb.core.dates import start_of_day
from bieb.core.money import ZERO, to_cents
from bieb.customers.models import (
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.statistics.models import AGE_BANDS, Channel, DailyFigure, Metric

logger = logging.getLogger(__name__)

ONE_DAY = dt.timedelta(days=1)
DIMENSIONS = ("channel", "subscription", "age_band", "method", "kind")


def years_before(day: dt.date, years: int) -> dt.date:
    """The day `years` years before `day` (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band_of(birth_date_field: str, day: dt.date) -> Case:
    """The age band (AGE_BANDS) of a birth date on `day`, in SQL: someone is `a` or older on
    `day` when born on or before the day `a` years earlier (as `bieb.core.dates.age_on`)."""
    bands = sorted(AGE_BANDS, reverse=True)  # oldest first
    whens = [
        When(**{f"{birth_date_field}__lte": years_before(day, low)}, then=Value(label))
        for low, label in bands[:-1]
    ]
    return Case(*whens, default=Value(bands[-1][1]), output_field=CharField())


def _figures(
    metric: str, day: dt.date, queryset: QuerySet[Any], dims: dict[str, Any], amount: Any = None
) -> Iterator[DailyFigure]:
    """One figure per library and combination of `dims` (dimension name -> SQL expression)."""
    aliases = {f"d_{name}": expression for name, expression in dims.items()}
    totals: dict[str, Any] = {"n": Count("id")}
    if amount is not None:
        totals["total"] = Sum(amount)
    grouped = queryset.order_by().values("library_id", **aliases).annotate(**totals)
    for row in grouped:
        values = {name: row.get(f"d_{name}") or "" for name in DIMENSIONS}
        total = row.get("total")
        yield DailyFigure(
            library_id=row["library_id"],
            day=day,
            metric=metric,
            count=row["n"],
            amount=to_cents(total) if total is not None else ZERO,
            **values,
        )


def _day_figures(day: dt.date, library_ids: list[int] | None) -> Iterator[DailyFigure]:
    begin, end = start_of_day(day), start_of_day(day + ONE_DAY)
    memberships = Membership.objects.all()
    lines = LedgerLine.objects.all()
    if library_ids is not None:
        memberships = memberships.filter(library_id__in=library_ids)
        lines = lines.filter(library_id__in=library_ids)
    subscription = F("subscription_type__code")

    channel = Case(
        When(customer__created_by__isnull=True, then=Value(Channel.ONLINE.value)),
        default=Value(Channel.COUNTER.value),
        output_field=CharField(),
    )
    yield from _figures(
        Metric.NEW,
        day,
        memberships.filter(start_date=day),
        {
            "channel": channel,
            "subscription": subscription,
            "age_band": age_band_of("customer__birth_date", day),
        },
    )
    yield from _figures(
        Metric.ACTIVE,
        day,
        memberships.filter(start_date__lte=day, rights_through__gte=day),
        {"subscription": subscription, "age_band": age_band_of("customer__birth_date", day)},
    )
    yield from _figures(
        Metric.CANCELLED,
        day,
        memberships.filter(cancelled_at__gte=begin, cancelled_at__lt=end),
        {"subscription": subscription, "kind": F("cancel_reason")},
    )
    yield from _figures(
        Metric.DEREGISTERED,
        day,
        memberships.filter(status=MembershipStatus.DEREGISTERED, status_changed_on=day),
        {"subscription": subscription},
    )
    yield from _figures(
        Metric.NOT_RENEWED,
        day,
        memberships.filter(
            status=MembershipStatus.ENDED, cancelled_at__isnull=True, status_changed_on=day
        ),
        {"subscription": subscription},
    )
    of_day = lines.filter(booked_at__gte=begin, booked_at__lt=end)
    renewed = MembershipPeriod.objects.filter(
        membership__customer_id=OuterRef("customer_id"),
        start__gt=F("membership__start_date"),
        state=PeriodState.BOOKED,
        booked_at__lte=OuterRef("booked_at"),
    )
    yield from _figures(
        Metric.RENEWAL_PAID,
        day,
        of_day.filter(kind=LedgerKind.PAYMENT, reversed_by__isnull=True).filter(Exists(renewed)),
        {"method": F("method")},
        amount=-F("amount"),
    )
    yield from _figures(
        Metric.LEDGER,
        day,
        of_day,
        {"kind": F("kind"), "method": F("method")},
        amount=F("amount"),
    )
    yield from _audit_figures(day, begin, end, library_ids)


def _audit_figures(
    day: dt.date, begin: dt.datetime, end: dt.datetime, library_ids: list[int] | None
) -> Iterator[DailyFigure]:
    for metric, action in (
        (Metric.ACCOUNT_FORGOTTEN, "customer.login_account_forgotten"),
        (Metric.ACCOUNT_REMADE, "customer.login_account_generated"),
    ):
        rows = AuditEvent.objects.filter(
            action=action, at__gte=begin, at__lt=end, library_id__isnull=False
        )
        if library_ids is not None:
            rows = rows.filter(library_id__in=library_ids)
        yield from _figures(metric, day, rows, {})


def figures_day_compute(*, day: dt.date, library_ids: Iterable[int] | None = None) -> int:
    """Compute the figures of `day` (for these libraries, else all) anew; how many rows."""
    ids = sorted(set(library_ids)) if library_ids is not None else None
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                rows = list(_day_figures(day, ids))
                old = DailyFigure.objects.filter(day=day)
                if ids is not None:
                    old = old.filter(library_id__in=ids)
                old.delete()
                DailyFigure.objects.bulk_create(rows, batch_size=1000)
                return len(rows)
        except IntegrityError:
            # Another process computed the same day at the same moment; its rows are as good
            # as ours. Once more, to end with rows of this moment.
            if attempt == 2:
                raise
            logger.info("statistics for %s computed elsewhere at once; again", day)
    return 0  # pragma: no cover


def figures_range_compute(
    *, start: dt.date, end: dt.date, library_ids: Iterable[int] | None = None
) -> dict[dt.date, int]:
    """`figures_day_compute` for each day from `start` through `end` (a backfill)."""
    done: dict[dt.date, int] = {}
    day = start
    while day <= end:
        done[day] = figures_day_compute(day=day, library_ids=library_ids)
        day += ONE_DAY
    return done
