"""What was typed survives the end of a staff session.

Counter PCs log staff out after a working day or when idle (bieb.core.middleware). A form sent
after that, or with a CSRF token that a new login elsewhere replaced, is not lost: its fields
(never a password or the CSRF token) are kept server-side in the session under a one-time id,
the login page is shown, and after logging in the form's page comes back filled in
(`?herstel=<id>`; the id is all that goes in the address). Nothing is saved on the way: the
staff member checks the form and sends it again.
"""

import secrets
import time
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect
from django.urls import reverse

PREFIX = "/balie/"
QUERY = "herstel"
SESSION_PREFIX = "counter:kept:"
NEVER_KEPT = {"csrfmiddlewaretoken", "password"}
KEPT_AT_MOST = 3  # forms kept per session; the oldest goes first
LARGEST = 64 * 1024  # characters of a form worth keeping
KEPT_FOR = 24 * 3600  # seconds
KEPT_NOTICE = (
    "De sessie was verlopen. Wat er was ingevuld, staat er weer: controleer het en ga verder."
)
LOGIN_NOTICE = (
    "De sessie is verlopen. Log opnieuw in; wat er was ingevuld, staat daarna weer klaar."
)


def _form_page(request: HttpRequest) -> str:
    """The page the form was on: the page it came from (a same-site counter page), else the
    address it was sent to."""
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc == request.get_host() and referer.path.startswith(PREFIX):
        return referer.path
    return request.path


def form_keep(request: HttpRequest) -> str:
    """Keep the posted form; the address of its page with the one-time id, or "" when there
    is nothing to keep."""
    data = {key: values for key, values in request.POST.lists() if key.lower() not in NEVER_KEPT}
    size = sum(len(key) + sum(len(v) for v in values) for key, values in data.items())
    page = _form_page(request)
    if not data or size > LARGEST or page == reverse("counter:login"):
        return ""
    session = request.session
    kept = sorted(
        (session[key]["at"], key) for key in list(session.keys()) if key.startswith(SESSION_PREFIX)
    )
    for _, key in kept[: max(0, len(kept) - KEPT_AT_MOST + 1)]:
        del session[key]
    kept_id = secrets.token_urlsafe(16)
    session[SESSION_PREFIX + kept_id] = {"page": page, "data": data, "at": time.time()}
    return f"{page}?{QUERY}={kept_id}"


def form_restore(request: HttpRequest) -> QueryDict | None:
    """The kept form for this page named by `?herstel=`, once; None if there is none."""
    kept_id = request.GET.get(QUERY, "")
    if not kept_id or request.method != "GET":
        return None
    entry = request.session.pop(SESSION_PREFIX + kept_id, None)
    if not isinstance(entry, dict) or entry.get("page") != request.path:
        return None
    if time.time() - float(entry.get("at", 0)) > KEPT_FOR:
        return None
    restored = QueryDict(mutable=True)
    for key, values in entry["data"].items():
        restored.setlist(key, values)
    return restored


def login_keeping_form(request: HttpRequest) -> HttpResponse:
    """A form sent without a staff login: keep it, and log in to come back to it."""
    back = form_keep(request) or _form_page(request)
    return redirect_to_login(back, reverse("counter:login"))


def csrf_recovery(request: HttpRequest) -> HttpResponseBase | None:
    """A counter form whose CSRF token no longer matches (a login since, in another tab, or a
    session that ended): keep it and show it again, after a login if one is needed."""
    from bieb.counter.access import desk_for

    if request.path == reverse("counter:login"):
        return redirect(request.get_full_path())  # a fresh login page, with a fresh token
    if desk_for(request.user) is None:
        return login_keeping_form(request)
    back = form_keep(request)
    return redirect(back or _form_page(request))
