"""The login service's pages may send a member on to a registered OIDC client after a form.

The site's Content-Security-Policy allows forms to go only to this site (`form-action 'self'`),
and browsers apply that to every redirect a form's answer leads through. A sign-in, consent or
sign-out form of the login service ends at a client's redirect URI, which may be on another
host; so the login service's pages add the origins of the registered clients' redirect URIs,
and nothing else, to `form-action`.
"""

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse

from bieb.kb.oidc_models import OIDCApplication

PREFIX = "/kb/"
# Endpoints that answer machines, not pages with forms.
MACHINE_PATHS = ("/kb/token/", "/kb/revoke_token/", "/kb/userinfo/", "/kb/.well-known/", "/kb/api/")


# The registered clients change a few times a year; reading them on every page of the login
# service cost a query per page (about 0.3 ms). Each process keeps them this long; a client
# registered (or removed) in the admin reaches every process's policy within this time.
ORIGINS_TTL = 60.0
_origins_cache: tuple[float, list[str]] | None = None
_origins_lock = threading.Lock()


def client_origins_cached() -> list[str]:
    """`client_origins`, read at most once per ORIGINS_TTL seconds per process."""
    global _origins_cache
    cached = _origins_cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < ORIGINS_TTL:
        return cached[1]
    with _origins_lock:
        origins = client_origins()
        _origins_cache = (now, origins)
    return origins


def client_origins_forget() -> None:
    """Read the clients afresh on the next page (after a change in this process)."""
    global _origins_cache
    _origins_cache = None


def client_origins() -> list[str]:
    """The origins (scheme://host[:port]) of every registered redirect URI, sorted."""
    origins: set[str] = set()
    rows = OIDCApplication.objects.values_list("redirect_uris", "post_logout_redirect_uris")
    for uris in rows:
        for uri in " ".join(uris).split():
            parts = urlsplit(uri)
            if parts.scheme in {"http", "https"} and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


class ClientFormTargetsMiddleware:
    """Adds the registered clients' origins to `form-action` on the login service's pages.
    Sits below django-csp's middleware, which reads `_csp_update` from the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path_info
        page = (
            path.startswith(PREFIX)
            and not path.startswith(MACHINE_PATHS)
            and not 300 <= response.status_code < 400  # a redirect shows no form
            and response.get("Content-Type", "").startswith("text/html")
        )
        # Inside a transaction that failed (only where a caller wraps the request in one, as
        # the tests do) nothing can be read: the page's forms then post only to this site.
        broken = connection.in_atomic_block and connection.needs_rollback
        origins = client_origins_cached() if page and not broken else []
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *origins]
            response._csp_update = update  # type: ignore[attr-defined]
        return response


def _forget_on_change(**_: object) -> None:
    client_origins_forget()


# In this process a change is seen at once (the admin, the demo, the tests); others within the TTL.
post_save.connect(_forget_on_change, sender=OIDCApplication, dispatch_uid="kb.csp.origins.save")
post_delete.connect(_forget_on_change, sender=OIDCApplication, dispatch_uid="kb.csp.origins.del")
