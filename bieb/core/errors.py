"""The site's error pages: Dutch, in the look of the part of the site they appear in (picked by
the address), each with a way onward. Django's own (English) pages never show.

Wired in bieb/urls.py (handler400/403/404/500) and settings.CSRF_FAILURE_VIEW. A request that
failed because the database could not be reached (it restarts, the network is away) gets 503
with Retry-After instead of the 500: nothing is wrong with the request, it can be sent again in
a moment, and the transaction it ran in was rolled back. A part may
offer to recover a form that failed the CSRF check (the counter keeps what was typed); it
registers that with `csrf_recovery_register`, so this module imports no domain app.
"""

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Look:
    template: str
    home_url: str
    home_label: str


SITE = Look("core/error.html", "/", "Naar de startpagina")
LOOKS: list[tuple[str, Look]] = [
    ("/balie/", Look("counter/error.html", "/balie/", "Naar de balie")),
    ("/kb/", Look("kb/error.html", "/kb/", "Naar inloggen")),
    ("/word-lid/", Look("signup/error.html", "/word-lid/", "Naar word lid")),
    ("/online/", Look("online/error.html", "/online/", "Naar de Online Bibliotheek")),
    ("/mijn/", Look("mijn/error.html", "/mijn/", "Naar Mijn bibliotheek")),
    ("/admin/", Look("admin/bieb_error.html", "/admin/", "Naar het beheer")),
]
_SIGNUP_LIBRARY = re.compile(r"^/word-lid/([-a-zA-Z0-9_]+)/")

TEXTS: dict[str, tuple[str, str]] = {
    "400": (
        "Dit verzoek klopt niet",
        "Het adres of het formulier bevat iets wat niet verwerkt kan worden, zoals een "
        "ongeldig teken. Ga terug en probeer het opnieuw.",
    ),
    "403": ("Geen toegang", "Deze pagina is niet toegankelijk met dit account."),
    "csrf": (
        "Het formulier is verlopen",
        "Het formulier stond te lang open, of er is intussen opnieuw ingelogd. Ga terug, laad "
        "de pagina opnieuw en verstuur het formulier nog eens.",
    ),
    "404": (
        "Pagina niet gevonden",
        "Deze pagina bestaat niet (meer). Controleer het adres, of ga verder via de startpagina.",
    ),
    "503": (
        "Even niet bereikbaar",
        "Bieb kan zijn gegevens op dit moment niet bereiken. Probeer het over een minuut "
        "opnieuw. Wat net is verstuurd, is misschien niet opgeslagen: kijk het dan na.",
    ),
    "500": (
        "Er ging iets mis",
        "Er ging aan onze kant iets mis. Probeer het over een paar minuten opnieuw; blijft het "
        "misgaan, meld het dan bij de bibliotheek.",
    ),
}

# Used when even the error template fails (a 500 in the templates themselves).
_FALLBACK = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><h1>{title}</h1><p>{message}</p><p><a href="{home}">{label}</a></p></body></html>'
)


def look_for(path: str) -> Look:
    for prefix, look in LOOKS:
        if path.startswith(prefix):
            if look.template == "signup/error.html":
                match = _SIGNUP_LIBRARY.match(path)
                if match and match.group(1) != "inlogaccount":
                    return Look(look.template, f"/word-lid/{match.group(1)}/", look.home_label)
            return look
    return SITE


# A part that is not a web page for people (an API) answers its errors in its own format.
ErrorAnswer = Callable[[str, int, str, str], HttpResponse]
_error_answers: list[tuple[str, ErrorAnswer]] = []


def error_answer_register(prefix: str, answer: ErrorAnswer) -> None:
    """Let the part under `prefix` answer its errors itself: `answer(path, status, title,
    message)`, with the Dutch title and message of the error page it replaces."""
    _error_answers.append((prefix, answer))


def error_page(
    request: HttpRequest | None, *, kind: str, status: int, path: str = ""
) -> HttpResponse:
    """The error page of `kind` (a key of TEXTS) in the look of `path`. Rendered without the
    request (no context processors, no session, no database) when it is None: for the 500."""
    title, message = TEXTS[kind]
    path = path or (request.path_info if request is not None else "/")
    for prefix, answer in _error_answers:
        if path.startswith(prefix):
            return answer(path, status, title, message)
    look = look_for(path)
    context = {
        "status": status,
        "title": title,
        "message": message,
        "home_url": look.home_url,
        "home_label": look.home_label,
        "site_header": "Bieb beheer",
        "site_title": "Bieb beheer",
    }
    body: str
    try:
        body = render_to_string(look.template, context, request=request)
    except Exception:
        logger.exception("the error page %s could not be rendered", look.template)
        body = _FALLBACK.format(
            title=title, message=message, home=look.home_url, label=look.home_label
        )
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, kind="400", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, kind="403", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, kind="404", status=404)


# Seconds a client is asked to wait after a 503: about as long as a database restart takes.
RETRY_AFTER = 30


def server_error(request: HttpRequest) -> HttpResponse:
    # Without the request: whatever broke (the database, the session) must not break this too.
    # Django calls this handler while it handles the exception, so it is still the current one.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = error_page(None, kind="503", status=503, path=request.path_info)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return error_page(None, kind="500", status=500, path=request.path_info)


CsrfRecovery = Callable[[HttpRequest], HttpResponseBase | None]
_csrf_recoveries: list[tuple[str, CsrfRecovery]] = []


def csrf_recovery_register(prefix: str, recovery: CsrfRecovery) -> None:
    """Let the part under `prefix` answer a form that failed the CSRF check (return None to
    show the error page). Only asked when the form came from this site (its Origin matched)."""
    _csrf_recoveries.append((prefix, recovery))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    # A token that no longer matches (a new login in another tab rotated it, or the cookie is
    # gone) on a form of our own: the part may keep what was typed. A foreign origin never.
    # Django checks the Origin header first: with one present, a failure about the token or
    # the cookie means the origin was ours.
    token_only = reason.startswith(("CSRF token", "CSRF cookie"))
    if token_only and request.META.get("HTTP_ORIGIN") and request.method == "POST":
        for prefix, recovery in _csrf_recoveries:
            if request.path_info.startswith(prefix):
                response = recovery(request)
                if response is not None:
                    return response
    return error_page(request, kind="csrf", status=403)
