"""The login service's statistics page, read from its daily figures only: the national funnel
(accounts made, activated, purged; the time to activate), logins per hour, and per library the
share of counter-made accounts that expire unused. For a period and the same period a year
before."""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Max, Sum

from bieb.core.charts import Series, number_nl
from bieb.core.figures import Period, Section, Table, section, share
from bieb.kb.models import LibraryContact
from bieb.kb.statistics.aggregate import ONE_DAY, month_of
from bieb.kb.statistics.models import (
    ACTIVATION_BUCKETS,
    DailyFigure,
    KBMetric,
    MonthlyFigure,
    NationalFigure,
)
from bieb.kb.types import AccountFigures

BEFORE = "Een jaar eerder"
CHARTED_LIBRARIES = 15
BUCKET_LABELS = {
    "0-1": "binnen 1 uur",
    "1-6": "1 tot 6 uur",
    "6-24": "6 tot 24 uur",
    "24+": "na 24 uur",
}


def _months_within(
    start: dt.date, end: dt.date
) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The months wholly within `start` through `end` (their first days), and the days at
    either side of them (as ranges; the whole span when no month fits)."""
    months: list[dt.date] = []
    first = start if start.day == 1 else month_of(start)[1] + ONE_DAY
    while month_of(first)[1] <= end:
        months.append(first)
        first = month_of(first)[1] + ONE_DAY
    if not months:
        return [], [(start, end)]
    edges = []
    if start < months[0]:
        edges.append((start, months[0] - ONE_DAY))
    if month_of(months[-1])[1] < end:
        edges.append((month_of(months[-1])[1] + ONE_DAY, end))
    return months, edges


def _figures(
    start: dt.date, end: dt.date, fields: Sequence[str], **filters: Any
) -> list[dict[str, Any]]:
    """The figures from `start` through `end` that match `filters`, summed per `fields`: the
    months wholly inside from their monthly sums, the days at either side from the daily
    figures."""
    months, edges = _months_within(start, end)
    totals: Counter[tuple[Any, ...]] = Counter()
    if months:
        monthly = MonthlyFigure.objects.filter(
            month__gte=months[0], month__lte=months[-1], **filters
        ).order_by()
        for row in monthly.values(*fields).annotate(n=Sum("count")).values_list(*fields, "n"):
            totals[row[:-1]] += row[-1]
    for first, last in edges:
        daily = DailyFigure.objects.filter(day__gte=first, day__lte=last, **filters).order_by()
        for row in daily.values(*fields).annotate(n=Sum("count")).values_list(*fields, "n"):
            totals[row[:-1]] += row[-1]
    return [{**dict(zip(fields, key, strict=True)), "n": n} for key, n in totals.items()]


def library_account_figures(*, library_code: str, start: Any, end: Any) -> AccountFigures:
    """The accounts a library's counter made from `start` through `end` (the interface's
    `account_figures`)."""
    totals = {
        row["metric"]: row["n"]
        for row in _figures(
            start,
            end,
            ["metric"],
            metric__in=[KBMetric.CREATED, KBMetric.MADE_ACTIVATED, KBMetric.MADE_EXPIRED],
            library_code=library_code,
            origin="balie",
        )
    }
    return AccountFigures(
        made=totals.get(KBMetric.CREATED, 0),
        activated_in_time=totals.get(KBMetric.MADE_ACTIVATED, 0),
        expired=totals.get(KBMetric.MADE_EXPIRED, 0),
    )


def _rows(metric: str, period: Period, *fields: str) -> list[dict[str, Any]]:
    """`metric` in `period`, summed per `fields`: per day (`day` among them) from the day's
    national sums, else from the months wholly inside the period and the days around them."""
    if "day" in fields:
        return list(
            NationalFigure.objects.filter(metric=metric, day__gte=period.start, day__lte=period.end)
            .order_by()
            .values(*fields)
            .annotate(n=Sum("count"))
        )
    return _figures(period.start, period.end, fields, metric=metric)


def kb_figures_through() -> Any:
    """The last day with figures: per metric, so that each is one step down its index."""
    days = [
        DailyFigure.objects.filter(metric=metric).aggregate(d=Max("day"))["d"]
        for metric in KBMetric.values
    ]
    return max((day for day in days if day is not None), default=None)


def kb_report(*, period: Period) -> list[Section]:
    before = period.before
    return [
        _funnel(period, before),
        _time_to_activate(period, before),
        _logins(period, before),
        _libraries(period, before),
    ]


def _per_bucket(
    period: Period, rows: Iterable[dict[str, Any]], key: str | None
) -> dict[str, list[int]]:
    index = period.bucket_index()
    size = len(period.buckets())
    out: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    for row in rows:
        out[row[key] if key else ""][index[row["day"]]] += row["n"]
    return out


def _funnel(period: Period, before: Period) -> Section:
    buckets = period.buckets()
    made = _per_bucket(period, _rows(KBMetric.CREATED, period, "day", "origin"), "origin")
    counter, online = made["balie"], made["online"]
    unknown = made[""]
    activated = _per_bucket(period, _rows(KBMetric.ACTIVATED, period, "day"), None)[""]
    purged = _per_bucket(period, _rows(KBMetric.PURGED, period, "day"), None)[""]
    earlier = _per_bucket(before, _rows(KBMetric.CREATED, before, "day"), None)[""]
    earlier = (earlier + [0] * len(buckets))[: len(buckets)]
    grain = "Week" if period.grain == "week" else "Maand"
    table = Table(
        key="aanmeldingen",
        caption="Inlogaccounts aangemaakt, geactiveerd en opgeruimd",
        header=[
            grain,
            "Aangemaakt aan de balie",
            "Aangemaakt online",
            "Geactiveerd",
            "Opgeruimd (nooit geactiveerd)",
            f"{BEFORE}: aangemaakt",
        ],
    )
    for i, bucket in enumerate(buckets):
        table.rows.append(
            [bucket.label, counter[i], online[i] + unknown[i], activated[i], purged[i], earlier[i]]
        )
    totals = [sum(counter), sum(online) + sum(unknown), sum(activated), sum(purged), sum(earlier)]
    table.rows.append(["Totaal", *totals])
    summary = (
        f"{number_nl(totals[0] + totals[1])} inlogaccounts aangemaakt van {period.label} "
        f"({number_nl(totals[0])} aan de balie, {number_nl(totals[1])} online), "
        f"{number_nl(totals[2])} geactiveerd en {number_nl(totals[3])} nooit geactiveerd en "
        f"opgeruimd; {number_nl(totals[4])} aangemaakt een jaar eerder."
    )
    return section(
        "aanmeldingen",
        "Aanmeldingen, activeringen en opruimen",
        summary,
        title="Inlogaccounts per " + grain.lower(),
        categories=[b.label for b in buckets],
        series=[
            Series("Aangemaakt aan de balie", counter),
            Series("Aangemaakt online", [a + b for a, b in zip(online, unknown, strict=True)]),
            Series("Geactiveerd", activated),
            Series("Opgeruimd", purged),
        ],
        tables=[table],
    )


def _time_to_activate(period: Period, before: Period) -> Section:
    now = {r["bucket"]: r["n"] for r in _rows(KBMetric.ACTIVATED, period, "bucket")}
    then = {r["bucket"]: r["n"] for r in _rows(KBMetric.ACTIVATED, before, "bucket")}
    labels = [label for _, label in ACTIVATION_BUCKETS]
    total, total_before = sum(now.values()), sum(then.values())
    table = Table(
        key="activeren",
        caption="Tijd van aanmaken tot activeren",
        header=["Geactiveerd", "Aantal", "Aandeel", BEFORE, f"{BEFORE}: aandeel"],
    )
    for label in labels:
        table.rows.append(
            [
                BUCKET_LABELS[label],
                now.get(label, 0),
                share(now.get(label, 0), total),
                then.get(label, 0),
                share(then.get(label, 0), total_before),
            ]
        )
    table.rows.append(
        ["Totaal", total, share(total, total), total_before, share(total_before, total_before)]
    )
    summary = (
        f"{number_nl(total)} activeringen van {period.label}; "
        f"{share(now.get('0-1', 0), total)} binnen een uur na het aanmaken, "
        f"{share(now.get('24+', 0), total)} pas na 24 uur (na een nieuwe link)."
    )
    return section(
        "activeren",
        "Tijd tot activeren",
        summary,
        title="Activeringen naar tijd sinds het aanmaken",
        categories=[BUCKET_LABELS[label] for label in labels],
        series=[
            Series("Deze periode", [now.get(label, 0) for label in labels]),
            Series(BEFORE, [then.get(label, 0) for label in labels]),
        ],
        tables=[table],
    )


def _logins(period: Period, before: Period) -> Section:
    now = {r["bucket"]: r["n"] for r in _rows(KBMetric.LOGINS, period, "bucket")}
    then = {r["bucket"]: r["n"] for r in _rows(KBMetric.LOGINS, before, "bucket")}
    days = (period.end - period.start).days + 1
    hours = [f"{h:02d}" for h in range(24)]
    table = Table(
        key="inloggen",
        caption="Inloggen per uur van de dag",
        header=["Uur", "Ingelogd", "Gemiddeld per dag", BEFORE],
    )
    for hour in hours:
        n = now.get(hour, 0)
        table.rows.append(
            [
                f"{hour}:00-{hour}:59",
                n,
                (Decimal(n) / days).quantize(Decimal("0.1")),
                then.get(hour, 0),
            ]
        )
    total = sum(now.values())
    table.rows.append(
        ["Totaal", total, (Decimal(total) / days).quantize(Decimal("0.1")), sum(then.values())]
    )
    summary = f"{number_nl(total)} keer ingelogd van {period.label}."
    if total:
        busiest = max(hours, key=lambda h: now.get(h, 0))
        summary += f" Het drukst tussen {busiest}:00 en {busiest}:59 ({number_nl(now[busiest])})."
    summary += f" Een jaar eerder {number_nl(sum(then.values()))}."
    return section(
        "inloggen",
        "Inloggen per uur",
        summary,
        title="Inloggen per uur van de dag",
        categories=hours,
        series=[
            Series("Deze periode", [now.get(h, 0) for h in hours]),
            Series(BEFORE, [then.get(h, 0) for h in hours]),
        ],
        tables=[table],
    )


def _by_library(period: Period) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _figures(
        period.start,
        period.end,
        ["library_code", "metric"],
        metric__in=[KBMetric.CREATED, KBMetric.MADE_ACTIVATED, KBMetric.MADE_EXPIRED],
        origin="balie",
    ):
        out[row["library_code"]][row["metric"]] += row["n"]
    return out


def _libraries(period: Period, before: Period) -> Section:
    now, then = _by_library(period), _by_library(before)
    names = dict(LibraryContact.objects.values_list("library_code", "name"))
    table = Table(
        key="bibliotheken",
        caption="Inlogaccounts aangemaakt aan de balie, per bibliotheek",
        header=[
            "Bibliotheek",
            "Aangemaakt aan de balie",
            "Op tijd geactiveerd",
            "Ongebruikt verlopen",
            "Aandeel ongebruikt verlopen",
            f"{BEFORE}: aandeel",
        ],
    )
    ordered = sorted(now, key=lambda code: (-now[code][KBMetric.CREATED], code))
    for code in ordered:
        a = now[code]
        b = then.get(code, {})
        table.rows.append(
            [
                f"{code} {names.get(code, '')}".strip() if code else "onbekend",
                a[KBMetric.CREATED],
                a[KBMetric.MADE_ACTIVATED],
                a[KBMetric.MADE_EXPIRED],
                share(a[KBMetric.MADE_EXPIRED], a[KBMetric.CREATED]),
                share(b.get(KBMetric.MADE_EXPIRED, 0), b.get(KBMetric.CREATED, 0)),
            ]
        )
    made = sum(a[KBMetric.CREATED] for a in now.values())
    expired = sum(a[KBMetric.MADE_EXPIRED] for a in now.values())
    made_before = sum(b[KBMetric.CREATED] for b in then.values())
    expired_before = sum(b[KBMetric.MADE_EXPIRED] for b in then.values())
    table.rows.append(
        [
            "Landelijk",
            made,
            sum(a[KBMetric.MADE_ACTIVATED] for a in now.values()),
            expired,
            share(expired, made),
            share(expired_before, made_before),
        ]
    )
    charted = ordered[:CHARTED_LIBRARIES]

    def pct(part: int, whole: int) -> Decimal:
        return (Decimal(part * 100) / whole).quantize(Decimal("0.1")) if whole else Decimal(0)

    summary = (
        f"Van de {number_nl(made)} inlogaccounts die bibliotheken aan de balie aanmaakten van "
        f"{period.label}, verliepen er {number_nl(expired)} ongebruikt ({share(expired, made)}); "
        f"een jaar eerder {share(expired_before, made_before)}."
    )
    if len(ordered) > CHARTED_LIBRARIES:
        summary += f" De grafiek toont de {CHARTED_LIBRARIES} bibliotheken met de meeste accounts."
    return section(
        "bibliotheken",
        "Balie-accounts die ongebruikt verlopen",
        summary,
        title="Aandeel ongebruikt verlopen, per bibliotheek",
        categories=[code or "onbekend" for code in charted],
        series=[
            Series(
                "Deze periode",
                [pct(now[c][KBMetric.MADE_EXPIRED], now[c][KBMetric.CREATED]) for c in charted],
            ),
            Series(
                BEFORE,
                [
                    pct(
                        then.get(c, {}).get(KBMetric.MADE_EXPIRED, 0),
                        then.get(c, {}).get(KBMetric.CREATED, 0),
                    )
                    for c in charted
                ],
            ),
        ],
        tables=[table],
        percent=True,
    )
