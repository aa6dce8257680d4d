"""Who may use the counter, and for which library: a staff user with a library, working for
that library and their branch. Every counter view gets the `Desk` and reads only its library's
data; anyone else is sent to the counter's login page."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from bieb.audit.services import audit_record
from bieb.core.http import client_address
from bieb.core.middleware import STAFF_SESSION_ENDED
from bieb.counter import kept
from bieb.libraries.models import Branch, Library
from bieb.staff.login import staff_authenticate
from bieb.staff.models import User

logger = logging.getLogger(__name__)

SESSION_ENDED = "De sessie is verlopen. Log opnieuw in."
NO_LIBRARY = (
    "Dit account hoort niet bij een bibliotheek, dus niet bij een balie. Log in met het "
    "account van een baliemedewerker; beheerders werken in /admin/."
)


@dataclass(frozen=True)
class Desk:
    """The counter a staff member works at: their library and branch."""

    user: User
    library: Library
    branch: Branch


def desk_for(user: object) -> Desk | None:
    """The desk of a logged-in, active staff user with a library; None for anyone else."""
    if not isinstance(user, User) or not user.is_active or user.library_id is None:
        return None
    # Their own branch, if it is of their library, with the library: one query on every page.
    branch = None
    if user.branch_id is not None:
        branch = (
            Branch.objects.select_related("library")
            .filter(pk=user.branch_id, library_id=user.library_id)
            .first()
        )
    if branch is not None:
        return Desk(user=user, library=branch.library, branch=branch)
    library = user.library
    assert library is not None  # noqa: S101  (library_id is set)
    # A staff member without a branch of their own works at the library's first branch.
    branch = library.branches.order_by("number").first()
    if branch is None:
        return None
    return Desk(user=user, library=library, branch=branch)


P = ParamSpec("P")
# A page, or a streamed download (StreamingHttpResponse).
R = TypeVar("R", bound=HttpResponseBase)


def counter_view(
    view: Callable[Concatenate[HttpRequest, Desk, P], R],
) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """Only for staff with a desk (others go to the login page); never cached."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponse:
        desk = desk_for(request.user)
        if desk is None:
            if request.method == "POST":
                # The session ended while the form was open: keep what was typed.
                return kept.login_keeping_form(request)
            return redirect_to_login(request.get_full_path(), reverse("counter:login"))
        try:
            return view(request, desk, *args, **kwargs)
        except Http404:
            # Also for another library's customer: staff learn nothing more than "not here".
            context = {"desk": desk, "number": kwargs.get("number", "")}
            return render(request, "counter/not_found.html", context, status=404)

    return wrapper


def _safe_next(request: HttpRequest, url: str) -> str:
    ok = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and ok and url.startswith("/balie/") else ""


@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    current = request.user if request.user.is_authenticated else None
    if request.method == "GET" and desk_for(current) is not None:
        return redirect(next_url or "counter:search")
    username = request.POST.get("username", "").strip()[:150]
    error = ""
    if request.method == "POST":
        error = _login(request, username, request.POST.get("password", ""))
        if not error:
            return redirect(next_url or "counter:search")
    notice = NO_LIBRARY if current is not None and desk_for(current) is None else ""
    ended = request.session.pop(STAFF_SESSION_ENDED, False)
    if not notice and (ended or f"?{kept.QUERY}=" in next_url):
        notice = kept.LOGIN_NOTICE if f"?{kept.QUERY}=" in next_url else SESSION_ENDED
    context = {"username": username, "error": error, "notice": notice, "next": next_url}
    return render(request, "counter/login.html", context, status=400 if error else 200)


def _login(request: HttpRequest, username: str, password: str) -> str:
    """Log the staff member in; the Dutch reason when that is refused, else ""."""
    try:
        user = staff_authenticate(request=request, username=username, password=password)
    except ValidationError as error:
        if error.code == "locked":
            logger.warning(
                "counter login delayed for %r from %s", username, client_address(request)
            )
        return error.messages[0]
    desk = desk_for(user)
    if desk is None:
        return NO_LIBRARY
    login(request, user)
    audit_record(
        actor=desk.user,
        action="counter.login",
        library=desk.library,
        data={"branch": desk.branch.number},
    )
    return ""


@never_cache
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("counter:search")
    desk = desk_for(request.user)
    if desk is not None:
        audit_record(actor=desk.user, action="counter.logout", library=desk.library)
    logout(request)
    return redirect("counter:login")
