"""The counter's "Statistiek" (/balie/statistiek/): the library's figures for a period, next to
the same period a year before, each as a chart with its text summary and its table, and each
table as CSV (`?csv=<table>`). Read from the daily figures (`bieb.statistics`), the desk's
library only.

Rights: the statistics role (the permission `staff.statistics`); anyone else at the counter
gets a Dutch 403 page.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from bieb.core.dates import date_nl, local_today
from bieb.core.figures import period_from_query, table_find
from bieb.counter.access import Desk, counter_view
from bieb.statistics.report import figures_through, library_report

NEEDS_STATISTICS = (
    "Voor Statistiek is de rol Statistiek nodig. Vraag een collega met die rol, of de beheerder."
)


@counter_view
def statistics_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    if not desk.user.has_statistics:
        context = {
            "desk": desk,
            "section": "statistiek",
            "title": "Geen toegang",
            "message": NEEDS_STATISTICS,
            "home_url": reverse("counter:search"),
            "home_label": "Naar Klanten",
        }
        return render(request, "counter/error.html", context, status=403)
    period, typed, errors = period_from_query(request.GET, today=local_today())
    sections = library_report(library=desk.library, period=period)
    table = table_find(sections, request.GET.get("csv", ""))
    if table is not None:
        return table.csv_response(
            f"statistiek-{table.key}-{desk.library.code}-"
            f"{period.start.isoformat()}-{period.end.isoformat()}.csv"
        )
    query = urlencode({"van": typed["van"], "tot": typed["tot"], "per": typed["per"]})
    through = figures_through(desk.library)
    context = {
        "desk": desk,
        "section": "statistiek",
        "period": period,
        "before": period.before,
        "typed": typed,
        "errors": errors,
        "sections": sections,
        "csv_base": f"{reverse('counter:statistics')}?{query}&csv=",
        "through": date_nl(through) if through else "",
    }
    return render(request, "counter/statistics.html", context)
