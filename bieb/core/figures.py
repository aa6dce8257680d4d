"""What the statistics pages of both sides share: the period a page shows (chosen in the query
string, with the same period a year before), the tables of figures, and their CSV download."""

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from bieb.core.charts import Series, bar_chart, number_nl
from bieb.core.dates import add_months, date_nl
from bieb.core.money import format_euro

Cell = str | int | Decimal
MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
GRAINS = {"week": "week", "maand": "maand"}
MAX_DAYS = 3 * 366


def year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Bucket:
    """One bar of a chart, one row of a table: a week or a month within the period."""

    label: str
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    grain: str = "maand"

    @property
    def before(self) -> "Period":
        """The same period a year before."""
        return Period(year_before(self.start), year_before(self.end), self.grain)

    @property
    def label(self) -> str:
        return f"{date_nl(self.start)} t/m {date_nl(self.end)}"

    def buckets(self, grain: str | None = None) -> list[Bucket]:
        grain = grain or self.grain
        out: list[Bucket] = []
        day = self.start
        while day <= self.end:
            if grain == "week":
                year, week, weekday = day.isocalendar()
                last = day + dt.timedelta(days=7 - weekday)
                label = f"week {week} {year}"
            else:
                year, month = add_months(day.year, day.month, 1)
                last = dt.date(year, month, 1) - dt.timedelta(days=1)
                label = f"{MONTHS_SHORT[day.month - 1]} {day.year}"
            last = min(last, self.end)
            out.append(Bucket(label, day, last))
            day = last + dt.timedelta(days=1)
        return out

    def bucket_index(self, grain: str | None = None) -> dict[dt.date, int]:
        """Each day of the period → the position of its bucket."""
        index: dict[dt.date, int] = {}
        for i, bucket in enumerate(self.buckets(grain)):
            day = bucket.first
            while day <= bucket.last:
                index[day] = i
                day += dt.timedelta(days=1)
        return index


def period_from_query(
    query: Mapping[str, str], *, today: dt.date
) -> tuple[Period, dict[str, str], dict[str, str]]:
    """The period in the query string (`van`, `tot`: YYYY-MM-DD as a date field sends them;
    `per`: week or maand). Default: the last twelve months through today. Returns the period,
    what was typed (to show it again) and a Dutch error per field that could not be read (the
    default is shown then)."""
    year, month = add_months(today.year, today.month, -11)
    default_start = dt.date(year, month, 1)
    typed = {
        "van": query.get("van", "").strip()[:10],
        "tot": query.get("tot", "").strip()[:10],
        "per": query.get("per", "").strip()[:10],
    }
    errors: dict[str, str] = {}

    def day_of(name: str, default: dt.date) -> dt.date:
        if not typed[name]:
            return default
        try:
            return dt.date.fromisoformat(typed[name])
        except ValueError:
            errors[name] = "Vul een datum in als dd-mm-jjjj."
            return default

    start = day_of("van", default_start)
    end = day_of("tot", today)
    grain = GRAINS.get(typed["per"], "maand")
    if typed["per"] and typed["per"] not in GRAINS:
        errors["per"] = "Kies week of maand."
    if not errors and end < start:
        errors["tot"] = "De einddatum ligt vóór de begindatum."
    elif not errors and (end - start).days > MAX_DAYS:
        errors["tot"] = "Kies een periode van hoogstens drie jaar."
    if errors:
        start, end = default_start, today
    if not typed["van"]:
        typed["van"] = start.isoformat()
    if not typed["tot"]:
        typed["tot"] = end.isoformat()
    if not typed["per"]:
        typed["per"] = grain
    return Period(start, end, grain), typed, errors


@dataclass
class Table:
    """A table of figures: shown on the page (numbers right-aligned, Dutch separators) and
    downloaded as CSV (`;`, decimal comma, as a Dutch spreadsheet reads it)."""

    key: str
    caption: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    euro: bool = False  # the Decimal cells are euros
    total: bool = True  # the last row is the total (shown in bold)

    def shown(self) -> list[list[tuple[str, bool]]]:
        return [[_shown(cell, self.euro) for cell in row] for row in self.rows]

    def csv_response(self, filename: str) -> HttpResponse:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(self.header)
        for row in self.rows:
            writer.writerow([_csv(cell) for cell in row])
        # The byte order mark: Excel then reads UTF-8.
        response = HttpResponse(
            ("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _shown(cell: Cell, euro: bool) -> tuple[str, bool]:
    if isinstance(cell, bool | str):
        return str(cell), False
    if isinstance(cell, Decimal):
        if euro:
            return format_euro(cell), True
        exponent = cell.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return number_nl(cell, decimals=places), True
    return number_nl(cell), True


def _csv(cell: Cell) -> str:
    if isinstance(cell, Decimal):
        return f"{cell:.2f}".replace(".", ",")
    if isinstance(cell, int):
        return str(cell)
    # A text cell a spreadsheet shows as text, never runs as a formula.
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def share(part: int, whole: int) -> str:
    """`3` of `8` → `37,5%`; nothing of nothing → `—`."""
    if not whole:
        return "—"
    return number_nl(Decimal(part * 100) / Decimal(whole), decimals=1) + "%"


def table_find(sections: Sequence["Section"], key: str) -> Table | None:
    """The table of these sections with this key (the `?csv=` of a page), or None."""
    for one in sections:
        for table in one.tables:
            if table.key == key:
                return table
    return None


@dataclass
class Section:
    key: str
    heading: str
    summary: str
    chart: SafeString | None = None
    tables: list[Table] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)


def section(
    key: str,
    heading: str,
    summary: str,
    *,
    title: str,
    categories: list[str],
    series: list[Series],
    tables: list[Table],
    euro: bool = False,
    percent: bool = False,
) -> Section:
    chart = bar_chart(
        chart_id=f"grafiek-{key}",
        title=title,
        summary_id=f"samenvatting-{key}",
        categories=categories,
        series=series,
        euro=euro,
        percent=percent,
    )
    return Section(key, heading, summary, chart, tables, [one.name for one in series])


def figures_page(
    request: HttpRequest,
    *,
    today: dt.date,
    report: Callable[[Period], list["Section"]],
    through: Callable[[], dt.date | None],
    csv_name: Callable[[str, Period], str],
    template: str,
    context: Mapping[str, object],
) -> HttpResponse:
    """A statistics page of either side: the period its query string chooses (with the one a
    year before and the Dutch errors of what could not be read), the `report`'s sections, and
    `?csv=<table>` as that table's download, named `csv_name(table key, period)`. `through` is
    the last day the daily figures were computed for."""
    period, typed, errors = period_from_query(request.GET, today=today)
    sections = report(period)
    table = table_find(sections, request.GET.get("csv", ""))
    if table is not None:
        return table.csv_response(csv_name(table.key, period))
    query = urlencode({"van": typed["van"], "tot": typed["tot"], "per": typed["per"]})
    last = through()
    return render(
        request,
        template,
        {
            **context,
            "period": period,
            "before": period.before,
            "typed": typed,
            "errors": errors,
            "sections": sections,
            "csv_base": f"{request.path}?{query}&csv=",
            "through": date_nl(last) if last else "",
        },
    )
