"""The membership year on the customer page: 'Verlengen', 'Opzeggen' and 'Wijzig abonnement'
per membership, and the ledger's corrections: 'Storno' of a line, 'Terugbetaling' and
'Kwijtschelden'.

Each view only reads the form and calls the service (bieb.customers.memberships,
bieb.customers.ledger), which checks the rules and the rights; a refusal comes back on the
customer page next to its form with what was typed (403 when the staff member may not do it at
all, e.g. a forged storno). Each form carries a one-time key, so a double click books once.
After 'Verlengen' the page opens at the desk payment with the saldo prefilled, as after the
registration.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from bieb.core.dates import date_nl
from bieb.core.money import format_euro, money_parse
from bieb.counter.access import Desk, counter_view
from bieb.counter.fields import error_lists, first_error
from bieb.counter.views import (
    _customer,
    _customer_page,
    _customer_url,
    _once,
    anonymised_refusal,
)
from bieb.counter.year_page import CANCEL_AT_ONCE, CANCEL_AT_PERIOD_END, refund_method
from bieb.customers.ledger import ledger_refund, ledger_storno, ledger_write_off
from bieb.customers.memberships import membership_cancel, membership_change, membership_renew
from bieb.customers.models import Customer, LedgerLine, Membership
from bieb.customers.selectors import customer_saldo
from bieb.customers.year import ONE_DAY

Change = Callable[[], str]  # does the change; returns the message for staff


def _change(
    request: HttpRequest,
    desk: Desk,
    customer: Customer,
    *,
    form: str,
    target: int | None,
    values: dict[str, str],
    fields: list[str],
    change: Change,
    fragment: str,
) -> HttpResponse:
    """Run one of the year's changes once, and answer: the page at `fragment` with the
    change's message, or the page again with the form as typed and its errors."""
    said: list[str] = []
    try:
        done = _once(request, scope=f"counter.{form}", change=lambda: said.append(change()))
    except ValidationError as error:
        errors = error_lists(error)
        forbidden = not hasattr(error, "error_dict") and error.code == "forbidden"
        action = {
            "form": form,
            "target": target,
            "values": values,
            "errors": errors,
            "general": errors.get("", []),
            "focus": first_error(fields, errors) or ("" if forbidden else fields[0]),
        }
        status = 403 if forbidden else 400
        return _customer_page(request, desk, customer, action=action, status=status)
    if done:
        messages.success(request, said[0], extra_tags=fragment)
    return redirect(_customer_url(customer, fragment))


def _year_view(
    view: Callable[[HttpRequest, Desk, Customer, int], HttpResponse],
) -> Callable[..., HttpResponse]:
    """A change answers GET with the customer page (after the library check)."""

    def wrapper(request: HttpRequest, desk: Desk, number: str, pk: int) -> HttpResponse:
        customer = _customer(desk, number)
        if request.method != "POST":
            return redirect(_customer_url(customer))
        if (refused := anonymised_refusal(request, customer)) is not None:
            return refused
        return view(request, desk, customer, pk)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return counter_view(wrapper)


def _membership(customer: Customer, pk: int) -> Membership:
    membership = Membership.objects.filter(
        pk=pk, customer=customer, library_id=customer.library_id
    ).first()
    if membership is None:
        raise Http404("Geen abonnement van deze klant")
    return membership


# --- Abonnementen ----------------------------------------------------------------------------


@_year_view
def membership_renew_view(
    request: HttpRequest, desk: Desk, customer: Customer, pk: int
) -> HttpResponse:
    """'Verlengen': the next period booked; then the desk payment, the saldo prefilled."""
    membership = _membership(customer, pk)

    def renew() -> str:
        period = membership_renew(membership=membership, actor=desk.user)
        return (
            f"{period.subscription_type.label} is verlengd: {date_nl(period.start)} t/m "
            f"{date_nl(period.end)}, {format_euro(period.amount)} geboekt."
        )

    response = _change(
        request,
        desk,
        customer,
        form="renew",
        target=membership.pk,
        values={},
        fields=[""],
        change=renew,
        fragment="financieel",
    )
    if response.status_code == 302 and customer_saldo(customer=customer) > 0:
        return redirect(_customer_url(customer).rstrip("#") + "?betalen=1#financieel")
    return response


