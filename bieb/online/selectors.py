"""What a member may use in the Online Bibliotheek.

One source: the login service's copy of the memberships, which the libraries keep current
through `bieb.kb.interface` (the Online Bibliotheek never reads a library's own tables).
- the member's page uses them as the login service hands them over in userinfo: that is what
  a relying party knows;
- the entitlement endpoint, asked by other services without a member present, reads the copy
  itself (status, period, rights and whether the subscription includes physical loans).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q

from bieb.core.dates import date_nl
from bieb.kb.models import LibraryContact, LinkedMembership
from bieb.kb.services import username_normalize

# The states the login service's copy carries (`state` in the memberships claim), in Dutch.
STATE_LABELS = {
    "wacht_op_betaling": "wacht op betaling",
    "actief": "actief",
    "betalingsachterstand": "betalingsachterstand",
    "uitgeschreven": "uitgeschreven",
    "opgezegd": "opgezegd",
    "beeindigd": "beëindigd",
}


@dataclass(frozen=True)
class MembershipAccess:
    library_name: str
    library_code: str
    subscription: str
    valid_through: dt.date | None
    digital: bool
    valid: bool
    reason: str
    state: str = ""
    # Where the member pays (renews and pays) to (re)gain the rights; "" when paying online
    # cannot help (cancelled, uitgeschreven, nothing open).
    pay_url: str = ""

    @property
    def state_label(self) -> str:
        if self.state == "beeindigd" and self.pay_url:
            return "niet verlengd"
        return STATE_LABELS.get(self.state, "")

    @property
    def pay_label(self) -> str:
        """The button: a Vast membership that ran out is renewed and paid in one go."""
        return "Verlengen en betalen" if self.state == "beeindigd" else "Betalen"

    @property
    def waits_for_payment(self) -> bool:
        return bool(self.pay_url) and self.state in ("wacht_op_betaling", "betalingsachterstand")


@dataclass(frozen=True)
class Access:
    ebooks: bool
    until: dt.date | None
    memberships: list[MembershipAccess] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def until_label(self) -> str:
        return date_nl(self.until) if self.until else ""

    @property
    def library_code(self) -> str:
        """The library to sign up (again) with: the last one the member had, if any."""
        return self.memberships[0].library_code if self.memberships else ""

    @property
    def to_pay(self) -> MembershipAccess | None:
        """The membership whose payment link gives the rights back (or first rights): the one
        with digital rights and a link that had rights last."""
        for membership in self.memberships:
            if membership.digital and membership.pay_url and not membership.valid:
                return membership
        return None

    @property
    def ended_by_library(self) -> MembershipAccess | None:
        """A membership the library ended (uitgeschreven): the member has to contact it."""
        for membership in self.memberships:
            if membership.state == "uitgeschreven" and not membership.valid:
                return membership
        return None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _why_not(name: str, state: str, valid_through: dt.date | None, pay_url: str) -> str:
    """Why a membership with digital rights gives none today, in Dutch."""
    through = f" was geldig t/m {date_nl(valid_through)}" if valid_through else ""
    if state == "wacht_op_betaling" and valid_through is None:
        return f"Je abonnement bij {name} wacht op betaling."
    if state == "wacht_op_betaling":
        return f"Je abonnement bij {name}{through}: de nieuwe periode is nog niet betaald."
    if state == "betalingsachterstand":
        return f"Je abonnement bij {name}{through} en heeft een betalingsachterstand."
    if state == "uitgeschreven":
        return f"Je bent bij {name} uitgeschreven wegens een betalingsachterstand."
    if state == "opgezegd":
        return f"Je abonnement bij {name} is opgezegd{' en' + through if through else ''}."
    if state == "beeindigd" and pay_url:
        return f"Je abonnement bij {name}{through} en is niet verlengd."
    if state == "beeindigd":
        return f"Je abonnement bij {name}{through} en is beëindigd."
    return f"Je abonnement bij {name}{through or ' is verlopen'}."


def access_from_claims(memberships: list[dict[str, Any]], *, today: dt.date) -> Access:
    """E-books and audiobooks while any linked membership with digital rights is valid, through
    its valid-through date; otherwise the reasons why not, in Dutch, and the link to pay when
    paying gives them (back)."""
    rows = []
    for claim in memberships:
        valid_through = _date(claim.get("valid_through"))
        digital = str(claim.get("digital_rights") or "none") != "none"
        name = str(claim.get("library_name") or claim.get("library") or "")
        state = str(claim.get("state") or "")
        pay_url = str(claim.get("pay_url") or "")
        if not pay_url.startswith(("https://", "http://")):
            pay_url = ""  # only a web link is a link to follow
        valid = digital and valid_through is not None and valid_through >= today
        if not digital:
            reason = f"Je abonnement bij {name} geeft geen toegang tot e-books en luisterboeken."
        elif not valid:
            reason = _why_not(name, state, valid_through, pay_url)
        else:
            reason = ""
        rows.append(
            MembershipAccess(
                library_name=name,
                library_code=str(claim.get("library") or ""),
                subscription=str(claim.get("subscription") or ""),
                valid_through=valid_through,
                digital=digital,
                valid=valid,
                reason=reason,
                state=state,
                pay_url=pay_url,
            )
        )
    rows.sort(key=lambda m: m.valid_through or dt.date.min, reverse=True)
    valid_dates = [m.valid_through for m in rows if m.valid and m.valid_through]
    if valid_dates:
        return Access(ebooks=True, until=max(valid_dates), memberships=rows)
    reasons = [m.reason for m in rows if m.reason] or [
        "Je inlogaccount is nog niet gekoppeld aan een abonnement van een bibliotheek."
    ]
    return Access(ebooks=False, until=None, memberships=rows, reasons=reasons)


# Why a linked membership gives no rights on a day, as a code for machines (the entitlement
# answer) and in Dutch for the member.
REASONS = {
    "wacht_op_betaling": "De betaling van het abonnement is nog niet binnen.",
    "betalingsachterstand": "Het abonnement heeft een betalingsachterstand.",
    "uitgeschreven": "Het abonnement is beëindigd wegens een betalingsachterstand.",
    "opgezegd": "Het abonnement is opgezegd.",
    "verlopen": "Het abonnement is verlopen en niet verlengd.",
    "niet_begonnen": "Het abonnement is nog niet begonnen.",
    "geen_digitale_rechten": "Dit abonnement geeft geen toegang tot e-books en luisterboeken.",
}


def membership_reason(membership: LinkedMembership, *, on: dt.date) -> str:
    """The reason code why `membership` gives no rights on `on`; "" when it does."""
    if membership.has_rights_on(on):
        return "" if membership.has_digital_rights else "geen_digitale_rechten"
    if membership.state == "opgezegd":
        return "opgezegd"
    if membership.state in ("wacht_op_betaling", "betalingsachterstand", "uitgeschreven"):
        return membership.state
    if membership.starts_on is not None and membership.starts_on > on:
        return "niet_begonnen"
    if membership.valid_through is None:
        return "wacht_op_betaling"
    return "verlopen"


def _latest(memberships: list[LinkedMembership]) -> str | None:
    days = [m.valid_through for m in memberships if m.valid_through is not None]
    return max(days).isoformat() if days else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def library_contact(code: str) -> LibraryContact | None:
    """The contact details the library gave the login service, if it did."""
    return LibraryContact.objects.filter(library_code=code).first() if code else None


def entitlements_for(*, username: str, on: dt.date) -> dict[str, Any]:
    """What the login account that has the name `username` now may use on `on`.

    The memberships are the login service's copies linked to the account, kept by account id:
    a name that belonged to someone else before brings none of theirs. A membership that has
    not started on `on` is left out; one without rights on `on` is listed with the reason
    (`reason`, a code of REASONS); `reason` at the top says why there are no e-books at all
    (the reason of the membership that last had them)."""
    name = username_normalize(username)
    memberships = list(
        LinkedMembership.objects.filter(account__username=name)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=on))
        .order_by("library_code", F("period_through").desc(nulls_last=True), "customer_number")
    )
    rows = [(m, membership_reason(m, on=on)) for m in memberships]
    valid = [m for m, reason in rows if m.has_rights_on(on)]
    digital = [m for m in valid if m.has_digital_rights]
    reason = None
    if not digital:
        candidates = [(m, r) for m, r in rows if m.has_digital_rights and r] or [
            (m, r) for m, r in rows if r
        ]
        reason = candidates[0][1] if candidates else "geen_lidmaatschap"
    return {
        "username": name,
        "on": on.isoformat(),
        "ebooks": bool(digital),
        "audiobooks": bool(digital),
        "physical_loans": any(m.physical_loans for m in valid),
        "valid_through": _latest(digital),
        "reason": reason,
        "memberships": [
            {
                "library": m.library_code,
                "subscription": m.subscription_code,
                "digital_rights": m.digital_rights,
                "physical_loans": m.physical_loans,
                "status": m.status,
                # A copy from before the library sent its period reads its rights' end.
                "valid_through": _iso(m.period_through or m.valid_through),
                "rights_through": _iso(m.valid_through),
                "rights": m.has_rights_on(on),
                "reason": reason_code or None,
            }
            for m, reason_code in rows
        ],
    }
