"""Pages of the sign-up. The steps themselves are in `steps.py`; here is what surrounds them:
the start, the OpenID Connect login at the KB, the return from the payment, the done page."""

import logging
import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.selectors import customer_saldo
from bieb.customers.validators import masked_iban
from bieb.integrations.kb.client import (
    KBUnavailable,
    LoginFailed,
    login_complete,
    login_redirect,
    secret_from_env,
)
from bieb.libraries.models import Library
from bieb.payments.models import UNPAID_FINAL, UNSETTLED, PaymentStatus
from bieb.payments.providers import ProviderError
from bieb.payments.selectors import payment_get
from bieb.payments.services import payment_sync
from bieb.signup.models import SignupStatus
from bieb.signup.services import signup_get, signup_mandate
from bieb.signup.steps import STEPS, STEPS_BY_NAME, AccountStep, Flow

logger = logging.getLogger(__name__)

CLIENT_ID = "bibliotheek-website"
OIDC_PENDING = "signup:oidc_library"
KB_SLOW = "De inlogdienst reageert niet; probeer het zo opnieuw."


def _client_secret() -> str:
    return secret_from_env("BIEB_WEBSITE_CLIENT_SECRET", CLIENT_ID)


def _callback_url() -> str:
    return f"{settings.BIEB_BASE_URL}{reverse('signup:account_callback')}"


def _library(code: str) -> Library:
    return get_object_or_404(Library, code=code)


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    libraries = Library.objects.filter(
        subscription_types__offered_online=True, subscription_types__active=True
    ).distinct()
    return render(request, "signup/index.html", {"libraries": libraries})


@never_cache
def start(request: HttpRequest, library_code: str) -> HttpResponse:
    flow = Flow(request, _library(library_code))
    if flow.is_done():
        return redirect("signup:done", library_code)
    step = flow.first_incomplete() or STEPS[-1]
    return redirect(flow.url(step.name))


@never_cache
def step(request: HttpRequest, library_code: str, step_name: str) -> HttpResponse:
    current = STEPS_BY_NAME.get(step_name)
    if current is None:
        raise Http404
    flow = Flow(request, _library(library_code))
    if flow.is_done():
        return redirect("signup:done", library_code)
    first = flow.first_incomplete()
    if first is not None and STEPS.index(first) < STEPS.index(current):
        return redirect(flow.url(first.name))
    if request.method == "POST":
        return current.post(flow)
    return current.get(flow)


@never_cache
def account_connect(request: HttpRequest, library_code: str) -> HttpResponse:
    """Where the KB sends the member back to (after activation or login): start the OpenID
    Connect login that tells us which account they have. Works in a fresh browser too (the
    activation link may be opened elsewhere): the subscription comes along in the URL."""
    flow = Flow(request, _library(library_code))
    code = request.GET.get("abonnement", "")
    if not flow.state.data.get("subscription") and flow.offered().filter(code=code).exists():
        flow.state.data["subscription"] = code
    flow.state.save()
    request.session[OIDC_PENDING] = library_code
    try:
        return login_redirect(
            request,
            client_id=CLIENT_ID,
            secret=_client_secret(),
            redirect_uri=_callback_url(),
        )
    except KBUnavailable as error:
        logger.warning("sign-up: login service does not answer: %s", error)
        # Not a 5xx: the session (the member's choices so far) is only saved below 500.
        return STEPS_BY_NAME[AccountStep.name].get(flow, error=KB_SLOW)
    except LoginFailed as error:
        logger.warning("sign-up: OIDC start failed: %s", error)
        return STEPS_BY_NAME[AccountStep.name].get(
            flow, error="De inlogdienst van de KB is nu niet bereikbaar. Probeer het zo opnieuw."
        )