@_year_view
def membership_cancel_view(
    request: HttpRequest, desk: Desk, customer: Customer, pk: int
) -> HttpResponse:
    """'Opzeggen': a reason, and per the end of the current period or at once."""
    membership = _membership(customer, pk)
    values = {
        "reason": request.POST.get("reason", ""),
        "per": request.POST.get("per", ""),
    }

    def cancel() -> str:
        if values["per"] not in (CANCEL_AT_PERIOD_END, CANCEL_AT_ONCE):
            raise ValidationError({"per": "Kies per wanneer het abonnement stopt."})
        done = membership_cancel(
            membership=membership,
            reason=values["reason"],
            at_once=values["per"] == CANCEL_AT_ONCE,
            actor=desk.user,
        )
        assert done.ends_on is not None  # noqa: S101  (set by the cancellation)
        mail = " De klant krijgt een bevestiging per mail." if customer.email else ""
        return f"{done.subscription_type.label} is opgezegd per {date_nl(done.ends_on)}.{mail}"

    return _change(
        request,
        desk,
        customer,
        form="cancel",
        target=membership.pk,
        values=values,
        fields=["reason", "per"],
        change=cancel,
        fragment="abonnementen",
    )


@_year_view
def membership_change_view(
    request: HttpRequest, desk: Desk, customer: Customer, pk: int
) -> HttpResponse:
    """'Wijzig abonnement': another subscription type from the next period on."""
    membership = _membership(customer, pk)
    values = {"subscription_type": request.POST.get("subscription_type", "")}

    def change() -> str:
        subscription = desk.library.subscription_types.filter(
            code=values["subscription_type"], active=True
        ).first()
        if subscription is None:
            raise ValidationError({"subscription_type": "Kies een abonnement."})
        done = membership_change(
            membership=membership, subscription_type=subscription, actor=desk.user
        )
        start = date_nl(done.valid_through + ONE_DAY)
        return f"Vanaf de volgende periode ({start}): {subscription.label}."

    return _change(
        request,
        desk,
        customer,
        form="change",
        target=membership.pk,
        values=values,
        fields=["subscription_type"],
        change=change,
        fragment="abonnementen",
    )


# --- Financieel: corrections -----------------------------------------------------------------


@_year_view
def line_storno_view(request: HttpRequest, desk: Desk, customer: Customer, pk: int) -> HttpResponse:
    """'Storno' of one ledger line, with its reason."""
    line = LedgerLine.objects.filter(
        pk=pk, customer=customer, library_id=customer.library_id
    ).first()
    if line is None:
        raise Http404("Geen boeking van deze klant")
    values = {"reason": request.POST.get("reason", "")}

    def storno() -> str:
        ledger_storno(actor=desk.user, line=line, reason=values["reason"])
        return f"Storno geboekt: {line.description} ({format_euro(line.amount)})."

    return _change(
        request,
        desk,
        customer,
        form="storno",
        target=line.pk,
        values=values,
        fields=["reason"],
        change=storno,
        fragment="financieel",
    )


def _amount(text: str) -> Any:
    try:
        return money_parse(text)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None


@counter_view
def refund_view(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    """'Terugbetaling' (finance permission): money the customer has in credit paid back."""
    customer = _customer(desk, number)
    if request.method != "POST":
        return redirect(_customer_url(customer))
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    values = {
        "amount": request.POST.get("amount", ""),
        "method": request.POST.get("method", ""),
        "reason": request.POST.get("reason", ""),
    }

    def refund() -> str:
        line = ledger_refund(
            actor=desk.user,
            customer=customer,
            amount=_amount(values["amount"]),
            method=refund_method(values["method"]),
            reason=values["reason"],
        )
        return f"Terugbetaling van {format_euro(line.amount)} is geboekt."

    return _change(
        request,
        desk,
        customer,
        form="refund",
        target=None,
        values=values,
        fields=["amount", "method", "reason"],
        change=refund,
        fragment="financieel",
    )


@counter_view
def write_off_view(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    """'Kwijtschelden' (finance permission): (part of) the open saldo forgiven."""
    customer = _customer(desk, number)
    if request.method != "POST":
        return redirect(_customer_url(customer))
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    values = {"amount": request.POST.get("amount", ""), "reason": request.POST.get("reason", "")}

    def write_off() -> str:
        line = ledger_write_off(
            actor=desk.user,
            customer=customer,
            amount=_amount(values["amount"]),
            reason=values["reason"],
        )
        return f"Kwijtschelding van {format_euro(-line.amount)} is geboekt."

    return _change(
        request,
        desk,
        customer,
        form="write_off",
        target=None,
        values=values,
        fields=["amount", "reason"],
        change=write_off,
        fragment="financieel",
    )
