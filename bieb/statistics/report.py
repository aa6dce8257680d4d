"""The statistics page of a library, read from its daily figures only (never from the
customer tables, so that a page stays fast with millions of customers): sections with a chart,
a text summary and the tables behind them, for a period and the same period a year before.

Every read takes `library=`: a library's page shows that library's figures and nothing else.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Max, Sum

from bieb.core.charts import Series, number_nl
from bieb.core.dates import date_nl
from bieb.core.figures import Period, Section, Table, section, share
from bieb.core.money import ZERO, format_euro, to_cents
from bieb.customers.models import CancelReason, LedgerKind, PaymentMethod
from bieb.kb import interface
from bieb.libraries.models import Library, SubscriptionType
from bieb.statistics.models import AGE_BANDS, Channel, DailyFigure, Metric

BEFORE = "Een jaar eerder"


def _rows(library: Library, metric: str, period: Period, *fields: str) -> list[dict[str, Any]]:
    return list(
        DailyFigure.objects.filter(
            library=library, metric=metric, day__gte=period.start, day__lte=period.end
        )
        .order_by()
        .values(*fields)
        .annotate(n=Sum("count"), total=Sum("amount"))
    )


def _per_bucket(
    period: Period, rows: Iterable[dict[str, Any]], key: str | None, grain: str | None = None
) -> dict[str, list[int]]:
    """Counts per bucket of the period, per value of `key` (None: all under "")."""
    index = period.bucket_index(grain)
    size = len(period.buckets(grain))
    out: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    for row in rows:
        out[row[key] if key else ""][index[row["day"]]] += row["n"]
    return out


def _labels(library: Library) -> dict[str, str]:
    return {
        t.code: f"{t.code} {t.name}"
        for t in SubscriptionType.objects.filter(library=library).order_by("code")
    }


def figures_through(library: Library) -> dt.date | None:
    """The last day the figures of `library` were computed for."""
    return DailyFigure.objects.filter(library=library).aggregate(d=Max("day"))["d"]


def library_report(*, library: Library, period: Period) -> list[Section]:
    before = period.before
    labels = _labels(library)
    return [
        _new(library, period, before, labels),
        _active(library, period, before, labels),
        _churn(library, period, before),
        _renewals(library, period, before),
        _revenue(library, period, before),
        _accounts(library, period, before),
    ]


def _new(library: Library, period: Period, before: Period, labels: dict[str, str]) -> Section:
    now = _rows(library, Metric.NEW, period, "day", "channel", "subscription")
    then = _rows(library, Metric.NEW, before, "day", "channel", "subscription")
    buckets = period.buckets()
    by_channel = _per_bucket(period, now, "channel")
    counter, online = by_channel[Channel.COUNTER], by_channel[Channel.ONLINE]
    earlier = _per_bucket(before, then, None)[""]
    earlier = (earlier + [0] * len(buckets))[: len(buckets)]
    per = "week" if period.grain == "week" else "maand"
    table = Table(
        key="nieuw",
        caption=f"Nieuwe abonnementen per {per}, naar kanaal",
        header=[per.capitalize(), "Balie", "Online", "Totaal", BEFORE],
    )
    for i, bucket in enumerate(buckets):
        table.rows.append([bucket.label, counter[i], online[i], counter[i] + online[i], earlier[i]])
    total_counter, total_online = sum(counter), sum(online)
    total, total_before = total_counter + total_online, sum(r["n"] for r in then)
    table.rows.append(["Totaal", total_counter, total_online, total, total_before])

    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in now:
        kinds[row["subscription"]][row["channel"]] += row["n"]
    for row in then:
        kinds[row["subscription"]]["before"] += row["n"]
    by_type = Table(
        key="nieuw-abonnement",
        caption="Nieuwe abonnementen naar abonnement en kanaal",
        header=["Abonnement", "Balie", "Online", "Totaal", BEFORE],
    )
    for code in sorted(kinds):
        c, o = kinds[code][Channel.COUNTER], kinds[code][Channel.ONLINE]
        by_type.rows.append([labels.get(code, code), c, o, c + o, kinds[code]["before"]])

    summary = (
        f"{number_nl(total)} nieuwe abonnementen van {period.label}: "
        f"{number_nl(total_counter)} aan de balie en {number_nl(total_online)} online; "
        f"{number_nl(total_before)} in dezelfde periode een jaar eerder."
    )
    if total:
        best = max(range(len(buckets)), key=lambda i: counter[i] + online[i])
        summary += (
            f" De meeste in {buckets[best].label} ({number_nl(counter[best] + online[best])})."
        )
    return section(
        "nieuw",
        "Nieuwe abonnementen",
        summary,
        title=f"Nieuwe abonnementen per {per}",
        categories=[b.label for b in buckets],
        series=[Series("Balie", counter), Series("Online", online), Series(BEFORE, earlier)],
        tables=[table, by_type],
    )


def _last_day(library: Library, metric: str, period: Period) -> dt.date | None:
    return (
        DailyFigure.objects.filter(
            library=library, metric=metric, day__gte=period.start, day__lte=period.end
        )
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


def _active(library: Library, period: Period, before: Period, labels: dict[str, str]) -> Section:
    day = _last_day(library, Metric.ACTIVE, period) or period.end
    day_before = before.end - (period.end - day)
    bands = [label for _, label in AGE_BANDS]

    def counts(on: dt.date) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in _rows(library, Metric.ACTIVE, Period(on, on), "subscription", "age_band"):
            out[row["subscription"]][row["age_band"]] += row["n"]
        return out

    now, then = counts(day), counts(day_before)
    table = Table(
        key="actief",
        caption=f"Actieve leden op {date_nl(day)}, naar abonnement en leeftijd",
        header=["Abonnement", *bands, "Totaal", f"{BEFORE} ({date_nl(day_before)})"],
    )
    band_totals = [0] * len(bands)
    band_before = [0] * len(bands)
    for code in sorted(set(now) | set(then)):
        cells = [now[code][band] for band in bands]
        band_totals = [a + b for a, b in zip(band_totals, cells, strict=True)]
        band_before = [a + then[code][band] for a, band in zip(band_before, bands, strict=True)]
        table.rows.append([labels.get(code, code), *cells, sum(cells), sum(then[code].values())])
    total, total_before = sum(band_totals), sum(band_before)
    table.rows.append(["Totaal", *band_totals, total, total_before])
    summary = (
        f"{number_nl(total)} actieve leden (met rechten) op {date_nl(day)}; "
        f"{number_nl(total_before)} een jaar eerder."
    )
    if total:
        biggest = max(range(len(bands)), key=lambda i: band_totals[i])
        summary += (
            f" De grootste leeftijdsgroep is {bands[biggest]} jaar "
            f"({number_nl(band_totals[biggest])})."
        )
    return section(
        "actief",
        "Actieve leden",
        summary,
        title=f"Actieve leden op {date_nl(day)} naar leeftijd",
        categories=[f"{band} jaar" for band in bands],
        series=[Series(date_nl(day), band_totals), Series(BEFORE, band_before)],
        tables=[table],
    )


def _churn(library: Library, period: Period, before: Period) -> Section:
    metrics = [
        (Metric.CANCELLED, "Opgezegd"),
        (Metric.DEREGISTERED, "Uitgeschreven (niet betaald)"),
        (Metric.NOT_RENEWED, "Niet verlengd"),
    ]
    buckets = period.buckets()
    series: list[list[int]] = []
    totals: list[int] = []
    earlier = [0] * len(buckets)
    for metric, _ in metrics:
        per = _per_bucket(period, _rows(library, metric, period, "day"), None)[""]
        series.append(per)
        totals.append(sum(per))
        old = _per_bucket(before, _rows(library, metric, before, "day"), None)[""]
        earlier = [
            a + b for a, b in zip(earlier, (old + [0] * len(buckets))[: len(buckets)], strict=True)
        ]
    grain = "Week" if period.grain == "week" else "Maand"
    table = Table(
        key="opzeggingen",
        caption=f"Opzeggingen en uitschrijvingen per {grain.lower()}",
        header=[grain, *[label for _, label in metrics], "Totaal", BEFORE],
    )
    for i, bucket in enumerate(buckets):
        cells = [s[i] for s in series]
        table.rows.append([bucket.label, *cells, sum(cells), earlier[i]])
    table.rows.append(["Totaal", *totals, sum(totals), sum(earlier)])

    reasons_now = {r["kind"]: r["n"] for r in _rows(library, Metric.CANCELLED, period, "kind")}
    reasons_then = {r["kind"]: r["n"] for r in _rows(library, Metric.CANCELLED, before, "kind")}
    reasons = Table(
        key="redenen",
        caption="Redenen van opzeggen",
        header=["Reden", "Aantal", BEFORE],
        total=False,
    )
    for value, label in CancelReason.choices:
        if reasons_now.get(value) or reasons_then.get(value):
            reasons.rows.append([str(label), reasons_now.get(value, 0), reasons_then.get(value, 0)])
    summary = (
        f"{number_nl(sum(totals))} leden weg van {period.label}: {number_nl(totals[0])} "
        f"opgezegd, {number_nl(totals[1])} uitgeschreven omdat ze niet betaalden en "
        f"{number_nl(totals[2])} niet verlengd; {number_nl(sum(earlier))} een jaar eerder."
    )
    return section(
        "opzeggingen",
        "Opzeggingen en uitschrijvingen",
        summary,
        title="Opzeggingen en uitschrijvingen",
        categories=[b.label for b in buckets],
        series=[Series(label, s) for (_, label), s in zip(metrics, series, strict=True)],
        tables=[table, reasons],
    )


def _renewals(library: Library, period: Period, before: Period) -> Section:
    now = {r["method"]: r for r in _rows(library, Metric.RENEWAL_PAID, period, "method")}
    then = {r["method"]: r for r in _rows(library, Metric.RENEWAL_PAID, before, "method")}
    table = Table(
        key="verlengingen",
        caption="Verlengingen betaald, naar betaalwijze",
        header=["Betaalwijze", "Aantal", "Bedrag", f"{BEFORE}: aantal", f"{BEFORE}: bedrag"],
        euro=True,
    )
    methods = [(v, str(label)) for v, label in PaymentMethod.choices if v]
    counts, earlier = [], []
    for value, label in methods:
        a, b = now.get(value), then.get(value)
        counts.append(a["n"] if a else 0)
        earlier.append(b["n"] if b else 0)
        table.rows.append(
            [
                label,
                counts[-1],
                to_cents(a["total"]) if a else ZERO,
                earlier[-1],
                to_cents(b["total"]) if b else ZERO,
            ]
        )
    amount = sum((to_cents(r["total"]) for r in now.values()), ZERO)
    table.rows.append(
        [
            "Totaal",
            sum(counts),
            amount,
            sum(earlier),
            sum((to_cents(r["total"]) for r in then.values()), ZERO),
        ]
    )
    summary = (
        f"{number_nl(sum(counts))} betalingen voor een verlenging van {period.label}, samen "
        f"{format_euro(amount)}: "
        + ", ".join(
            f"{label.lower()} {number_nl(n)}" for (_, label), n in zip(methods, counts, strict=True)
        )
        + f"; {number_nl(sum(earlier))} een jaar eerder."
    )
    return section(
        "verlengingen",
        "Verlengingen betaald",
        summary,
        title="Verlengingen betaald, naar betaalwijze",
        categories=[label for _, label in methods],
        series=[Series("Deze periode", counts), Series(BEFORE, earlier)],
        tables=[table],
    )


def _money(period: Period, rows: Iterable[dict[str, Any]]) -> list[dict[str, Decimal]]:
    index = period.bucket_index("maand")
    out: list[dict[str, Decimal]] = [defaultdict(lambda: ZERO) for _ in period.buckets("maand")]
    for row in rows:
        bucket = out[index[row["day"]]]
        kind, amount = row["kind"], to_cents(row["total"] or 0)
        if kind == LedgerKind.STORNO and row["method"]:
            kind = "storno_betaling"
        bucket[kind] += amount
    return out


def _net(bucket: dict[str, Decimal]) -> Decimal:
    """Received: payments less the reversed ones and the refunds."""
    return -(bucket[LedgerKind.PAYMENT] + bucket["storno_betaling"] + bucket[LedgerKind.REFUND])


def _revenue(library: Library, period: Period, before: Period) -> Section:
    buckets = period.buckets("maand")
    now = _money(period, _rows(library, Metric.LEDGER, period, "day", "kind", "method"))
    then = _money(before, _rows(library, Metric.LEDGER, before, "day", "kind", "method"))
    then = (then + [defaultdict(lambda: ZERO) for _ in buckets])[: len(buckets)]
    table = Table(
        key="omzet",
        caption="Omzet per maand uit het grootboek",
        header=[
            "Maand",
            "Abonnementskosten",
            "Korting",
            "Betalingen",
            "Storno's van betalingen",
            "Terugbetaald",
            "Kwijtgescholden",
            "Netto ontvangen",
            f"{BEFORE}: netto ontvangen",
        ],
        euro=True,
    )
    net, net_before = [], []
    for bucket, b, old in zip(buckets, now, then, strict=True):
        net.append(_net(b))
        net_before.append(_net(old))
        table.rows.append(
            [
                bucket.label,
                b[LedgerKind.FEE] + b[LedgerKind.STORNO],
                -b[LedgerKind.DISCOUNT],
                -b[LedgerKind.PAYMENT],
                b["storno_betaling"],
                b[LedgerKind.REFUND],
                -b[LedgerKind.WRITE_OFF],
                net[-1],
                net_before[-1],
            ]
        )
    columns = list(zip(*[row[1:] for row in table.rows], strict=True)) if table.rows else []
    table.rows.append(["Totaal", *[sum(c, ZERO) for c in columns]])
    total, total_before = sum(net, ZERO), sum(net_before, ZERO)
    summary = (
        f"{format_euro(total)} netto ontvangen van {period.label}; "
        f"{format_euro(total_before)} in dezelfde periode een jaar eerder."
    )
    return section(
        "omzet",
        "Omzet per maand",
        summary,
        title="Netto ontvangen per maand",
        categories=[b.label for b in buckets],
        series=[Series("Deze periode", net), Series(BEFORE, net_before)],
        tables=[table],
        euro=True,
    )


def _accounts(library: Library, period: Period, before: Period) -> Section:
    """The activation funnel of the login accounts this library's counter made: the KB's
    figures (through the interface), and the counter's own "Vergeet inlogaccount" and "Nieuw
    inlogaccount genereren"."""
    unreachable = ""
    try:
        lifetime = interface.activation_lifetime_label()
        now = interface.account_figures(
            library_code=library.code, start=period.start, end=period.end
        )
        then = interface.account_figures(
            library_code=library.code, start=before.start, end=before.end
        )
    except interface.KBUnavailable:
        lifetime = "24 uur"
        now = then = interface.AccountFigures()
        unreachable = (
            "De KB (de landelijke inlogdienst) is nu niet bereikbaar: de cijfers over "
            "activeren ontbreken. "
        )

    def total(metric: str, of: Period) -> int:
        return sum(row["n"] for row in _rows(library, metric, of))

    steps = [
        ("Aangemaakt aan de balie", now.made, then.made),
        (f"Binnen {lifetime} geactiveerd", now.activated_in_time, then.activated_in_time),
        ("Verlopen en opgeruimd (nooit geactiveerd)", now.expired, then.expired),
        (
            "Vergeet inlogaccount",
            total(Metric.ACCOUNT_FORGOTTEN, period),
            total(Metric.ACCOUNT_FORGOTTEN, before),
        ),
        (
            "Opnieuw aangemaakt (Nieuw inlogaccount genereren)",
            total(Metric.ACCOUNT_REMADE, period),
            total(Metric.ACCOUNT_REMADE, before),
        ),
    ]
    table = Table(
        key="inlogaccounts",
        caption="Inlogaccounts aangemaakt aan de balie: van aanmaken tot activeren",
        header=["Stap", "Aantal", BEFORE],
        rows=[[label, a, b] for label, a, b in steps],
        total=False,
    )
    summary = unreachable + (
        f"{number_nl(now.made)} inlogaccounts aan de balie aangemaakt van {period.label}: "
        f"{number_nl(now.activated_in_time)} binnen {lifetime} geactiveerd "
        f"({share(now.activated_in_time, now.made)}), {number_nl(now.expired)} verlopen en "
        f"opgeruimd ({share(now.expired, now.made)}); {number_nl(steps[4][1])} opnieuw "
        f"aangemaakt na Vergeet inlogaccount of verlopen."
    )
    if then.made:
        summary += f" Een jaar eerder verliep {share(then.expired, then.made)}."
    return section(
        "inlogaccounts",
        "Inlogaccounts van de balie",
        summary,
        title="Inlogaccounts van de balie: van aanmaken tot activeren",
        categories=["Aangemaakt", "Geactiveerd", "Verlopen", "Vergeten", "Opnieuw"],
        series=[
            Series("Deze periode", [a for _, a, _ in steps]),
            Series(BEFORE, [b for _, _, b in steps]),
        ],
        tables=[table],
    )
