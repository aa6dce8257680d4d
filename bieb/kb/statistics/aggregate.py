"""The login service's daily figures (`DailyFigure`), from its security log (`AccountEvent`).

    kb_figures_day_compute(day=...)
    kb_sums_compute(start=..., end=...)
    kb_figures_range_compute(start=..., end=...)

The log keeps what the accounts table loses: a purged account's row is gone, its events stay.
`account.created` names the account's origin and, for an account a library's counter made, the
library and the customer number (since issue 16; an older event without them is read from the
account's row and its linked memberships while those exist, else counts as unknown, "").
Activation and purge are matched to the making by the account's id.

A day computed twice gives the same rows (its rows are deleted and inserted in one
transaction). The same transaction sums the day over the libraries (`NationalFigure`) and its
month anew (`MonthlyFigure`), so these sums always equal the daily rows. The figures of the
accounts made on a day keep changing until their links ran out and the purge came by, so the
periodic job computes the last `RECENT_DAYS` days again.
"""

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour
from django.utils import timezone

from bieb.kb.models import AccountEvent, LinkedMembership, LoginAccount
from bieb.kb.services import activation_lifetime
from bieb.kb.statistics.models import (
    ACTIVATION_BUCKETS,
    DailyFigure,
    KBMetric,
    MonthlyFigure,
    NationalFigure,
)

ONE_DAY = dt.timedelta(days=1)
RECENT_DAYS = 7
CHUNK = 2000


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    def start(d: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(d, dt.time()))

    return start(day), start(day + ONE_DAY)


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _events(event: str, begin: dt.datetime, end: dt.datetime) -> list[tuple[Any, dt.datetime]]:
    return list(
        AccountEvent.objects.filter(
            event=event, at__gte=begin, at__lt=end, account_id__isnull=False
        )
        .order_by()
        .values_list("account_id", "at")
    )


class Origins:
    """Origin, library and time of making of accounts, by id, from their `account.created`."""

    def __init__(self, ids: Iterable[uuid.UUID]):
        self.made: dict[uuid.UUID, tuple[str, str, dt.datetime | None]] = {}
        wanted = sorted(set(ids))
        for part in _chunks(wanted):
            for pk, at, data in (
                AccountEvent.objects.filter(event="account.created", account_id__in=part)
                .order_by("at")
                .values_list("account_id", "at", "data")
            ):
                data = data or {}
                if pk is not None:
                    self.made[pk] = (
                        str(data.get("origin", "")),
                        str(data.get("library", "")),
                        at,
                    )
        unknown = [pk for pk in wanted if pk not in self.made or not self.made[pk][0]]
        for part in _chunks(unknown):
            origins = dict(LoginAccount.objects.filter(pk__in=part).values_list("pk", "origin"))
            libraries = dict(
                LinkedMembership.objects.filter(account_id__in=part)
                .order_by("linked_at")
                .values_list("account_id", "library_code")
            )
            for pk in part:
                _, library, made_at = self.made.get(pk, ("", "", None))
                self.made[pk] = (origins.get(pk, ""), library or libraries.get(pk, ""), made_at)

    def of(self, pk: uuid.UUID) -> tuple[str, str, dt.datetime | None]:
        return self.made.get(pk, ("", "", None))


def _bucket(hours: float) -> str:
    for upper, label in ACTIVATION_BUCKETS:
        if upper is None or hours < upper:
            return label
    return ACTIVATION_BUCKETS[-1][1]  # pragma: no cover


