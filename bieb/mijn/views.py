"""Mijn bibliotheek at /mijn/<library>/: the member's own pages at their library.

The library learns who the member is only through the login service (OpenID Connect, as the
sign-up and the Online Bibliotheek: `bieb.integrations.kb.client`): the account's stable id,
the OIDC `sub`, leads to its customer at this library (`bieb.mijn.selectors.member_customers`).
Every page looks that up again within the library of its address, so a member of Bind never
sees anything of Oost, nor of another customer.

Changes go through the services of the customer administration, with the member named in the
audit row ("online:<username>"): address, e-mail and newsletter
(`bieb.customers.member`), "Opzeggen" (`bieb.customers.memberships.membership_cancel`, with a
one-time key so a double tap cancels once). Paying is the membership year's own payment link.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bieb.core.dates import date_nl, local_today
from bieb.core.submissions import (
    AlreadySubmitted,
    submission_claim,
    submission_claimed,
    submission_key_parse,
)
from bieb.customers.export import customer_export, customer_export_json, customer_export_record
from bieb.customers.member import CONTACT_FIELDS, contact_clean, customer_contact_update
from bieb.customers.memberships import membership_cancel
from bieb.customers.models import CancelReason, Customer
from bieb.customers.validators import country_choices, masked_iban
from bieb.integrations.kb.client import (
    KBUnavailable,
    LoginFailed,
    SignedOut,
    kb_base_url,
    kb_in_process,
    login_complete,
    login_redirect,
    member_check,
    secret_from_env,
    token_revoke,
)
from bieb.libraries.models import Library
from bieb.mijn.selectors import (
    member_customers,
    member_ledger,
    member_membership,
    member_overview,
)
from bieb.mijn.session import (
    SignedIn,
    member_sign_in,
    member_sign_out,
    member_signed_in,
    member_token_keep,
)

logger = logging.getLogger(__name__)

CLIENT_ID = "mijn-bibliotheek"
PENDING = "mijn:login"  # the library (and page) a sign-in at the login service is for
CHOSEN = "mijn:klant:"  # + library code: the customer number a member with two chose
KEPT = "mijn:kept:"  # + library code: a form sent after the sign-in ran out
KB_SLOW = "De inlogdienst reageert niet; probeer het zo opnieuw."
KB_DOWN = "De inlogdienst van de KB is nu niet bereikbaar. Probeer het zo opnieuw."
# "Inlogaccount beheren" leads to the login service's own page (DESIGN, flow G).
KB_ACCOUNT_PATH = "/kb/account/"
# The reasons a member may give; "Overleden" is for the counter.
MEMBER_CANCEL_REASONS = [(v, label) for v, label in CancelReason.choices if v != "overleden"]

P = ParamSpec("P")


def _kb_site() -> str:
    """Where members' browsers reach the login service's pages: this site (""), or the KB's
    own (BIEB_ROLE=library)."""
    return "" if kb_in_process() else kb_base_url()


def _secret() -> str:
    return secret_from_env("BIEB_MIJN_CLIENT_SECRET", CLIENT_ID)


def _home(library: Library) -> str:
    return reverse("mijn:home", args=[library.code])


@dataclass(frozen=True)
class Visit:
    """A page of Mijn bibliotheek: the library in its address, who is signed in, and which of
    this library's customers that account is."""

    library: Library
    member: SignedIn
    customer: Customer
    customers: list[Customer]

    def context(self, section: str, **extra: Any) -> dict[str, Any]:
        return {
            "library": self.library,
            "member": self.member,
            "customer": self.customer,
            "customers": self.customers,
            "section": section,
            "kb_account_url": f"{_kb_site()}{KB_ACCOUNT_PATH}",
            **extra,
        }


def _message(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    library: Library | None = None,
    link: str = "",
    link_text: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "library": library,
        "title": title,
        "message": message,
        "link": link,
        "link_text": link_text,
    }
    return render(request, "mijn/message.html", context, status=status)


