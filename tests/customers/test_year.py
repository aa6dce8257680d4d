"""The membership year over two years, as the issue tells it: the seed's Digital only member
(Vast) registered in June 2024, renewed in May 2025 by the mail's link, not renewed in May 2026
so the rights end on 1 June 2026, renewed and paid on 10 June 2026 and the rights back at once.
And the rules the year is made of: which period a part payment pays (oldest first)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.memberships import membership_renew
from bieb.customers.models import MembershipStatus, PeriodState
from bieb.customers.year import customer_saldo_of, period_from_token
from bieb.kb.models import LinkedMembership
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.payments.models import PaymentStatus
from bieb.payments.periods import period_payment_start
from bieb.payments.services import payment_status_apply
from bieb.staff.models import User
from tests.customers.year import fresh, link_in, mails, member, on, periods, run

pytestmark = pytest.mark.django_db

TOKEN = "ent-" + "jaar" * 12
D = dt.date


@pytest.fixture
def token(settings: object) -> str:
    settings.BIEB_ENTITLEMENTS_TOKEN = TOKEN  # type: ignore[attr-defined]
    return TOKEN


def entitlements(client: Client, username: str) -> dict[str, object]:
    answer = client.get(
        f"/online/api/entitlements/{username}/", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def pay_link(message: object, *, on_day: dt.date) -> None:
    """The member follows the mail's link and pays with the demo provider."""
    with on(on_day, hour=20):
        period = period_from_token(link_in(message))  # type: ignore[arg-type]
        assert period is not None
        payment = period_payment_start(period=period, return_url=lambda pid: f"/terug/{pid}/")
        assert payment.provider == "demo" and payment.checkout_url
        payment_status_apply(payment_id=payment.pk, status=PaymentStatus.PAID)


def test_the_seeds_member_over_two_years(
    client: Client,
    token: str,
    bind: Library,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    # June 2024: registered at the desk, "Geldig t/m mei 2025", paid at once.
    membership = member(balie, branch_5280, digital_only, D(2024, 6, 12), pay=False)
    assert (membership.valid_through, membership.expiry_month) == (D(2025, 5, 31), 5)
    assert membership.status == MembershipStatus.AWAITING_PAYMENT
    assert membership.rights_through is None
    with on(D(2024, 6, 12), hour=11):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("42.00"), method="pin"
        )
    membership = fresh(membership)
    username = membership.customer.number
    assert (membership.status, membership.rights_through) == ("actief", D(2025, 5, 31))
    with on(D(2024, 6, 12), hour=11):
        assert entitlements(client, username)["ebooks"] is True

    # Before the lead time nothing happens.
    assert run(bind, D(2025, 4, 30)).offered == 0
    assert mails(membership) == []

    # May 2025, in the lead time: the next period is offered (Vast: nothing booked) and mailed.
    first = run(bind, D(2025, 5, 1))
    assert (first.offered, first.booked, first.mailed) == (1, 0, 1)
    assert periods(membership)[-1] == (
        D(2025, 6, 1),
        D(2026, 5, 31),
        "0141",
        Decimal("42.00"),
        PeriodState.OFFERED,
    )
    assert customer_saldo_of(membership.customer_id) == Decimal("0.00")
    (offer,) = mails(membership, "renewal_fixed")
    assert "loopt af op 31-05-2025" in offer.subject
    assert "Je abonnement loopt af op 31-05-2025." in offer.text_body
    assert "€ 42,00" in offer.text_body and "/betalen/verlengen/" in offer.text_body
    assert run(bind, D(2025, 5, 2)).mailed == 0  # once

    # The link renews and pays in one go.
    pay_link(offer, on_day=D(2025, 5, 10))
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2026, 5, 31))
    assert membership.valid_through == D(2026, 5, 31)
    assert periods(membership)[-1][-1] == PeriodState.BOOKED
    assert customer_saldo_of(membership.customer_id) == Decimal("0.00")
    assert run(bind, D(2025, 5, 29)).reminders == 0  # paid: no reminder

    # May 2026: offered again, not taken.
    assert run(bind, D(2026, 5, 1)).offered == 1
    assert len(mails(membership, "renewal_fixed")) == 2
    assert run(bind, D(2026, 5, 15)).reminders == 1
    with on(D(2026, 5, 31), hour=23, minute=59):
        assert entitlements(client, username)["ebooks"] is True

    # 1 June 2026: the rights have ended, "beëindigd", reason "verlopen".
    run(bind, D(2026, 6, 1))
    membership = fresh(membership)
    assert membership.status == MembershipStatus.ENDED
    assert membership.get_status_display() == "beëindigd"
    assert membership.rights_through == D(2026, 5, 31)
    with on(D(2026, 6, 1), hour=0, minute=1):
        answer = entitlements(client, username)
    assert (answer["ebooks"], answer["reason"]) == (False, "verlopen")
    assert AuditEvent.objects.filter(
        action="membership.status_changed", object_id=str(membership.pk), data__to="beeindigd"
    ).exists()
    kb_copy = LinkedMembership.objects.get(customer_number=username)
    assert (kb_copy.state, kb_copy.valid_through) == ("beeindigd", D(2026, 5, 31))
    assert "/betalen/verlengen/" in kb_copy.pay_url  # /online/ links to renew and pay

    # 10 June 2026: "Verlengen" and paid at the desk; the rights are back the same minute.
    with on(D(2026, 6, 10), hour=14, minute=5):
        period = membership_renew(membership=membership, actor=balie)
        assert (period.start, period.end, period.amount) == (
            D(2026, 6, 1),
            D(2027, 5, 31),
            Decimal("42.00"),
        )
        assert entitlements(client, username)["ebooks"] is False  # renewed, not paid yet
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("42.00"), method="contant"
        )
        answer = entitlements(client, username)
    assert (answer["ebooks"], answer["reason"], answer["valid_through"]) == (
        True,
        None,
        "2027-05-31",
    )
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2027, 5, 31))
    kb_copy = LinkedMembership.objects.get(customer_number=username)
    assert (kb_copy.state, kb_copy.valid_through, kb_copy.pay_url) == (
        "actief",
        D(2027, 5, 31),
        "",
    )


def test_the_lapsed_offer_can_still_be_paid_by_its_link_in_june(
    client: Client,
    token: str,
    bind: Library,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    membership = member(balie, branch_5280, digital_only, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    run(bind, D(2025, 6, 1))
    assert fresh(membership).status == MembershipStatus.ENDED
    (offer,) = mails(membership, "renewal_fixed")
    pay_link(offer, on_day=D(2025, 6, 10))
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2026, 5, 31))
    with on(D(2025, 6, 10), hour=20, minute=1):
        assert entitlements(client, membership.customer.number)["ebooks"] is True


def test_a_part_payment_pays_the_oldest_period_first(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    # Two periods booked and unpaid (registered unpaid, then renewed early): € 64,50 pays the
    # first, so the rights run through its end, not the second's.
    membership = member(balie, branch_5280, adult, D(2024, 6, 12), pay=False)
    with on(D(2024, 6, 13)):
        membership_renew(membership=membership, actor=balie)
    assert customer_saldo_of(membership.customer_id) == Decimal("129.00")
    with on(D(2024, 6, 14)):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2025, 5, 31))
    run(bind, D(2025, 6, 1))
    assert fresh(membership).status == MembershipStatus.AWAITING_PAYMENT
