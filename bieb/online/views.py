"""The Online Bibliotheek at /online/: members log in through the login service (OpenID
Connect, as a relying party: `bieb.integrations.kb.client`) and see what they may use.

Its own sign-in lives in the session under `online_member` (never the login service's own key).
The entitlement endpoint answers other services, authenticated with a bearer token.
"""

import hmac
import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.core.dates import local_today
from bieb.integrations.kb.client import (
    KBUnavailable,
    LoginFailed,
    Member,
    SignedOut,
    kb_base_url,
    login_complete,
    login_redirect,
    logout_url,
    member_check,
    secret_from_env,
    token_revoke,
)
from bieb.online.selectors import access_from_claims, entitlements_for, library_contact

logger = logging.getLogger(__name__)

CLIENT_ID = "online-bibliotheek"
SESSION_KEY = "online_member"
KB_SLOW = "De inlogdienst reageert niet; probeer het zo opnieuw."


def _secret() -> str:
    return secret_from_env("BIEB_ONLINE_CLIENT_SECRET", CLIENT_ID)


SIGNED_OUT = (
    "Je bent uitgelogd: je wachtwoord is gewijzigd, of je bent bij Mijn inlogaccount overal "
    "uitgelogd. Log opnieuw in."
)


def _member_keep(request: HttpRequest, member: Member) -> None:
    request.session[SESSION_KEY] = {
        "sub": member.sub,
        "username": member.username,
        "email": member.email,
        "memberships": member.memberships,
        "token": member.token,
    }


def _member_current(request: HttpRequest) -> tuple[dict[str, Any] | None, str]:
    """The member signed in here, as the login service sees them now: each page asks it again
    (userinfo), so that a sign-in it ended (a password change, "Overal uitloggen", a deleted
    account) ends here too, and the memberships are today's. When it does not answer, the page
    shows what it knew. Returns (member, notice)."""
    member = request.session.get(SESSION_KEY)
    if not member:
        return None, ""
    try:
        fresh = member_check(
            client_id=CLIENT_ID,
            secret=_secret(),
            sub=member["sub"],
            token=member.get("token") or {},
        )
    except SignedOut as error:
        logger.info("online: the login service ended the sign-in: %s", error)
        request.session.pop(SESSION_KEY, None)
        request.session.cycle_key()
        return None, SIGNED_OUT
    except LoginFailed as error:
        logger.warning("online: login service does not answer, shown as known: %s", error)
        return member, ""
    _member_keep(request, fresh)
    return request.session[SESSION_KEY], ""


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    member, notice = _member_current(request)
    if not member:
        return render(request, "online/home.html", {"member": None, "notice": notice})
    access = access_from_claims(member.get("memberships") or [], today=local_today())
    try:
        signup = (
            reverse("signup:start", args=[access.library_code])
            if access.library_code
            else reverse("signup:index")
        )
    except NoReverseMatch:  # a login service of its own (BIEB_ROLE=kb): no sign-up here
        signup = ""
    # The library to pay or to contact, for the contact details it gave the login service
    # (the claim names it by code).
    concerned = access.to_pay or access.ended_by_library
    library = (
        library_contact(concerned.library_code)
        if concerned is not None and not access.ebooks
        else None
    )
    return render(
        request,
        "online/home.html",
        {
            "member": member,
            "access": access,
            "signup_url": signup,
            "library": library,
            # "Mijn inlogaccount" at the login service; per library "Mijn bibliotheek".
            "account_url": f"{kb_base_url()}/kb/account/",
            "libraries": _libraries(member),
        },
    )


def _libraries(member: dict[str, Any]) -> list[dict[str, str]]:
    """Each library the member is a member of, once, with its "Mijn bibliotheek" page."""
    seen: dict[str, dict[str, str]] = {}
    for claim in member.get("memberships") or []:
        code = str(claim.get("library") or "")
        if code and code not in seen:
            seen[code] = {
                "name": str(claim.get("library_name") or code),
                # The library's own pages (the "Mijn bibliotheek" app, same site in the
                # all-in-one run).
                "url": f"/mijn/{code}/",
            }
    return list(seen.values())


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
    _member_keep(request, member)
    return redirect("online:home")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """ "Uitloggen": out of the Online Bibliotheek, its tokens given back, and on through the
    login service's end_session_endpoint (RP-initiated logout), which ends the KB session of
    this browser and comes back to /online/uitgelogd/."""
    member = request.session.pop(SESSION_KEY, None) or {}
    request.session.cycle_key()
    token = member.get("token") or {}
    token_revoke(client_id=CLIENT_ID, secret=_secret(), token=token)
    back = f"{settings.BIEB_BASE_URL}{reverse('online:logged_out')}"
    try:
        return redirect(
            logout_url(
                client_id=CLIENT_ID,
                secret=_secret(),
                id_token=str(token.get("id_token") or ""),
                post_logout_redirect_uri=back,
            )
        )
    except LoginFailed as error:
        logger.warning("online: no RP-initiated logout: %s", error)
    # The login service cannot be asked now: its own logout page, to which the member can go.
    kb_logout = f"{kb_base_url()}/kb/uitloggen/?{urlencode({'next': back})}"
    return render(request, "online/logged_out.html", {"kb_logout": kb_logout})


@never_cache
def logged_out(request: HttpRequest) -> HttpResponse:
    """Where the login service sends the member back after signing out there too."""
    return render(request, "online/logged_out.html", {"kb_logout": ""})


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
