"""The counter's "Automatische incasso" (/balie/financieel/incasso/): the planned debits (and
what the daily run planned again or let lapse), the open amounts staff choose to collect
("Openstaande bedragen incasseren"), making the pain.008 files ("Bestanden maken"),
downloading them and marking them sent, and reading in the bank's returns (camt.054/053) with
the items to handle by hand.

The work is done by bieb.debits (open_amounts: debits of open amounts; collect: files and
sending; returns: the import and the manual handling); these views only call it. Every page
needs the finance permission (`staff.finance`) and reads the desk's library only: another
library's file is a 404. Each change is a POST that redirects (a reload repeats nothing); a
double click plans an open amount once (the service reads it again under the customer's
lock), makes the files once (the service locks the library), marks a file sent once and
handles an item once.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bieb.core.dates import local_today
from bieb.core.money import format_euro
from bieb.counter.access import Desk, counter_view
from bieb.counter.finance import finance_context, finance_denied
from bieb.debits.camt import reason_text
from bieb.debits.collect import batch_mark_sent, collection_date_for, debits_make_files
from bieb.debits.models import BatchState, DebitBatch, ReturnFile, ReturnItem
from bieb.debits.open_amounts import (
    OpenPlanned,
    debits_plan_all_open_amounts,
    debits_plan_open_amounts,
)
from bieb.debits.returns import (
    RETURN_FILE_MAX,
    return_file_too_large,
    return_item_handle,
    returns_import,
)
from bieb.debits.selectors import (
    OpenToCollectTotals,
    batch_ledger_amounts,
    debit_batch_get,
    debit_batch_totals,
    debit_batches,
    debits_planned_by_date,
    debits_stale_counts,
    open_amounts_to_collect_page,
    return_file_get,
    return_files,
    return_items,
)

PAGE = "Automatische incasso"
ZERO = Decimal("0.00")
BATCHES_PER_PAGE = 50
RETURN_FILES_SHOWN = 20
UPLOAD_FIELD = "bestand"
OPEN_PER_PAGE = 50
OPEN_PAGE = "openstaand"  # the query parameter of the open amounts' page
OPEN_FIELD = "klant"  # a chosen customer: "<id>:<amount shown>"
OPEN_ANCHOR = "#h-open-debits"
RECENT_DAYS = 30  # what the daily run re-planned or cancelled: counted over these days
CHOICE = re.compile(r"([1-9][0-9]{0,11}):([0-9]{1,9}\.[0-9]{2})", re.ASCII)


def _page_number(query: Any, name: str) -> int:
    text = query.get(name, "")
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,5}", text, re.ASCII) else 1


def _open_url(request: HttpRequest, number: int) -> str:
    """The incasso page at page `number` of the open amounts (the files' page kept)."""
    query = {"pagina": request.GET["pagina"]} if "pagina" in request.GET else {}
    if number > 1:
        query[OPEN_PAGE] = str(number)
    return f"{reverse('counter:finance_incasso')}?{urlencode(query)}".rstrip("?") + OPEN_ANCHOR


def _open_section(
    request: HttpRequest, desk: Desk, today: dt.date, *, error: str, chosen: set[int]
) -> dict[str, Any]:
    """The open amounts to collect: one page of them, their totals, the date they would be
    collected on, and (after an error) the error and the customers that were chosen."""
    # After a refused choice the page it was made on (the form says which) is shown again.
    query = request.POST if request.method == "POST" else request.GET
    rows, totals, number = open_amounts_to_collect_page(
        library=desk.library, page=_page_number(query, OPEN_PAGE), per_page=OPEN_PER_PAGE
    )
    pages = max(1, -(-totals.count // OPEN_PER_PAGE))
    return {
        "open_rows": rows,
        "open_totals": totals,
        "open_page": number,
        "open_pages": pages,
        "open_first": (number - 1) * OPEN_PER_PAGE + 1,
        "open_last": (number - 1) * OPEN_PER_PAGE + len(rows),
        "open_previous": _open_url(request, number - 1) if number > 1 else "",
        "open_next": _open_url(request, number + 1) if number < pages else "",
        "open_date": collection_date_for(desk.library, today=today, not_before=today),
        "open_error": error,
        "open_chosen": chosen,
    }


def _page(
    request: HttpRequest,
    desk: Desk,
    *,
    upload_error: str = "",
    open_error: str = "",
    open_chosen: set[int] | None = None,
    status: int = 200,
) -> HttpResponse:
    today = local_today()
    page = Paginator(debit_batches(library=desk.library), BATCHES_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    batches = list(page.object_list)
    processed = [b.pk for b in batches if b.state == BatchState.PROCESSED]
    ledger = batch_ledger_amounts(library=desk.library, batch_ids=processed)
    planned = debits_planned_by_date(library=desk.library, today=today)
    context = finance_context(
        desk,
        "incasso",
        enabled=desk.library.debits_enabled,
        admin_url=reverse("admin:libraries_library_change", args=[desk.library.pk]),
        planned=planned,
        planned_count=sum(day.count for day in planned),
        planned_total=sum((day.total for day in planned), start=ZERO),
        ready=sum(day.ready for day in planned),
        stale=debits_stale_counts(
            library=desk.library, since=timezone.now() - dt.timedelta(days=RECENT_DAYS)
        ),
        recent_days=RECENT_DAYS,
        **_open_section(request, desk, today, error=open_error, chosen=open_chosen or set()),
        page=page,
        rows=[(batch, ledger.get(batch.pk)) for batch in batches],
        totals=debit_batch_totals(library=desk.library),
        return_files=list(return_files(library=desk.library)[:RETURN_FILES_SHOWN]),
        upload_error=upload_error,
        max_upload_mb=RETURN_FILE_MAX // (1024 * 1024),
        today=today,
        printed_at=timezone.now(),
    )
    return render(request, "counter/finance_incasso.html", context, status=status)


@counter_view
def incasso_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    return _page(request, desk)


def _home() -> HttpResponse:
    return redirect("counter:finance_incasso")


@counter_view
def files_make(request: HttpRequest, desk: Desk) -> HttpResponse:
    """ "Bestanden maken": every planned debit that can go now into pain.008 files."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    if request.method != "POST":
        return _home()
    try:
        batches = debits_make_files(library=desk.library, actor=desk.user, today=local_today())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _home()
    if not batches:
        messages.info(request, "Er waren geen geplande incasso's om in een bestand te zetten.")
        return _home()
    count = sum(b.count for b in batches)
    total = sum((b.total for b in batches), start=ZERO)
    files = "1 incassobestand" if len(batches) == 1 else f"{len(batches)} incassobestanden"
    debits = "1 incasso" if count == 1 else f"{count} incasso's"
    messages.success(
        request,
        f"{files} gemaakt: {debits}, {format_euro(total)}. Download ze, lever ze aan bij de "
        "bank en markeer ze daarna als verstuurd.",
    )
    return _home()


def _choices(values: list[str]) -> dict[int, Decimal] | None:
    """The chosen customers as posted ("<id>:<amount shown>"), or None for a value that is not
    one (a tampered form)."""
    chosen: dict[int, Decimal] = {}
    for value in values:
        match = CHOICE.fullmatch(value)
        if match is None:
            return None
        chosen[int(match.group(1))] = Decimal(match.group(2))
    return chosen


def _expected(request: HttpRequest) -> OpenToCollectTotals | None:
    """What "Alles incasseren" said when staff confirmed it: how many, and how much."""
    try:
        count = int(request.POST.get("aantal", ""))
        amount = Decimal(request.POST.get("totaal", ""))
    except (ValueError, InvalidOperation):
        return None
    if count < 0 or not amount.is_finite():
        return None
    return OpenToCollectTotals(count=count, amount=amount)


def _planned_message(request: HttpRequest, planned: OpenPlanned) -> None:
    skipped = ""
    if planned.skipped:
        who = "1 klant" if planned.skipped == 1 else f"{planned.skipped} klanten"
        skipped = (
            f" {who} overgeslagen: het openstaande bedrag is veranderd of wordt al geïncasseerd."
        )
    if not planned.count:
        messages.info(
            request,
            "Er is niets gepland: de gekozen bedragen worden al geïncasseerd of zijn veranderd. "
            "Bekijk de lijst opnieuw."
            if planned.skipped
            else "Er staan geen openstaande bedragen meer om te incasseren.",
        )
        return
    debits = "1 incasso" if planned.count == 1 else f"{planned.count} incasso's"
    messages.success(
        request,
        f"{debits} gepland op {planned.collection_date:%d-%m-%Y}, samen "
        f"{format_euro(planned.total)}. "
        f"{'De klant krijgt' if planned.count == 1 else 'De klanten krijgen'} een "
        "vooraankondiging per e-mail. "
        "Maak de bestanden vóór de incassodatum." + skipped,
    )


@counter_view
def open_amounts_plan(request: HttpRequest, desk: Desk) -> HttpResponse:
    """ "Openstaande bedragen incasseren": the chosen customers, or all ("Alles incasseren")."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    if request.method != "POST":
        return _home()
    today = local_today()
    chosen = _choices(request.POST.getlist(OPEN_FIELD))
    try:
        if request.POST.get("alles") == "ja":
            planned = debits_plan_all_open_amounts(
                library=desk.library, actor=desk.user, today=today, expected=_expected(request)
            )
        elif chosen is None:
            raise ValidationError("Deze keuze is niet te lezen. Kies de klanten opnieuw.")
        else:
            planned = debits_plan_open_amounts(
                library=desk.library, actor=desk.user, shown=chosen, today=today
            )
    except ValidationError as error:
        return _page(
            request,
            desk,
            open_error=" ".join(error.messages),
            open_chosen=set(chosen or {}),
            status=400,
        )
    _planned_message(request, planned)
    return _home()


def _batch(desk: Desk, pk: int) -> DebitBatch:
    try:
        return debit_batch_get(library=desk.library, pk=pk)
    except DebitBatch.DoesNotExist:
        raise Http404("Geen incassobestand van deze bibliotheek") from None


@counter_view
def batch_download(request: HttpRequest, desk: Desk, pk: int) -> HttpResponse:
    """The file as it was made and stored, to upload at the bank."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    batch = _batch(desk, pk)
    if not batch.xml:  # emptied by the retention job (bieb.retention): names and IBANs
        raise Http404("Dit incassobestand is na de bewaartermijn leeggemaakt.")
    response = HttpResponse(batch.xml.encode("utf-8"), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


@counter_view
def batch_sent(request: HttpRequest, desk: Desk, pk: int) -> HttpResponse:
    """ "Markeer als verstuurd": staff uploaded the file at the bank."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    batch = _batch(desk, pk)
    if request.method != "POST":
        return _home()
    was = batch.state
    batch = batch_mark_sent(batch=batch, actor=desk.user)
    if was == BatchState.MADE:
        messages.success(
            request,
            f"Incassobestand {batch.collection_date:%d-%m-%Y} {batch.sequence_type} is "
            "gemarkeerd als verstuurd. Bieb boekt de incasso's op "
            f"{batch.collection_date:%d-%m-%Y}.",
        )
    return _home()


# --- returns ---------------------------------------------------------------------------------


@counter_view
def returns_upload(request: HttpRequest, desk: Desk) -> HttpResponse:
    """ "Terugboekingen inlezen": a camt.054 or camt.053 file from the bank."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    if request.method != "POST":
        return _home()
    upload = request.FILES.get(UPLOAD_FIELD)
    if upload is None or not upload.size:
        return _page(request, desk, upload_error="Kies het bestand van de bank.", status=400)
    if upload.size > RETURN_FILE_MAX:  # refused before it is read into memory
        return _page(request, desk, upload_error=return_file_too_large(), status=400)
    try:
        imported = returns_import(
            library=desk.library,
            data=upload.read(),
            filename=upload.name or "",
            actor=desk.user,
        )
    except ValidationError as error:
        return _page(request, desk, upload_error=" ".join(error.messages), status=400)
    file = imported.file
    if imported.again:
        at = timezone.localtime(file.imported_at)
        messages.info(
            request,
            f"Dit bestand is al eens ingelezen op {at:%d-%m-%Y} om {at:%H:%M}; er is niets "
            "veranderd.",
        )
    else:
        messages.success(
            request,
            f"{file.filename} ingelezen: {file.items} terugboekingen, {file.matched} verwerkt, "
            f"{file.unmatched} niet herkend.",
        )
    return redirect("counter:finance_return_file", pk=file.pk)


def _return_file(desk: Desk, pk: int) -> ReturnFile:
    try:
        return return_file_get(library=desk.library, pk=pk)
    except ReturnFile.DoesNotExist:
        raise Http404("Geen terugboekingsbestand van deze bibliotheek") from None


def _return_page(
    request: HttpRequest,
    desk: Desk,
    file: ReturnFile,
    *,
    errors: dict[int, str] | None = None,
    typed: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    items = [
        {
            "item": item,
            "reason": reason_text(item.reason_code),
            "error": (errors or {}).get(item.pk, ""),
            "typed": (typed or {}).get(item.pk, ""),
        }
        for item in return_items(file=file)
    ]
    context = finance_context(desk, "incasso", file=file, items=items, printed_at=timezone.now())
    return render(request, "counter/finance_return_file.html", context, status=status)


@counter_view
def return_file_page(request: HttpRequest, desk: Desk, pk: int) -> HttpResponse:
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    return _return_page(request, desk, _return_file(desk, pk))


@counter_view
def return_item_handled(request: HttpRequest, desk: Desk, pk: int, item: int) -> HttpResponse:
    """ "Afgehandeld" for an item the import did not recognise, with a short note."""
    if not desk.user.has_finance:
        return finance_denied(request, desk, PAGE)
    file = _return_file(desk, pk)
    if request.method != "POST":
        return redirect("counter:finance_return_file", pk=file.pk)
    note = request.POST.get("toelichting", "")
    try:
        if not file.lines.filter(pk=item).exists():
            raise ReturnItem.DoesNotExist
        return_item_handle(library=desk.library, item_id=item, note=note, actor=desk.user)
    except ReturnItem.DoesNotExist:
        raise Http404("Geen terugboeking in dit bestand") from None
    except ValidationError as error:
        return _return_page(
            request,
            desk,
            file,
            errors={item: " ".join(error.messages)},
            typed={item: note[:300]},
            status=400,
        )
    messages.success(request, "De terugboeking is afgehandeld.")
    return redirect(f"{reverse('counter:finance_return_file', args=[file.pk])}#item-{item}")
