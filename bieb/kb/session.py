"""The login service's own sign-in state, kept apart from the staff login in the same session.
(The session store itself, which writes a login's new session in the login's own transaction,
is bieb.core.sessions.)"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from bieb.kb.models import AccountState, LoginAccount

SESSION_KEY = "kb_account"


def kb_login(request: HttpRequest, account: LoginAccount) -> None:
    """Sign the account in under a new session id (no session fixation), written now: called
    inside a transaction, the session is stored in the same commit."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(account.pk)
    request.session.save()


def kb_logout(request: HttpRequest) -> None:
    """Sign out under a new session id, written now: the old id is dead even if the response
    fails."""
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    request.session.save()


def current_account(request: HttpRequest) -> LoginAccount | None:
    pk = request.session.get(SESSION_KEY)
    if not pk:
        return None
    return LoginAccount.objects.filter(pk=pk, state=AccountState.ACTIVE).first()


def safe_next(request: HttpRequest, url: str | None) -> str:
    """`url` if it leads back to this site or another allowed address, else ""."""
    if not url:
        return ""
    hosts = {request.get_host(), urlsplit(settings.BIEB_BASE_URL).netloc, *settings.ALLOWED_HOSTS}
    if url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure()):
        return url
    return ""
