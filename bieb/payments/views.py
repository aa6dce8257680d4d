"""Webhooks of the payment providers, and the demo payment service's checkout page."""

import logging
import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.models import MembershipPeriod, PeriodState
from bieb.customers.year import period_from_token
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


def _period_or_404(token: str) -> MembershipPeriod:
    period = period_from_token(token)
    if period is None:
        raise Http404("Deze betaallink klopt niet of is te oud.")
    return period


@never_cache
def period_pay(request: HttpRequest, token: str) -> HttpResponse:
    """Renew and pay, or pay, one period without logging in: the page shows only the library,
    the name, the period and the amount. "Betalen" goes to the library's payment provider."""
    period = _period_or_404(token)
    membership = period.membership
    context: dict[str, object] = {
        "library": period.library,
        "period": period,
        "name": membership.customer.display_name,
        "subscription": period.subscription_type.label,
        "start": date_nl(period.start),
        "end": date_nl(period.end),
        "renew": period.state == PeriodState.OFFERED,
    }
    try:
        amount = period_payable(period)
    except NothingToPay as reason:
        context["closed"] = str(reason)
        return render(request, "payments/period_pay.html", context)
    context["amount"] = format_euro(amount)
    if request.method == "POST":
        try:
            payment = period_payment_start(
                period=period,
                return_url=lambda public_id: (
                    f"{settings.BIEB_BASE_URL}"
                    f"{reverse('payments:period_return', args=[token, public_id])}"
                ),
            )
        except NothingToPay as reason:
            context["closed"] = str(reason)
            return render(request, "payments/period_pay.html", context)
        except ProviderError as error:
            logger.warning("period %s: payment start failed: %s", period.pk, error)
            context["error"] = "De betaaldienst is nu niet bereikbaar. Probeer het zo opnieuw."
            return render(request, "payments/period_pay.html", context, status=503)
        if payment.status == PaymentStatus.PAID:
            return redirect("payments:period_pay", token)
        if not payment.checkout_url:
            context["error"] = "Online betalen kan bij deze bibliotheek niet; betaal aan de balie."
            return render(request, "payments/period_pay.html", context, status=400)
        return redirect(payment.checkout_url)
    return render(request, "payments/period_pay.html", context)


@never_cache
def period_return(request: HttpRequest, token: str, public_id: uuid.UUID) -> HttpResponse:
    """Back from the provider: paid (the rights are back), not paid (try again), or wait."""
    period = _period_or_404(token)
    payment = Payment.objects.filter(
        public_id=public_id, purpose=PERIOD_PURPOSE, reference=str(period.pk)
    ).first()
    if payment is None:
        raise Http404
    if payment.status in UNSETTLED:
        try:
            payment = payment_sync(payment=payment)
        except ProviderError as error:
            logger.warning("payment %s: status check on return failed: %s", payment.pk, error)
    period.refresh_from_db()
    membership = period.membership
    membership.refresh_from_db()
    context: dict[str, object] = {
        "library": period.library,
        "period": period,
        "name": membership.customer.display_name,
        "subscription": period.subscription_type.label,
        "start": date_nl(period.start),
        "end": date_nl(period.end),
        "payment": payment,
        "pay_url": reverse("payments:period_pay", args=[token]),
        "rights_through": date_nl(membership.rights_through) if membership.rights_through else "",
    }
    if payment.status == PaymentStatus.PAID:
        return render(request, "payments/period_paid.html", context)
    if payment.status in UNPAID_FINAL:
        context["failed"] = True
        return render(request, "payments/period_paid.html", context)
    return render(request, "payments/period_waiting.html", context)
