"""The member's payment link of a period: what it asks, once, and what paying does."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.memberships import membership_cancel
from bieb.customers.models import LedgerKind, LedgerLine, MembershipStatus
from bieb.customers.year import customer_saldo_of, period_from_token
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.payments.models import Payment, PaymentStatus
from bieb.payments.periods import NothingToPay, period_payable, period_payment_start
from bieb.payments.services import payment_status_apply
from bieb.staff.models import User
from tests.customers.year import fresh, link_in, mails, member, on, run

pytestmark = pytest.mark.django_db

D = dt.date


def back(public_id: object) -> str:
    return f"/terug/{public_id}/"


def test_a_booked_periods_link_pays_what_is_open_once(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    token = link_in(mails(membership, "renewal_automatic")[0])
    with on(D(2025, 5, 3)):
        period = period_from_token(token)
        assert period is not None
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("20"), method="contant"
        )
        assert period_payable(period) == Decimal("44.50")  # the rest
        first = period_payment_start(period=period, return_url=back)
        again = period_payment_start(period=period, return_url=back)
        assert again.pk == first.pk and first.amount == Decimal("44.50")
        for _ in range(2):  # a replayed webhook
            payment_status_apply(payment_id=first.pk, status=PaymentStatus.PAID)
        assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 3
        assert customer_saldo_of(membership.customer_id) == Decimal("0.00")
        with pytest.raises(NothingToPay, match="betaald: je abonnement loopt t/m 31-05-2026"):
            period_payable(period)
    assert fresh(membership).rights_through == D(2026, 5, 31)
    assert Payment.objects.count() == 1


def test_the_link_page_shows_library_name_period_and_amount_and_goes_to_the_provider(
    client: Client,
    bind: Library,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    membership = member(balie, branch_5280, digital_only, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    token = link_in(mails(membership, "renewal_fixed")[0])
    with on(D(2025, 5, 4)):
        page = client.get(f"/betalen/verlengen/{token}/")
        text = page.content.decode()
        assert page.status_code == 200
        for shown in ["Bibliotheken Bind", "Mw. E.B.", "01-06-2025", "31-05-2026", "€ 42,00"]:
            assert shown in text
        assert membership.customer.number not in text  # no more than it needs
        answer = client.post(f"/betalen/verlengen/{token}/")
    assert answer.status_code == 302
    payment = Payment.objects.get()
    assert answer["Location"] == payment.checkout_url
    assert fresh(membership).status == MembershipStatus.ACTIVE  # nothing renewed before paying


def test_a_cancelled_membership_link_pays_nothing_and_a_late_payment_is_a_problem(
    bind: Library, balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, digital_only, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    token = link_in(mails(membership, "renewal_fixed")[0])
    with on(D(2025, 5, 5)):
        period = period_from_token(token)
        assert period is not None
        payment = period_payment_start(period=period, return_url=back)
        membership_cancel(membership=membership, reason="prijs", actor=balie)
        period.refresh_from_db()
        with pytest.raises(NothingToPay, match="opgezegd of gewijzigd"):
            period_payable(period)
        payment_status_apply(payment_id=payment.pk, status=PaymentStatus.PAID)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and "Terugbetalen" in payment.problem
    assert (
        not LedgerLine.objects.filter(kind=LedgerKind.PAYMENT, amount=Decimal("-42"))
        .exclude(method="pin")
        .exists()
    )
    assert fresh(membership).rights_through == D(2025, 5, 31)
    assert period_from_token(token + "x") is None
