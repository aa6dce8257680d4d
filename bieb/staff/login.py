"""The password check of staff accounts, for every form that logs staff in (the counter and
/admin/): one limit for both (scope `staff-login`, the policy of bieb.core.logins), so that
alternating between the two forms gains a guesser nothing."""

from collections.abc import Callable

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from bieb.core.attempts import wait_words
from bieb.core.http import client_address
from bieb.core.logins import login_attempt, login_succeeded
from bieb.staff.models import User

STAFF_SCOPE = "staff-login"
LOGIN_REFUSED = "Gebruikersnaam of wachtwoord klopt niet."


def staff_login_wait(wait_text: str) -> str:
    return (
        f"Te veel mislukte pogingen. Wacht {wait_text} en probeer het dan opnieuw, of vraag de "
        "beheerder van uw bibliotheek om hulp."
    )


def staff_authenticate(
    *,
    request: HttpRequest,
    username: str,
    password: str,
    second_factor: Callable[[User], bool] | None = None,
    refused: str = LOGIN_REFUSED,
) -> User:
    """The staff user with this password (and, if asked, a second factor that `second_factor`
    checks), or ValidationError with a Dutch message that does not say which part was wrong.

    Every attempt that is not refused for waiting costs one password hash: Django's model
    backend hashes for an unknown username and for an account without a usable password too."""
    attempt = login_attempt(scope=STAFF_SCOPE, username=username, address=client_address(request))
    if attempt.refused:
        raise ValidationError(staff_login_wait(wait_words(attempt.wait)), code="locked")
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or (second_factor is not None and not second_factor(user)):
        raise ValidationError(refused, code="refused")
    login_succeeded(attempt)
    return user