def _day_figures(day: dt.date) -> Iterator[DailyFigure]:
    begin, end = _day_range(day)
    counts: Counter[tuple[str, str, str, str]] = Counter()

    made = _events("account.created", begin, end)
    made_ids = [pk for pk, _ in made]
    origins = Origins(made_ids)
    lifetime = activation_lifetime()
    outcome: dict[uuid.UUID, dict[str, dt.datetime]] = {}
    for part in _chunks(made_ids):
        for pk, event, at in (
            AccountEvent.objects.filter(
                account_id__in=part, event__in=["account.activated", "account.purged"]
            )
            .order_by("at")
            .values_list("account_id", "event", "at")
        ):
            if pk is not None:
                outcome.setdefault(pk, {}).setdefault(event, at)
    for pk, at in made:
        origin, library, _ = origins.of(pk)
        counts[(KBMetric.CREATED, library, origin, "")] += 1
        seen = outcome.get(pk, {})
        activated = seen.get("account.activated")
        if activated is not None and activated - at <= lifetime:
            counts[(KBMetric.MADE_ACTIVATED, library, origin, "")] += 1
        if "account.purged" in seen:
            counts[(KBMetric.MADE_EXPIRED, library, origin, "")] += 1

    activated_today = _events("account.activated", begin, end)
    origins = Origins(pk for pk, _ in activated_today)
    for pk, at in activated_today:
        origin, _, made_at = origins.of(pk)
        bucket = _bucket((at - made_at).total_seconds() / 3600) if made_at else ""
        counts[(KBMetric.ACTIVATED, "", origin, bucket)] += 1

    purged = _events("account.purged", begin, end)
    origins = Origins(pk for pk, _ in purged)
    for pk, _ in purged:
        origin, library, _ = origins.of(pk)
        counts[(KBMetric.PURGED, library, origin, "")] += 1

    for row in (
        AccountEvent.objects.filter(event="login.succeeded", at__gte=begin, at__lt=end)
        .annotate(hour=ExtractHour("at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("hour")
        .annotate(n=Count("id"))
    ):
        counts[(KBMetric.LOGINS, "", "", f"{row['hour']:02d}")] += row["n"]

    for (metric, library, origin, bucket), n in counts.items():
        yield DailyFigure(
            day=day, metric=metric, library_code=library, origin=origin, bucket=bucket, count=n
        )


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - ONE_DAY


def _national_sum(first: dt.date, last: dt.date) -> None:
    """The days from `first` through `last` summed over the libraries anew."""
    NationalFigure.objects.filter(day__gte=first, day__lte=last).delete()
    NationalFigure.objects.bulk_create(
        (
            NationalFigure(day=day, metric=metric, origin=origin, bucket=bucket, count=n)
            for day, metric, origin, bucket, n in DailyFigure.objects.filter(
                day__gte=first, day__lte=last
            )
            .order_by()
            .values("day", "metric", "origin", "bucket")
            .annotate(n=Sum("count"))
            .values_list("day", "metric", "origin", "bucket", "n")
        ),
        batch_size=1000,
    )


def _month_sum(day: dt.date) -> int:
    """`day`'s month summed anew from its daily figures; how many rows."""
    first, last = month_of(day)
    MonthlyFigure.objects.filter(month=first).delete()
    made = MonthlyFigure.objects.bulk_create(
        (
            MonthlyFigure(
                month=first,
                metric=metric,
                library_code=library,
                origin=origin,
                bucket=bucket,
                count=n,
            )
            for metric, library, origin, bucket, n in DailyFigure.objects.filter(
                day__gte=first, day__lte=last
            )
            .order_by()
            .values("metric", "library_code", "origin", "bucket")
            .annotate(n=Sum("count"))
            .values_list("metric", "library_code", "origin", "bucket", "n")
        ),
        batch_size=1000,
    )
    return len(made)


def kb_sums_compute(*, start: dt.date, end: dt.date) -> int:
    """The national and the monthly sums of the months from `start`'s through `end`'s anew
    from their daily figures, a month per transaction (for daily figures written some other
    way than `kb_figures_day_compute`); how many monthly rows."""
    rows = 0
    first = month_of(start)[0]
    while first <= end:
        last = month_of(first)[1]
        with transaction.atomic():
            _national_sum(first, last)
            rows += _month_sum(first)
        first = last + ONE_DAY
    return rows


def kb_figures_day_compute(*, day: dt.date) -> int:
    """Compute the login service's figures of `day` anew; how many rows."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                rows = list(_day_figures(day))
                DailyFigure.objects.filter(day=day).delete()
                DailyFigure.objects.bulk_create(rows, batch_size=1000)
                _national_sum(day, day)
                _month_sum(day)
                return len(rows)
        except IntegrityError:
            # Computed by another process at the same moment; once more, to end with ours.
            if attempt == 2:
                raise
    return 0  # pragma: no cover


def kb_figures_range_compute(*, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    done: dict[dt.date, int] = {}
    day = start
    while day <= end:
        done[day] = kb_figures_day_compute(day=day)
        day += ONE_DAY
    return done