def _keep_form(request: HttpRequest, library: Library) -> None:
    """A form sent after the sign-in ran out: keep what was typed (never the CSRF token), so
    that the page shows it again after signing in."""
    if request.path != reverse("mijn:details", args=[library.code]):
        return
    request.session[KEPT + library.code] = {
        name: request.POST.get(name, "")[:300] for name in CONTACT_FIELDS
    }


def mijn_page(
    view: Callable[Concatenate[HttpRequest, Visit, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """A page for a signed-in member who is a customer of the library in the address. Not
    signed in: to the login service, and back to this page. Signed in but no customer here: a
    page that says so, with the sign-up."""

    @wraps(view)
    @never_cache
    def wrapper(
        request: HttpRequest, library_code: str, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        library = get_object_or_404(Library, code=library_code)
        member = _member_current(request)
        if member is None:
            back = request.get_full_path()
            if request.method == "POST":
                _keep_form(request, library)
                back = request.path
            login = reverse("mijn:login", args=[library.code])
            return redirect(f"{login}?{urlencode({'next': back})}")
        customers = member_customers(library=library, account_id=member.sub)
        if not customers:
            return _no_customer(request, library, member)
        chosen = request.session.get(CHOSEN + library.code)
        customer = next((c for c in customers if c.number == chosen), customers[0])
        visit = Visit(library=library, member=member, customer=customer, customers=customers)
        return view(request, visit, *args, **kwargs)

    return wrapper


def _member_current(request: HttpRequest) -> SignedIn | None:
    """The member signed in here, if the login service still honours the sign-in (asked again
    on each page, as the Online Bibliotheek does). When it does not answer, the member stays
    signed in: the pages are the library's own data, and the idle limit still holds."""
    member = member_signed_in(request)
    if member is None:
        return None
    try:
        fresh = member_check(
            client_id=CLIENT_ID, secret=_secret(), sub=member.sub, token=member.token
        )
    except SignedOut as error:
        logger.info("mijn: the login service ended the sign-in: %s", error)
        member_sign_out(request)
        return None
    except LoginFailed as error:
        logger.warning("mijn: login service does not answer, going on: %s", error)
        return member
    member_token_keep(request, fresh.token)
    return member


def _no_customer(request: HttpRequest, library: Library, member: SignedIn) -> HttpResponse:
    """Signed in, but this account is no customer of this library: say so, and where it is."""
    elsewhere = (
        Library.objects.filter(customers__login_account_id=member.sub)
        .exclude(pk=library.pk)
        .distinct()
        .order_by("name")
    )
    context = {
        "library": library,
        "member": member,
        "elsewhere": list(elsewhere),
        "signup_url": reverse("signup:start", args=[library.code]),
        "kb_account_url": f"{_kb_site()}{KB_ACCOUNT_PATH}",
    }
    return render(request, "mijn/no_customer.html", context)


# --- signing in and out ----------------------------------------------------------------------


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    libraries = Library.objects.order_by("name")
    return render(request, "mijn/index.html", {"libraries": libraries})


def _safe_next(library: Library, url: str) -> str:
    prefix = _home(library)
    return url if url.startswith(prefix) and "//" not in url and "\\" not in url else prefix


@never_cache
def login(request: HttpRequest, library_code: str) -> HttpResponse:
    """Start the sign-in at the login service; the callback brings the member back to the page
    they asked for (of this library only)."""
    library = get_object_or_404(Library, code=library_code)
    request.session[PENDING] = {
        "library": library.code,
        "next": _safe_next(library, request.GET.get("next", "")),
    }
    try:
        return login_redirect(
            request,
            client_id=CLIENT_ID,
            secret=_secret(),
            redirect_uri=f"{settings.BIEB_BASE_URL}{reverse('mijn:callback')}",
        )
    except KBUnavailable as error:
        logger.warning("mijn: login service does not answer: %s", error)
        return _message(
            request, title="Inloggen lukt nu niet", message=KB_SLOW, library=library, status=503
        )
    except LoginFailed as error:
        logger.warning("mijn: OIDC start failed: %s", error)
        return _message(
            request, title="Inloggen lukt nu niet", message=KB_DOWN, library=library, status=503
        )


@never_cache
def callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(PENDING, None)
    library = (
        Library.objects.filter(code=pending.get("library", "")).first()
        if isinstance(pending, dict)
        else None
    )
    if library is None:
        return _message(
            request,
            title="Inloggen verlopen",
            message="We weten niet meer waar je naartoe wilde. Kies je bibliotheek opnieuw.",
            link=reverse("mijn:index"),
            link_text="Naar Mijn bibliotheek",
            status=400,
        )
    try:
        member = login_complete(request, client_id=CLIENT_ID, secret=_secret())
    except KBUnavailable as error:
        logger.warning("mijn: login service does not answer: %s", error)
        return _message(
            request, title="Inloggen lukt nu niet", message=KB_SLOW, library=library, status=503
        )
    except LoginFailed as error:
        logger.warning("mijn: OIDC login failed: %s", error)
        return _message(
            request,
            title="Inloggen niet gelukt",
            message="Inloggen bij de KB is niet gelukt. Probeer het opnieuw.",
            library=library,
            link=reverse("mijn:login", args=[library.code]),
            link_text="Opnieuw inloggen",
            status=400,
        )
    member_sign_in(request, member)
    return redirect(_safe_next(library, str(pending.get("next", ""))))


@require_POST
def logout(request: HttpRequest, library_code: str) -> HttpResponse:
    """Sign out of Mijn bibliotheek; the page offers to sign out at the login service too
    (on a shared computer the next user would otherwise be signed in without a password)."""
    library = get_object_or_404(Library, code=library_code)
    token_revoke(client_id=CLIENT_ID, secret=_secret(), token=member_sign_out(request))
    back = f"{settings.BIEB_BASE_URL}{_home(library)}"
    kb_logout = f"{kb_base_url()}/kb/uitloggen/?{urlencode({'next': back})}"
    return render(request, "mijn/logged_out.html", {"library": library, "kb_logout": kb_logout})


@require_POST
@mijn_page
def choose(request: HttpRequest, visit: Visit) -> HttpResponse:
    """A member with two customer numbers here picks the one to see."""
    number = request.POST.get("number", "")
    if any(c.number == number for c in visit.customers):
        request.session[CHOSEN + visit.library.code] = number
    return redirect(_home(visit.library))


# --- the pages -------------------------------------------------------------------------------


@mijn_page
def home(request: HttpRequest, visit: Visit) -> HttpResponse:
    overview = member_overview(customer=visit.customer, today=local_today())
    return render(request, "mijn/home.html", visit.context("home", overview=overview))


@mijn_page
def ledger(request: HttpRequest, visit: Visit) -> HttpResponse:
    overview = member_overview(customer=visit.customer, today=local_today())
    rows = member_ledger(customer=visit.customer)
    context = visit.context("betalingen", overview=overview, rows=rows)
    return render(request, "mijn/ledger.html", context)


def _contact_values(customer: Customer) -> dict[str, str]:
    return {
        "country": customer.country,
        "postcode": customer.postcode_display,
        "house_number": str(customer.house or ""),
        "email": customer.email,
        "newsletter": "ja" if customer.newsletter else "",
    }


@mijn_page
def details(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Address, the library's e-mail address and the newsletter."""
    customer = visit.customer
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "")[:300] for name in CONTACT_FIELDS}
        try:
            contact = contact_clean(values, email_required=customer.uses_login_account)
            changed = customer_contact_update(
                customer=customer, details=contact, actor_name=visit.member.actor_name
            )
        except ValidationError as error:
            errors = error.message_dict
            status = 400
        else:
            if changed:
                messages.success(request, "Je gegevens zijn opgeslagen.")
            else:
                messages.info(request, "Er is niets gewijzigd.")
            return redirect("mijn:details", visit.library.code)
    elif (kept := request.session.pop(KEPT + visit.library.code, None)) is not None:
        values = {name: str(kept.get(name, "")) for name in CONTACT_FIELDS}
        messages.info(
            request,
            "Je was uitgelogd. Wat je had ingevuld staat er weer: controleer het en sla het op.",
        )
    else:
        values = _contact_values(customer)
    focus = next((name for name in CONTACT_FIELDS if errors.get(name)), "")
    context = visit.context(
        "gegevens",
        values=values,
        errors=errors,
        focus=focus,
        countries=country_choices(),
        iban=masked_iban(customer.iban) if customer.iban else "",
        consent_at=timezone.localtime(customer.newsletter_consent_at)
        if customer.newsletter and customer.newsletter_consent_at
        else None,
    )
    return render(request, "mijn/details.html", context, status=status)


@mijn_page
def cancel(request: HttpRequest, visit: Visit, pk: int) -> HttpResponse:
    """The member's "Opzeggen": first the question (per which date, why), then the
    cancellation, once."""
    membership = member_membership(customer=visit.customer, pk=pk)
    if membership is None:
        return _message(
            request,
            title="Abonnement niet gevonden",
            message="Dit abonnement hoort niet bij je klantnummer.",
            library=visit.library,
            link=_home(visit.library),
            link_text="Naar Mijn bibliotheek",
            status=404,
        )
    key = submission_key_parse(request.POST.get("once"))
    if request.method == "POST" and key is not None and submission_claimed(key=key):
        return redirect(_home(visit.library))  # a double tap: the first one did it, and said so
    overview = member_overview(customer=visit.customer, today=local_today())
    card = next(c for c in overview.cards if c.membership.pk == membership.pk)
    if not card.can_cancel:
        messages.info(request, f"{membership.subscription_type.name}: {card.status}.")
        return redirect(_home(visit.library))
    reason = request.POST.get("reason", "")
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        try:
            if key is None:
                raise ValidationError("Dit formulier is verlopen; probeer het opnieuw.")
            if reason not in dict(MEMBER_CANCEL_REASONS):
                raise ValidationError({"reason": "Kies waarom je opzegt."})
            with transaction.atomic():
                submission_claim(key=key, scope="mijn.cancel")
                done = membership_cancel(
                    membership=membership,
                    reason=reason,
                    actor=None,
                    actor_name=visit.member.actor_name,
                )
        except AlreadySubmitted:
            return redirect(_home(visit.library))  # the first submit did it (and said so)
        except ValidationError as error:
            if not hasattr(error, "error_dict") and error.code in {"cancelled", "closed"}:
                messages.info(request, error.messages[0])  # cancelled meanwhile, elsewhere
                return redirect(_home(visit.library))
            if hasattr(error, "error_dict"):
                errors = error.message_dict
            else:
                general = error.messages
        else:
            assert done.ends_on is not None  # noqa: S101  (set by the cancellation)
            mail = " Je krijgt een bevestiging per mail." if visit.customer.email else ""
            messages.success(
                request,
                f"Je abonnement {done.subscription_type.name} is opgezegd per "
                f"{date_nl(done.ends_on)}.{mail}",
            )
            return redirect(_home(visit.library))
    context = visit.context(
        "home",
        card=card,
        reason=reason,
        reasons=MEMBER_CANCEL_REASONS,
        errors=errors,
        general=general,
        once=key or uuid.uuid4(),
    )
    status = 400 if errors or general else 200
    return render(request, "mijn/cancel.html", context, status=status)


@mijn_page
def export_page(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The member's "Download mijn gegevens": everything the library holds, readable, with
    the JSON file to download."""
    with transaction.atomic():
        customer_export_record(
            customer=visit.customer, way="pagina", actor=None, actor_name=visit.member.actor_name
        )
    data = customer_export(visit.customer)
    return render(request, "mijn/export.html", visit.context("gegevens", data=data))


@mijn_page
def export_json(request: HttpRequest, visit: Visit) -> HttpResponse:
    with transaction.atomic():
        customer_export_record(
            customer=visit.customer, way="json", actor=None, actor_name=visit.member.actor_name
        )
    data = customer_export(visit.customer)
    response = HttpResponse(
        customer_export_json(data), content_type="application/json; charset=utf-8"
    )
    name = f"mijn-gegevens-{visit.library.code}-{visit.customer.number}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
