"""The counter's "Financieel" (/balie/financieel/): open amounts with their CSV export, the day's
kasopmaak and the renewal runs. Read-only pages; the selectors are in
`bieb.customers.reports` and read the desk's library only.

Rights: every counter user sees the kasopmaak of their own library; the open amounts, the export
and the renewal runs need the finance permission (`staff.finance`), else a Dutch 403 page.
"""

import csv
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bieb.core.dates import date_nl, local_today
from bieb.counter.access import Desk, counter_view
from bieb.customers.models import RenewalRun
from bieb.customers.reports import (
    OpenAmount,
    OpenFilters,
    cash_report,
    open_amounts,
    open_amounts_iter,
    open_amounts_totals,
    renewal_run_get,
    renewal_run_periods,
    renewal_runs,
)
from bieb.libraries.models import Branch, SubscriptionType

PAGE_ROWS = 200
RUNS_PER_PAGE = 50
PERIODS_PER_PAGE = 100
MAX_DAYS = 36500
NEEDS_FINANCE = (
    "Voor {page} is de rol Financieel nodig. Vraag een collega met die rol, of de beheerder. "
    "De kasopmaak van uw bibliotheek kunt u wel bekijken."
)


def finance_context(desk: Desk, tab: str, **extra: Any) -> dict[str, Any]:
    return {"desk": desk, "section": "financieel", "tab": tab, **extra}


def finance_denied(request: HttpRequest, desk: Desk, page: str) -> HttpResponse:
    context = finance_context(
        desk,
        "",
        title="Geen toegang",
        message=NEEDS_FINANCE.format(page=page),
        home_url=reverse("counter:finance_cash"),
        home_label="Naar de kasopmaak",
    )
    return render(request, "counter/error.html", context, status=403)


# --- open amounts ----------------------------------------------------------------------------


def _choices(desk: Desk) -> tuple[list[Branch], list[SubscriptionType]]:
    """The library's branches and subscription types: the filters' lists."""
    return (
        list(Branch.objects.filter(library=desk.library).order_by("number")),
        list(SubscriptionType.objects.filter(library=desk.library).order_by("code")),
    )


def _filters(
    desk: Desk, query: Any
) -> tuple[OpenFilters, dict[str, str], dict[str, str], dict[str, Any]]:
    """The filters from the query string: what they select, what was typed (to show it again),
    a Dutch error per field that could not be read, and the lists to choose from."""
    branches, types = _choices(desk)
    typed = {
        "vestiging": query.get("vestiging", "").strip()[:20],
        "abonnement": query.get("abonnement", "").strip()[:20],
        "ouder_dan": query.get("ouder_dan", "").strip()[:10],
    }
    errors: dict[str, str] = {}
    branch_id = type_id = days = None
    if typed["vestiging"]:
        branch_id = next((b.pk for b in branches if b.number == typed["vestiging"]), None)
        if branch_id is None:
            errors["vestiging"] = "Kies een vestiging uit de lijst."
    if typed["abonnement"]:
        type_id = next((t.pk for t in types if t.code == typed["abonnement"]), None)
        if type_id is None:
            errors["abonnement"] = "Kies een abonnement uit de lijst."
    if typed["ouder_dan"]:
        if re.fullmatch(r"\d{1,5}", typed["ouder_dan"], re.ASCII):
            days = min(int(typed["ouder_dan"]), MAX_DAYS)
        else:
            errors["ouder_dan"] = "Vul een aantal dagen in, bijvoorbeeld 30."
    filters = OpenFilters(branch_id=branch_id, subscription_type_id=type_id, older_than_days=days)
    return filters, typed, errors, {"branches": branches, "types": types}


def _page_number(query: Any) -> int:
    text = query.get("pagina", "")
    return int(text) if re.fullmatch(r"[1-9]\d{0,5}", text, re.ASCII) else 1


@counter_view
def open_amounts_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    if not desk.user.has_finance:
        return finance_denied(request, desk, "Openstaande bedragen")
    filters, typed, errors, choices = _filters(desk, request.GET)
    today = local_today()
    page = _page_number(request.GET)
    rows: list[OpenAmount] = []
    totals = None
    if not errors:
        totals = open_amounts_totals(library=desk.library, filters=filters, today=today)
        rows = open_amounts(
            library=desk.library,
            filters=filters,
            today=today,
            limit=PAGE_ROWS,
            offset=(page - 1) * PAGE_ROWS,
        )
    kept = {name: value for name, value in typed.items() if value}
    shown_to = (page - 1) * PAGE_ROWS + len(rows)
    context = finance_context(
        desk,
        "open",
        typed=typed,
        errors=errors,
        rows=rows,
        totals=totals,
        today=today,
        first_row=(page - 1) * PAGE_ROWS + 1,
        shown_to=shown_to,
        previous_url=_with(kept, page - 1) if page > 1 else "",
        next_url=_with(kept, page + 1) if totals and shown_to < totals.count else "",
        csv_url=f"{reverse('counter:finance_open_csv')}?{urlencode(kept)}".rstrip("?"),
        **choices,
    )
    return render(request, "counter/finance_open.html", context, status=400 if errors else 200)


