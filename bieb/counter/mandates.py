"""The section "Machtigingen" on the customer page: 'Intrekken' of an active mandate (a reason
if the customer gives one), 'Weer activeren' of a blocked one, 'Machtiging vastleggen' for a
customer without an active one.

Each view reads the form and calls the service (bieb.debits.services), which keeps the rules,
writes the mandate's history and the audit row; a refusal comes back next to its form with
what was typed. Each form carries a one-time key, so a double click changes once. A mandate is
looked up within the desk's library and the customer: any other is a 404.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from bieb.core.dates import local_today
from bieb.counter.access import Desk, counter_view
from bieb.counter.mandate_page import signed_on_parse
from bieb.counter.views import _customer, _customer_url, anonymised_refusal
from bieb.counter.year import _change
from bieb.customers.models import Customer
from bieb.customers.validators import clean_iban, format_iban
from bieb.debits.models import Mandate, MandateKind
from bieb.debits.services import mandate_create, mandate_reactivate, mandate_withdraw

FRAGMENT = "machtigingen"


def _mandate(desk: Desk, customer: Customer, pk: int) -> Mandate:
    mandate = Mandate.objects.filter(pk=pk, customer=customer, library=desk.library).first()
    if mandate is None:
        raise Http404("Geen machtiging van deze klant")
    return mandate


@counter_view
def mandate_withdraw_view(request: HttpRequest, desk: Desk, number: str, pk: int) -> HttpResponse:
    """'Intrekken': no further debits under this mandate."""
    customer = _customer(desk, number)
    if request.method != "POST":
        return redirect(_customer_url(customer, FRAGMENT))
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    mandate = _mandate(desk, customer, pk)
    values = {"reason": request.POST.get("reason", "")[:200]}

    def withdraw() -> str:
        mandate_withdraw(mandate=mandate, actor=desk.user, reason=values["reason"])
        return (
            f"Machtiging {mandate.reference} is ingetrokken: er wordt niet meer van geïncasseerd."
        )

    return _change(
        request,
        desk,
        customer,
        form="mandate_withdraw",
        target=mandate.pk,
        values=values,
        fields=["reason"],
        change=withdraw,
        fragment=FRAGMENT,
    )


@counter_view
def mandate_reactivate_view(request: HttpRequest, desk: Desk, number: str, pk: int) -> HttpResponse:
    """'Weer activeren': a mandate blocked after a refund the customer claimed, renewed because
    the customer agreed again."""
    customer = _customer(desk, number)
    if request.method != "POST":
        return redirect(_customer_url(customer, FRAGMENT))
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    mandate = _mandate(desk, customer, pk)

    def reactivate() -> str:
        mandate_reactivate(mandate=mandate, actor=desk.user)
        return f"Machtiging {mandate.reference} is weer actief."

    return _change(
        request,
        desk,
        customer,
        form="mandate_reactivate",
        target=mandate.pk,
        values={},
        fields=[""],
        change=reactivate,
        fragment=FRAGMENT,
    )


@counter_view
def mandate_create_view(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    """'Machtiging vastleggen': a mandate the customer signed at the desk."""
    customer = _customer(desk, number)
    if request.method != "POST":
        return redirect(_customer_url(customer, FRAGMENT))
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    values = {
        "iban": request.POST.get("iban", "")[:60],
        "holder_name": request.POST.get("holder_name", "")[:200],
        "signed_on": request.POST.get("signed_on", "")[:20],
    }

    def create() -> str:
        try:
            signed_on = signed_on_parse(values["signed_on"], today=local_today())
        except ValidationError as error:
            raise ValidationError({"signed_on": error.messages}) from None
        # The customer's own account keeps its BIC; another is derived from its IBAN.
        try:
            same = bool(customer.iban) and clean_iban(values["iban"]) == customer.iban
        except ValidationError:
            same = False
        try:
            mandate = mandate_create(
                library=desk.library,
                customer=customer,
                iban=values["iban"],
                bic=customer.bic if same else "",
                holder_name=values["holder_name"],
                signed_on=signed_on,
                kind=MandateKind.COUNTER,
                actor=desk.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "bic" in error.error_dict:
                # No BIC field here: a foreign IBAN's bank is said at the IBAN.
                bic = error.error_dict.pop("bic")
                error.error_dict.setdefault("iban", []).extend(bic)
            raise
        return f"Machtiging {mandate.reference} is vastgelegd op IBAN {format_iban(mandate.iban)}."

    return _change(
        request,
        desk,
        customer,
        form="mandate_create",
        target=None,
        values=values,
        fields=["iban", "holder_name", "signed_on"],
        change=create,
        fragment=FRAGMENT,
    )
