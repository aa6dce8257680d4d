"""Webhooks of the payment providers, and the demo payment service's checkout page."""

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bieb.core.money import format_euro
from bieb.payments.providers import PROVIDERS, ProviderError
from bieb.payments.providers.demo import OUTCOMES, demo_checkout_decide, demo_checkout_get
from bieb.payments.services import payment_webhook

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