def _with(kept: dict[str, str], page: int) -> str:
    query = {**kept, "pagina": str(page)} if page > 1 else kept
    return f"{reverse('counter:finance_open')}?{urlencode(query)}".rstrip("?")


CSV_HEADER = [
    "Klantnummer",
    "Naam",
    "Saldo",
    "Ouderdom (dagen)",
    "Abonnement",
    "Vestiging",
    "Status",
]


def _decimal_comma(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _cell(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs as a formula (a name typed
    online as `=HYPERLINK(...)`)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[OpenAmount]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    # The byte order mark: Excel then reads UTF-8 (and the é of beëindigd).
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for row in rows:
        yield writer.writerow(
            [
                _cell(row.number),
                _cell(row.name),
                _decimal_comma(row.saldo),
                "" if row.age_days is None else str(row.age_days),
                _cell(row.subscription),
                _cell(row.branch),
                row.status_label,
            ]
        )


@counter_view
def open_amounts_csv(request: HttpRequest, desk: Desk) -> HttpResponseBase:
    if not desk.user.has_finance:
        return finance_denied(request, desk, "Openstaande bedragen")
    filters, _typed, errors, _lists = _filters(desk, request.GET)
    if errors:
        return open_amounts_page(request)
    today = local_today()
    rows = open_amounts_iter(library=desk.library, filters=filters, today=today)
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in _csv_lines(rows)),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"openstaande-bedragen-{desk.library.code}-{today.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- kasopmaak -------------------------------------------------------------------------------

_DAY_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", re.ASCII)


def _day(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The day typed as dd-mm-jjjj (empty: today), or None with the Dutch reason."""
    if not text:
        return today, ""
    match = _DAY_RE.fullmatch(text)
    if not match:
        return None, "Typ de dag als dd-mm-jjjj, bijvoorbeeld 02-01-2025."
    d, m, y = (int(g) for g in match.groups())
    try:
        day = dt.date(y, m, d)
    except ValueError:
        return None, f"{d:02d}-{m:02d}-{y:04d} bestaat niet; controleer dag en maand."
    if day > today:
        return None, "Die dag ligt in de toekomst; een kasopmaak gaat over vandaag of eerder."
    return day, ""


def _day_url(day: dt.date) -> str:
    return f"{reverse('counter:finance_cash')}?{urlencode({'dag': date_nl(day)})}"


@counter_view
def cash_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    today = local_today()
    typed = request.GET.get("dag", "").strip()[:20]
    day, error = _day(typed, today)
    report = cash_report(library=desk.library, day=day) if day else None
    one = dt.timedelta(days=1)
    context = finance_context(
        desk,
        "kas",
        typed=typed or date_nl(today),
        error=error,
        report=report,
        day=day,
        previous_url=_day_url(day - one) if day else "",
        next_url=_day_url(day + one) if day and day < today else "",
        printed_at=timezone.now(),
    )
    return render(request, "counter/finance_cash.html", context, status=400 if error else 200)


# --- renewal runs ----------------------------------------------------------------------------


@counter_view
def runs_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    if not desk.user.has_finance:
        return finance_denied(request, desk, "Verlengruns")
    page = Paginator(renewal_runs(library=desk.library), RUNS_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    return render(request, "counter/finance_runs.html", finance_context(desk, "runs", page=page))


@counter_view
def run_page(request: HttpRequest, desk: Desk, pk: int) -> HttpResponse:
    if not desk.user.has_finance:
        return finance_denied(request, desk, "Verlengruns")
    try:
        run = renewal_run_get(library=desk.library, pk=pk)
    except RenewalRun.DoesNotExist:
        raise Http404("Geen verlengrun van deze bibliotheek") from None
    page = Paginator(renewal_run_periods(run=run), PERIODS_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    return render(
        request, "counter/finance_run.html", finance_context(desk, "runs", run=run, page=page)
    )
