"""Webhooks of the payment providers, and the demo payment service's checkout page."""

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bieb.core.dates import date_nl
from bieb.core.http import client_address
from bieb.core.money import format_euro
from bieb.customers.models import MembershipPeriod, PeriodState
from bieb.customers.year import period_from_token
from bieb.libraries.models import Library
from bieb.payments.models import UNPAID_FINAL, UNSETTLED, Payment, PaymentStatus
from bieb.payments.periods import PURPOSE as PERIOD_PURPOSE
from bieb.payments.periods import NothingToPay, period_payable, period_payment_start
from bieb.payments.providers import PROVIDERS, ProviderError
from bieb.payments.providers.demo import OUTCOMES, demo_checkout_decide, demo_checkout_get
from bieb.payments.services import payment_sync, payment_webhook

logger = logging.getLogger(__name__)


@csrf_exempt  # the provider posts here, server to server; the body is only a hint (an id)
@require_POST
def webhook(request: HttpRequest, provider_code: str) -> HttpResponse:
    provider = PROVIDERS.get(provider_code)
    # A provider that is not set up here (the demo service outside demo mode, Mollie without
    # a key) has no webhook: nothing could be fetched from it anyway.
    if provider is None or not provider.online or not provider.is_available():
        raise Http404
    provider_id = request.POST.get("id", "").strip()
    if not provider_id or len(provider_id) > 64:
        return HttpResponse("missing id", status=400, content_type="text/plain")
    try:
        payment_webhook(provider_code=provider_code, provider_id=provider_id)
    except ProviderError as error:
        # The provider retries a webhook that fails; by then its API may answer again.
        logger.warning("webhook %s %s: %s", provider_code, provider_id, error)
        return HttpResponse("try again", status=503, content_type="text/plain")
    # Unknown ids get the same answer: a webhook must not tell which ids exist.
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def demo_checkout(request: HttpRequest, checkout_id: str) -> HttpResponse:
    if not PROVIDERS["demo"].is_available():
        raise Http404
    checkout = demo_checkout_get(checkout_id=checkout_id)
    if checkout is None:
        raise Http404
    if request.method == "POST":
        outcome = request.POST.get("uitkomst", "")
        if outcome in OUTCOMES:
            checkout = demo_checkout_decide(checkout_id=checkout.id, outcome=outcome)
            return redirect(checkout.redirect_url)
    if checkout.decided_at is not None:
        return redirect(checkout.redirect_url)
    context = {"checkout": checkout, "amount": format_euro(checkout.amount)}
    return render(request, "payments/demo_checkout.html", context)


# --- the member's payment link of a membership period (renewal mails, /online/) --------------
#
# The page a member opens from a mail on a phone, without logging in: the library, the name,
# the period and the amount, one big button, the library's contact details, and for every
# state a Dutch sentence of what happened and what to do. "Betalen" twice (a double click, a
# refresh, a second tab) gives one payment: `period_payment_start` reuses the open one.

UNKNOWN_LINK = "payments/period_unknown.html"
HEADINGS = {
    "paid": "Al betaald",
    "cancelled": "Deze betaallink werkt niet meer",
    "ended": "Abonnement beëindigd",
}
PROVIDER_DOWN = (
    "De betaaldienst is nu niet bereikbaar; er is niets betaald. Probeer het over een paar "
    "minuten opnieuw, of betaal aan de balie van de bibliotheek."
)


def _period_context(period: MembershipPeriod) -> dict[str, object]:
    membership = period.membership
    return {
        "library": period.library,
        "period": period,
        "name": membership.customer.display_name,
        "subscription": period.subscription_type.label,
        "start": date_nl(period.start),
        "end": date_nl(period.end),
        "old_end": date_nl(period.start - dt.timedelta(days=1)),
        "renew": period.state == PeriodState.OFFERED,
    }


def _unknown_link(request: HttpRequest) -> HttpResponse:
    return render(request, UNKNOWN_LINK, status=404)


def _online_payment_refused(library: Library) -> str:
    """Why members of this library cannot pay online now ("" when they can)."""
    provider = PROVIDERS.get(library.payment_provider)
    if provider is None or not provider.online:
        return (
            "Online betalen kan bij deze bibliotheek niet. Betaal aan de balie van een vestiging."
        )
    if not provider.is_available():
        return PROVIDER_DOWN
    return ""


