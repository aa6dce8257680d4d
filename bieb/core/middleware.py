"""Request guards that hold for the whole site, whatever view answers."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.functional import SimpleLazyObject, empty

from bieb.core.errors import bad_request

NUL = "\x00"


def _has_nul(request: HttpRequest) -> bool:
    """A NUL byte, typed or percent-encoded, in the path, query, form, cookies or headers."""
    if NUL in request.path or NUL in request.path_info:
        return True
    query = request.META.get("QUERY_STRING", "")
    if NUL in query or "%00" in query.lower():
        return True
    for key, value in request.META.items():
        # Headers (cookies among them) as the server passed them on; RFC 9110 forbids NUL there.
        header = key.startswith("HTTP_") or key == "CONTENT_TYPE"
        if header and isinstance(value, str) and NUL in value:
            return True
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        for key, values in request.POST.lists():
            if NUL in key or any(NUL in value for value in values):
                return True
        for key, files in request.FILES.lists():
            if NUL in key or any(NUL in (upload.name or "") for upload in files):
                return True
    return False


class RejectNulBytesMiddleware:
    """Answers 400 (the Dutch page) to a request with a NUL byte anywhere we read from.

    No view can use such a value, and PostgreSQL refuses to store or even compare one (an error
    500 in every view that looked it up); so one guard before every view, not a check in each.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = _has_nul(request)
        except (BadRequest, MultiPartParserError, RequestDataTooBig, TooManyFieldsSent) as error:
            return bad_request(request, error)
        if refused:
            return bad_request(request, BadRequest("NUL byte in the request"))
        return self.get_response(request)


SINCE = "staff:since"  # when this staff login began (epoch seconds)
SEEN = "staff:seen"  # this staff login's last request (epoch seconds, to the minute)
STAFF_SESSION_ENDED = "staff:ended"  # set in the fresh session after a staff session ran out
SEEN_RESOLUTION = 60  # write the session at most once a minute for "seen"
# The stored session outlives the staff login by this much, so that the next request can still
# tell that a staff session ended ("De sessie is verlopen") rather than meet an empty one.
STORED_GRACE = 15 * 60


class StaffSessionMiddleware:
    """A staff login (counter or admin) lasts at most BIEB_STAFF_SESSION_HOURS and ends after
    BIEB_STAFF_IDLE_MINUTES without a request: counter PCs are shared. The session's own expiry
    follows the idle time, so a closed browser's session dies on the server as well. Members'
    sessions (the login service's own sign-in, not a Django user) are not touched.

    The check runs when the request's user is first asked for, as Django's own lookup of the
    user does: a page that never asks (the login service's) reads nothing more."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        checked = SimpleLazyObject(lambda: self._user(request))
        request.user = checked  # type: ignore[assignment]
        response = self.get_response(request)
        user = request.user
        asked = user is not checked or checked._wrapped is not empty
        # Only a staff login: the login service's pages put a member's account in request.user
        # for django-oauth-toolkit, and a member's session must not get a staff's idle time.
        staff = user is checked or isinstance(user, get_user_model())
        if asked and staff and user.is_authenticated and hasattr(request, "session"):
            self._touch(request)
        return response

    @staticmethod
    def _user(request: HttpRequest) -> object:
        user = get_user(request)
        if not user.is_authenticated:
            return user
        now = time.time()
        since = request.session.get(SINCE)
        seen = request.session.get(SEEN)
        if (
            isinstance(since, int | float)
            and isinstance(seen, int | float)
            and (
                now - since > settings.BIEB_STAFF_SESSION_HOURS * 3600
                or now - seen > settings.BIEB_STAFF_IDLE_MINUTES * 60
            )
        ):
            # Django's logout(), which would ask for request.user (this very lookup).
            user_logged_out.send(sender=user.__class__, request=request, user=user)
            request.session.flush()
            request.session[STAFF_SESSION_ENDED] = True
            return AnonymousUser()
        return user

    @staticmethod
    def _touch(request: HttpRequest) -> None:
        now = time.time()
        session = request.session
        since = session.get(SINCE)
        if not isinstance(since, int | float):
            since = now  # a session from before this rule: its day starts now
            session[SINCE] = now
        seen = session.get(SEEN)
        if isinstance(seen, int | float) and now - seen < SEEN_RESOLUTION:
            return
        session[SEEN] = now
        idle = settings.BIEB_STAFF_IDLE_MINUTES * 60
        left = settings.BIEB_STAFF_SESSION_HOURS * 3600 - (now - since)
        session.set_expiry(max(1, int(min(idle, left))) + STORED_GRACE)


def staff_session_start(
    sender: object, request: HttpRequest, user: object, **kwargs: object
) -> None:
    """On every staff login (connected to user_logged_in): a working day starts now. The same
    user logging in again keeps the session's data (Django only changes its key), so the start
    is set here, not only when missing."""
    if hasattr(request, "session"):
        request.session[SINCE] = time.time()
        request.session.pop(SEEN, None)
        request.session.pop(STAFF_SESSION_ENDED, None)
