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

from bieb.core.dates import local_today
from bieb.core.figures import figures_page
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
    library = desk.library
    return figures_page(
        request,
        today=local_today(),
        report=lambda period: library_report(library=library, period=period),
        through=lambda: figures_through(library),
        csv_name=lambda key, period: (
            f"statistiek-{key}-{library.code}-{period.start.isoformat()}-"
            f"{period.end.isoformat()}.csv"
        ),
        template="counter/statistics.html",
        context={"desk": desk, "section": "statistiek"},
    )
