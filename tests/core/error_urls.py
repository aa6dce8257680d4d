"""The site's URLs plus views that fail on purpose under each part, for the error page tests."""

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from bieb.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401

PREFIXES = ["balie", "kb", "word-lid/bind", "online", "mijn/bind", "admin", "dev/mail", "betalen"]


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, on purpose")


def unavailable(request: HttpRequest) -> HttpResponse:
    # What psycopg raises (through Django) when PostgreSQL restarts under a request.
    raise OperationalError("terminating connection due to administrator command")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    *[path(f"{prefix}/test-fout/500/", broken) for prefix in PREFIXES],
    *[path(f"{prefix}/test-fout/403/", forbidden) for prefix in PREFIXES],
    *[path(f"{prefix}/test-fout/503/", unavailable) for prefix in PREFIXES],
    *[path(f"{prefix}/test-fout/formulier/", form) for prefix in PREFIXES],
    *urlpatterns,
]
