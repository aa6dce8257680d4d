"""The login service's own sign-in state, kept apart from the staff login in the same session.
(The session store itself, which writes a login's new session in the login's own transaction,
is bieb.core.sessions.)

A sign-in holds the account's `session_version` of that moment; a session whose version is no
longer the account's is signed out. So one write to the account ends every session it has, on
every device, without finding them (a password change or reset, "Overal uitloggen"); the
session that made the change is then brought up to date with `kb_session_keep`."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from bieb.kb.models import AccountState, LoginAccount

SESSION_KEY = "kb_account"
VERSION_KEY = "kb_session_version"


def kb_login(request: HttpRequest, account: LoginAccount) -> None:
    """Sign the account in under a new session id (no session fixation), written now: called
    inside a transaction, the session is stored in the same commit."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(account.pk)
    request.session[VERSION_KEY] = account.session_version
    request.session.save()


def kb_session_keep(request: HttpRequest, account: LoginAccount) -> None:
    """Keep this session signed in after its account ended every session (the change made
    here), under a new session id."""
    kb_login(request, account)


def kb_logout(request: HttpRequest) -> None:
    """Sign out under a new session id, written now: the old id is dead even if the response
    fails."""
    request.session.pop(SESSION_KEY, None)
    request.session.pop(VERSION_KEY, None)
    request.session.cycle_key()
    request.session.save()


def current_account(request: HttpRequest) -> LoginAccount | None:
    pk = request.session.get(SESSION_KEY)
    if not pk:
        return None
    account = LoginAccount.objects.filter(pk=pk, state=AccountState.ACTIVE).first()
    if account is None or request.session.get(VERSION_KEY) != account.session_version:
        return None
    return account


def safe_next(request: HttpRequest, url: str | None) -> str:
    """`url` if it leads back to this site or another allowed address, else ""."""
    if not url:
        return ""
    hosts = {
        request.get_host(),
        urlsplit(settings.BIEB_BASE_URL).netloc,
        *settings.ALLOWED_HOSTS,
        # The library installations this KB serves (BIEB_ROLE=kb): back to their pages.
        *(urlsplit(site).netloc for site in settings.BIEB_LIBRARY_URLS),
    }
    if url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure()):
        return url
    return ""
