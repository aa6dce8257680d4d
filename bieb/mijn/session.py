"""Who is signed in at Mijn bibliotheek: the login service's account (its stable id, the OIDC
`sub`, with the username and e-mail it had at the sign-in), kept in this site's session under
its own key, apart from the login service's own sign-in and the Online Bibliotheek's.

The sign-in ends after IDLE without a page of Mijn bibliotheek (these pages show an address, a
ledger and an IBAN, and a phone or a library PC is easily left), on "Uitloggen", and as soon as
the login service no longer honours its token (a password change or reset, "Overal
uitloggen", a deleted account: each page asks it again, `bieb.mijn.views.mijn_page`). Which
customer the account is at a library is looked up again on every page
(`bieb.mijn.selectors.member_customers`): an account that the library unlinked, or that the
login service deleted, sees its data no more from that moment.
"""

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from bieb.integrations.kb.client import Member

SESSION_KEY = "mijn_member"
IDLE = dt.timedelta(minutes=30)
SEEN_RESOLUTION = 60  # seconds: the session is written at most once a minute for "seen"


@dataclass(frozen=True)
class SignedIn:
    sub: str
    username: str
    email: str
    token: dict[str, Any] = field(default_factory=dict)

    @property
    def actor_name(self) -> str:
        """How audit rows name a change the member made here."""
        return f"online:{self.username}"


def member_sign_in(request: HttpRequest, member: Member) -> None:
    request.session.cycle_key()  # a new session id for a new sign-in
    request.session[SESSION_KEY] = {
        "sub": member.sub,
        "username": member.username,
        "email": member.email,
        "token": member.token,
        "seen": int(time.time()),
    }


def member_token_keep(request: HttpRequest, token: dict[str, Any]) -> None:
    """The token after the login service was asked again (it may have been refreshed)."""
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("token") != token:
        request.session[SESSION_KEY] = {**data, "token": token}


def member_signed_in(request: HttpRequest) -> SignedIn | None:
    """The member signed in here, or None (never signed in, signed out, or idle too long)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or not data.get("sub"):
        return None
    now = int(time.time())
    seen = int(data.get("seen") or 0)
    if now - seen > IDLE.total_seconds():
        request.session.pop(SESSION_KEY, None)
        return None
    if now - seen >= SEEN_RESOLUTION:
        request.session[SESSION_KEY] = {**data, "seen": now}
    return SignedIn(
        sub=str(data["sub"]),
        username=str(data["username"]),
        email=str(data["email"]),
        token=dict(data.get("token") or {}),
    )


def member_sign_out(request: HttpRequest) -> dict[str, Any]:
    """Forget the sign-in here; returns its token (to give back to the login service)."""
    data = request.session.pop(SESSION_KEY, None)
    for key in [k for k, _ in request.session.items() if k.startswith("mijn:")]:
        del request.session[key]
    request.session.cycle_key()
    return dict(data.get("token") or {}) if isinstance(data, dict) else {}
