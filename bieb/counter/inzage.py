"""The customer's "Inzage" and "Historie" at the counter.

"Inzage" answers a subject access request: everything the library holds about the customer
(`bieb.customers.export`, the very export the member downloads at Mijn bibliotheek), as a page
to print or hand over and as a JSON file; every look is an audit row naming the staff member.
"Historie" lists the audit rows about the customer, its memberships and its payments (mandate
changes and ledger lines are audited on the customer), newest first, a page at a time.

Both find the customer within the staff member's library only (another library's number is the
counter's 404), for any staff member of that library, as the customer page itself.
"""

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from bieb.counter.access import Desk, counter_view
from bieb.counter.views import _customer
from bieb.customers.export import customer_export, customer_export_json, customer_export_record
from bieb.customers.history import action_label, customer_audit_events

HISTORY_PER_PAGE = 50


@counter_view
def inzage_page(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    customer = _customer(desk, number)
    with transaction.atomic():
        customer_export_record(customer=customer, way="pagina", actor=desk.user)
    context = {
        "desk": desk,
        "section": "klanten",
        "tab": "inzage",
        "customer": customer,
        "data": customer_export(customer),
    }
    return render(request, "counter/inzage.html", context)


@counter_view
def inzage_json(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    customer = _customer(desk, number)
    with transaction.atomic():
        customer_export_record(customer=customer, way="json", actor=desk.user)
    response = HttpResponse(
        customer_export_json(customer_export(customer)),
        content_type="application/json; charset=utf-8",
    )
    name = f"inzage-{desk.library.code}-{customer.number}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@counter_view
def history_page(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    customer = _customer(desk, number)
    page = Paginator(customer_audit_events(customer=customer), HISTORY_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    rows = [{"event": event, "label": action_label(event.action)} for event in page]
    context = {
        "desk": desk,
        "section": "klanten",
        "tab": "historie",
        "customer": customer,
        "page": page,
        "rows": rows,
    }
    return render(request, "counter/history.html", context)
