"""What a member may use in the Online Bibliotheek.

Two sources, each the natural one for its caller:
- the member's page uses the memberships the login service hands over in userinfo (the KB's
  copy, kept current by the libraries): that is what a relying party knows;
- the entitlement endpoint, asked by other services without a member present, reads the
  library system's memberships (status, period, and whether the subscription includes
  physical loans, which the KB's copy does not hold).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bieb.core.dates import date_nl
from bieb.customers.models import Membership, MembershipStatus
from bieb.kb import interface as login_service


@dataclass(frozen=True)
class MembershipAccess:
    library_name: str
    library_code: str
    subscription: str
    valid_through: dt.date | None
    digital: bool
    valid: bool
    reason: str


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


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def access_from_claims(memberships: list[dict[str, Any]], *, today: dt.date) -> Access:
    """E-books and audiobooks while any linked membership with digital rights is valid, through
    its valid-through date; otherwise the reasons why not, in Dutch."""
    rows = []
    for claim in memberships:
        valid_through = _date(claim.get("valid_through"))
        digital = str(claim.get("digital_rights") or "none") != "none"
        name = str(claim.get("library_name") or claim.get("library") or "")
        valid = digital and valid_through is not None and valid_through >= today
        if not digital:
            reason = f"Je abonnement bij {name} geeft geen toegang tot e-books en luisterboeken."
        elif valid_through is None or valid_through < today:
            ended = f" was geldig t/m {date_nl(valid_through)}" if valid_through else " is verlopen"
            reason = f"Je abonnement bij {name}{ended}."
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


def entitlements_for(*, username: str, on: dt.date) -> dict[str, Any]:
    """What the login account that has the name `username` now may use on `on`.

    Which memberships are the account's comes from the login service's links, kept by account
    id: a name that belonged to someone else before brings none of theirs. Their status, period
    and physical loans come from the library system."""
    name = username.strip().lower()
    links = login_service.account_links(username=name)
    numbers = [number for _, number in links]
    memberships = [
        m
        for m in Membership.objects.filter(
            customer__number__in=numbers,
            status=MembershipStatus.ACTIVE,
            start_date__lte=on,
            valid_through__gte=on,
        )
        .select_related("subscription_type", "library", "customer")
        .order_by("library__code", "-valid_through")
        if (m.library.code, m.customer.number) in links
    ]
    digital = [m for m in memberships if m.subscription_type.has_digital_rights]
    return {
        "username": name,
        "on": on.isoformat(),
        "ebooks": bool(digital),
        "audiobooks": bool(digital),
        "physical_loans": any(m.subscription_type.physical_loans for m in memberships),
        "valid_through": max(m.valid_through for m in digital).isoformat() if digital else None,
        "memberships": [
            {
                "library": m.library.code,
                "subscription": m.subscription_type.code,
                "digital_rights": m.subscription_type.digital_rights,
                "physical_loans": m.subscription_type.physical_loans,
                "valid_through": m.valid_through.isoformat(),
            }
            for m in memberships
        ],
    }
