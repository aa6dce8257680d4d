"""The Online Bibliotheek at /online/: members log in through the login service (OpenID
Connect, as a relying party: `bieb.integrations.kb.client`) and see what they may use.

Its own sign-in lives in the session under `online_member` (never the login service's own key).
The entitlement endpoint answers other services, authenticated with a bearer token.
"""

import hmac
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.core.dates import local_today
from bieb.integrations.kb.client import (
    KBUnavailable,
    LoginFailed,
    login_complete,
    login_redirect,
    secret_from_env,
)
from bieb.libraries.models import Library
from bieb.online.selectors import access_from_claims, entitlements_for

logger = logging.getLogger(__name__)

CLIENT_ID = "online-bibliotheek"
SESSION_KEY = "online_member"
KB_SLOW = "De inlogdienst reageert niet; probeer het zo opnieuw."


def _secret() -> str:
    return secret_from_env("BIEB_ONLINE_CLIENT_SECRET", CLIENT_ID)


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    member = request.session.get(SESSION_KEY)
    if not member:
        return render(request, "online/home.html", {"member": None})
    access = access_from_claims(member.get("memberships") or [], today=local_today())
    signup = (
        reverse("signup:start", args=[access.library_code])
        if access.library_code
        else reverse("signup:index")
    )
    # The library to pay or to contact, for its contact details (the claim names it by code).
    concerned = access.to_pay or access.ended_by_library
    library = (
        Library.objects.filter(code=concerned.library_code).first()
        if concerned is not None and not access.ebooks
        else None
    )
    return render(
        request,
        "online/home.html",
        {"member": member, "access": access, "signup_url": signup, "library": library},
    )


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    try:
        return login_redirect(
            request,
            client_id=CLIENT_ID,
            secret=_secret(),
            redirect_uri=f"{settings.BIEB_BASE_URL}{reverse('online:callback')}",
        )
    except KBUnavailable as error:
        logger.warning("online: login service does not answer: %s", error)
        return render(request, "online/home.html", {"member": None, "error": KB_SLOW}, status=503)
    except LoginFailed as error:
        logger.warning("online: OIDC start failed: %s", error)
        return render(
            request,
            "online/home.html",
            {"member": None, "error": "De inlogdienst van de KB is nu niet bereikbaar."},
            status=503,
        )


@never_cache
def callback(request: HttpRequest) -> HttpResponse:
    try:
        member = login_complete(request, client_id=CLIENT_ID, secret=_secret())
    except KBUnavailable as error:
        logger.warning("online: login service does not answer: %s", error)
        return render(request, "online/home.html", {"member": None, "error": KB_SLOW}, status=503)
    except LoginFailed as error:
        logger.warning("online: OIDC login failed: %s", error)
        return render(
            request,
            "online/home.html",
            {"member": None, "error": "Inloggen is niet gelukt. Probeer het opnieuw."},
            status=400,
        )
    request.session.cycle_key()  # a new session id for a new sign-in
    request.session[SESSION_KEY] = {
        "sub": member.sub,
        "username": member.username,
        "email": member.email,
        "memberships": member.memberships,
    }
    return redirect("online:home")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    back = f"{settings.BIEB_BASE_URL}{reverse('online:home')}"
    kb_logout = f"{settings.BIEB_BASE_URL}/kb/uitloggen/?{urlencode({'next': back})}"
    return render(request, "online/logged_out.html", {"kb_logout": kb_logout})


def _bearer_ok(request: HttpRequest) -> bool:
    expected = settings.BIEB_ENTITLEMENTS_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


@never_cache
@require_GET
def entitlements(request: HttpRequest, username: str) -> HttpResponse:
    """`GET /online/api/entitlements/<username>/` with `Authorization: Bearer <token>`, the
    token being BIEB_ENTITLEMENTS_TOKEN (compared in constant time). Without it set, every
    request is refused."""
    if not _bearer_ok(request):
        response = JsonResponse({"error": "unauthorized"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="online-bibliotheek"'
        return response
    return JsonResponse(entitlements_for(username=username, on=local_today()))
