"""The entitlement answer comes from the login service's copy of the memberships (the Online
Bibliotheek never reads the library's tables), and says what the library's own records say:
through a member's years (registration, payment, renewal by the run, arrears, cancelling) the
answer from the copy equals the one computed from the library's memberships, as the endpoint
did before the copy held the period, start and physical loans."""

import datetime as dt
from typing import Any

import pytest

from bieb.customers.memberships import membership_cancel
from bieb.customers.models import Membership, MembershipStatus
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.online.selectors import entitlements_for
from bieb.staff.models import User
from tests.customers.year import fresh, member, on, pay_saldo, run

D = dt.date


def library_answer(username: str, on: dt.date) -> dict[str, Any]:
    """The answer as the library's own records give it: the endpoint's rules, on `Membership`
    (the customer number is the counter-made username)."""
    memberships = list(
        Membership.objects.filter(customer__number=username, start_date__lte=on)
        .select_related("subscription_type", "library")
        .order_by("library__code", "-valid_through")
    )

    def reason_of(m: Membership) -> str:
        if m.has_rights_on(on):
            return "" if m.subscription_type.has_digital_rights else "geen_digitale_rechten"
        if m.is_cancelled and m.status == MembershipStatus.ENDED:
            return "opgezegd"
        if m.status in ("wacht_op_betaling", "betalingsachterstand", "uitgeschreven"):
            return str(m.status)
        if m.rights_through is None:
            return "wacht_op_betaling"
        return "verlopen"

    rows = [(m, reason_of(m)) for m in memberships]
    valid = [m for m, _ in rows if m.has_rights_on(on)]
    digital = [m for m in valid if m.subscription_type.has_digital_rights]
    reason = None
    if not digital:
        candidates = [r for m, r in rows if m.subscription_type.has_digital_rights and r] or [
            r for _, r in rows if r
        ]
        reason = candidates[0] if candidates else "geen_lidmaatschap"
    days = [m.rights_through for m in digital if m.rights_through]
    return {
        "username": username,
        "on": on.isoformat(),
        "ebooks": bool(digital),
        "audiobooks": bool(digital),
        "physical_loans": any(m.subscription_type.physical_loans for m in valid),
        "valid_through": max(days).isoformat() if days else None,
        "reason": reason,
        "memberships": [
            {
                "library": m.library.code,
                "subscription": m.subscription_type.code,
                "digital_rights": m.subscription_type.digital_rights,
                "physical_loans": m.subscription_type.physical_loans,
                "status": m.status,
                "valid_through": m.valid_through.isoformat(),
                "rights_through": m.rights_through.isoformat() if m.rights_through else None,
                "rights": m.has_rights_on(on),
                "reason": r or None,
            }
            for m, r in rows
        ],
    }


def same(membership: Membership, *days: dt.date) -> dict[str, Any]:
    username = fresh(membership).customer.number
    answer = {}
    for day in days:
        answer = entitlements_for(username=username, on=day)
        assert answer == library_answer(username, day), day
    return answer


@pytest.mark.django_db
def test_the_copy_answers_as_the_library_through_the_years(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    adult: SubscriptionType,
) -> None:
    # Registered, not yet paid; then paid at the desk.
    vast = member(balie, branch_5280, digital_only, D(2024, 6, 12), pay=False)
    doorlopend = member(balie, branch_5280, adult, D(2024, 6, 12), pay=False)
    assert same(vast, D(2024, 6, 12))["reason"] == "wacht_op_betaling"
    with on(D(2024, 6, 12), hour=11):
        pay_saldo(balie, fresh(vast).customer)
        pay_saldo(balie, fresh(doorlopend).customer)
    assert same(vast, D(2024, 6, 11), D(2024, 6, 12), D(2025, 5, 31))["ebooks"] is True
    assert same(doorlopend, D(2024, 6, 12))["physical_loans"] is True

    # The run offers the Vast one and books the Doorlopend ones (the period moves on at once,
    # the rights when paid); none is paid: the Vast one ends, the others wait for payment.
    third = member(balie, branch_5280, adult, D(2024, 6, 12))
    for day in (D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1)):
        run(bind, day)
        for membership in (vast, doorlopend, third):
            same(membership, day, day + dt.timedelta(days=1))
    assert same(doorlopend, D(2025, 7, 1))["memberships"][0]["valid_through"] == "2026-05-31"
    assert same(vast, D(2025, 7, 1))["memberships"][0]["status"] == "beeindigd"
    assert fresh(doorlopend).status == MembershipStatus.AWAITING_PAYMENT

    # Paid late: the rights come back; then cancelled at once.
    with on(D(2025, 7, 2)):
        pay_saldo(balie, fresh(doorlopend).customer)
    assert same(doorlopend, D(2025, 7, 2))["ebooks"] is True
    with on(D(2025, 7, 3)):
        membership_cancel(
            membership=fresh(doorlopend), reason="verhuisd", at_once=True, actor=balie
        )
    assert same(doorlopend, D(2025, 7, 3))["memberships"][0]["reason"] == "opgezegd"

    # Never paid: uitgeschreven.
    for day in (D(2025, 8, 1), D(2025, 9, 1), D(2025, 10, 1)):
        run(bind, day)
        same(third, day)
    assert same(third, D(2025, 10, 1))["reason"] == "uitgeschreven"