@never_cache
def period_pay(request: HttpRequest, token: str) -> HttpResponse:
    """Renew and pay, or pay, one period without logging in: the page shows only the library,
    the name, the period and the amount. "Betalen" goes to the library's payment provider."""
    period = period_from_token(token)
    if period is None:
        return _unknown_link(request)
    context = _period_context(period)
    context["token"] = token
    try:
        amount = period_payable(period)
    except NothingToPay as reason:
        context.update(closed=str(reason), closed_title=HEADINGS[reason.code], state=reason.code)
        return render(request, "payments/period_pay.html", context)
    context["amount"] = format_euro(amount)
    refused = _online_payment_refused(period.library)
    if refused:
        context["refused"] = refused
        return render(request, "payments/period_pay.html", context)
    if request.method == "POST":
        try:
            payment = period_payment_start(
                period=period,
                return_url=lambda public_id: (
                    f"{settings.BIEB_BASE_URL}"
                    f"{reverse('payments:period_return', args=[token, public_id])}"
                ),
            )
        except NothingToPay:
            return redirect("payments:period_pay", token)  # paid or closed meanwhile: say so
        except ProviderError as error:
            logger.warning("period %s: payment start failed: %s", period.pk, error)
            context["error"] = PROVIDER_DOWN
            return render(request, "payments/period_pay.html", context, status=503)
        if payment.status == PaymentStatus.PAID:
            return redirect("payments:period_pay", token)
        if not payment.checkout_url:  # the provider ended it at once (failed, expired)
            context["error"] = PROVIDER_DOWN
            return render(request, "payments/period_pay.html", context, status=503)
        return redirect(payment.checkout_url)
    return render(request, "payments/period_pay.html", context)


@never_cache
def period_debit(request: HttpRequest, token: str) -> HttpResponse:
    """The same period paid by direct debit: an electronic mandate (IBAN, account holder, the
    consent) and a debit on the library's next collection day; a mail announces it. Once done,
    the page says when and from which account."""
    from bieb.customers.validators import format_iban, masked_iban
    from bieb.debits.online import period_consent_text, period_open_debit, period_pay_by_debit

    period = period_from_token(token)
    if period is None:
        return _unknown_link(request)
    context = _period_context(period)
    context["token"] = token
    library = period.library
    planned = period_open_debit(period)
    if planned is not None:
        if request.method == "POST":  # a second click: the first one did it
            return redirect("payments:period_debit", token)
        context.update(
            planned=planned,
            amount=format_euro(planned.amount),
            collection_date=date_nl(planned.collection_date),
            iban=masked_iban(planned.mandate.iban),
        )
        return render(request, "payments/period_debit.html", context)
    if not library.debits_enabled:
        context["refused"] = (
            "Automatische incasso kan bij deze bibliotheek (nog) niet. Betaal online of aan de "
            "balie."
        )
        return render(request, "payments/period_debit.html", context)
    try:
        amount = period_payable(period)
    except NothingToPay as reason:
        context.update(closed=str(reason), closed_title=HEADINGS[reason.code], state=reason.code)
        return render(request, "payments/period_debit.html", context)
    customer = period.membership.customer
    context.update(
        amount=format_euro(amount),
        consent_text=period_consent_text(period),
        iban_value=format_iban(customer.iban) if customer.iban else "",
        holder_value=" ".join(
            p for p in (customer.initials, customer.prefix, customer.surname) if p
        ),
    )
    if request.method == "POST":
        iban = request.POST.get("iban", "")[:60]
        holder = request.POST.get("holder_name", "")[:100]
        context.update(iban_value=iban, holder_value=holder, consent_checked=True)
        try:
            period_pay_by_debit(
                period=period,
                iban=iban,
                holder_name=holder,
                consent_given=request.POST.get("consent") == "ja",
                ip=client_address(request),
                user_agent=request.headers.get("User-Agent", "")[:300],
            )
        except ValidationError as error:
            context["consent_checked"] = request.POST.get("consent") == "ja"
            context["errors"] = (
                error.message_dict if hasattr(error, "error_dict") else {"page": error.messages}
            )
            return render(request, "payments/period_debit.html", context, status=400)
        return redirect("payments:period_debit", token)
    return render(request, "payments/period_debit.html", context)


@never_cache
def period_return(request: HttpRequest, token: str, public_id: uuid.UUID) -> HttpResponse:
    """Back from the provider: paid (the rights are back), not paid (try again), or wait."""
    period = period_from_token(token)
    if period is None:
        return _unknown_link(request)
    payment = Payment.objects.filter(
        public_id=public_id, purpose=PERIOD_PURPOSE, reference=str(period.pk)
    ).first()
    if payment is None:
        return _unknown_link(request)
    if payment.status in UNSETTLED:
        try:
            payment = payment_sync(payment=payment)
        except ProviderError as error:
            logger.warning("payment %s: status check on return failed: %s", payment.pk, error)
    period.refresh_from_db()
    membership = period.membership
    membership.refresh_from_db()
    context = _period_context(period)
    context.update(
        payment=payment,
        pay_url=reverse("payments:period_pay", args=[token]),
        rights_through=date_nl(membership.rights_through) if membership.rights_through else "",
        digital=period.subscription_type.has_digital_rights,
        paid_amount=format_euro(payment.amount),
    )
    if payment.status == PaymentStatus.PAID:
        return render(request, "payments/period_paid.html", context)
    if payment.status in UNPAID_FINAL:
        context["failed"] = True
        return render(request, "payments/period_paid.html", context)
    return render(request, "payments/period_waiting.html", context)
