"""The login service's "Statistiek" (/kb/beheer/statistiek/), for KB operators: national
operators (superusers) signed in at /admin/ with their second factor. Anyone else signed in is
refused (403); someone not signed in is sent to the admin's login."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from bieb.core.figures import figures_page
from bieb.kb.statistics.report import kb_figures_through, kb_report


def kb_operator(user: object) -> bool:
    """A national operator whose session passed the second factor (as /admin/ asks)."""
    verified = getattr(user, "is_verified", None)
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_superuser", False)
        and callable(verified)
        and verified()
    )


@never_cache
def statistics_page(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_authenticated", False):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not kb_operator(request.user):
        raise PermissionDenied
    return figures_page(
        request,
        today=timezone.localdate(),
        report=lambda period: kb_report(period=period),
        through=kb_figures_through,
        csv_name=lambda key, period: (
            f"kb-statistiek-{key}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        ),
        template="kb/beheer/statistics.html",
        context={},
    )