@never_cache
def account_callback(request: HttpRequest) -> HttpResponse:
    library_code = request.session.pop(OIDC_PENDING, None)
    if not library_code:
        return render(
            request,
            "signup/message.html",
            {
                "title": "Inschrijving verlopen",
                "message": (
                    "We weten niet meer bij welke bibliotheek je je inschreef. Begin opnieuw."
                ),
                "link": reverse("signup:index"),
                "link_text": "Opnieuw beginnen",
            },
            status=400,
        )
    flow = Flow(request, _library(library_code))
    try:
        member = login_complete(request, client_id=CLIENT_ID, secret=_client_secret())
    except KBUnavailable as error:
        logger.warning("sign-up: login service does not answer: %s", error)
        return STEPS_BY_NAME[AccountStep.name].get(flow, error=KB_SLOW)
    except LoginFailed as error:
        logger.warning("sign-up: OIDC login failed: %s", error)
        return STEPS_BY_NAME[AccountStep.name].get(
            flow, error="Inloggen bij de KB is niet gelukt. Probeer het opnieuw."
        )
    if member.sub != flow.state.data.get("account_id"):
        flow.state.data["details_ok"] = False
    flow.state.data["username"] = member.username
    flow.state.data["account_id"] = member.sub
    flow.state.data["id_token"] = str(member.token.get("id_token") or "")
    flow.state.data["account_email"] = member.email
    details = flow.state.data.get("details") or {}
    if details and not details.get("email"):
        details["email"] = member.email
    flow.check_details()
    flow.state.save()
    following = flow.first_incomplete()
    return redirect(flow.url((following or STEPS[-1]).name))


@never_cache
def payment_return(request: HttpRequest, library_code: str, public_id: uuid.UUID) -> HttpResponse:
    """Back from the provider's page. The webhook may not have come yet: then we ask the
    provider ourselves (the same idempotent path), and otherwise wait a moment."""
    library = _library(library_code)
    payment = payment_get(library=library, public_id=public_id)
    if payment is None:
        raise Http404
    flow = Flow(request, library)
    ours = flow.state.data.get("key") == payment.reference
    if payment.status in UNSETTLED:
        try:
            payment = payment_sync(payment=payment)
        except ProviderError as error:
            logger.warning("payment %s: status check on return failed: %s", payment.pk, error)
    if payment.status == PaymentStatus.PAID:
        if ours:
            flow.state.data["done"] = True
            flow.state.save()
            return redirect("signup:done", library_code)
        return render(
            request,
            "signup/message.html",
            {
                "library": library,
                "title": "Betaling ontvangen",
                "message": "Je betaling is ontvangen. Je krijgt een bevestiging per mail.",
            },
        )
    if payment.status in UNPAID_FINAL:
        if ours:
            return redirect(flow.url("betalen"))
        return render(
            request,
            "signup/message.html",
            {
                "library": library,
                "title": "Betaling niet gelukt",
                "message": "De betaling is niet gelukt.",
                "link": reverse("signup:start", args=[library_code]),
                "link_text": "Opnieuw beginnen",
            },
        )
    return render(request, "signup/waiting.html", {"library": library, "payment": payment})


@never_cache
def done(request: HttpRequest, library_code: str) -> HttpResponse:
    library = _library(library_code)
    flow = Flow(request, library)
    if not flow.is_done():
        return redirect("signup:start", library_code)
    signup = signup_get(library=library, registration_key=flow.state.key)
    context: dict[str, object] = {"library": library, "signup": signup}
    if signup is not None and signup.status == SignupStatus.COMPLETED and signup.customer:
        membership = signup.membership
        assert membership is not None  # noqa: S101
        context.update(
            customer=signup.customer,
            subscription=membership.subscription_type,
            valid_through=date_nl(membership.valid_through),
            saldo=format_euro(customer_saldo(customer=signup.customer)),
            username=flow.state.data.get("username", ""),
        )
        mandate = signup_mandate(signup)
        if mandate is not None:
            context.update(mandate=mandate, mandate_iban=masked_iban(mandate.iban))
    return render(request, "signup/done.html", context)


@require_POST
def restart(request: HttpRequest, library_code: str) -> HttpResponse:
    Flow(request, _library(library_code)).state.reset()
    return redirect("signup:start", library_code)
