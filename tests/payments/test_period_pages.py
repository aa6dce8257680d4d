"""The member's payment link page (/betalen/verlengen/<token>/), in every state it can meet,
with the demo payment service and with Mollie (the local fake Mollie server)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client, override_settings

from bieb.customers.memberships import membership_cancel, membership_renew
from bieb.customers.models import LedgerKind, LedgerLine, MembershipStatus, PeriodState
from bieb.customers.renewals import renewals_run
from bieb.customers.year import (
    membership_data,
    membership_period_to_pay,
    period_from_token,
    period_pay_url,
)
from bieb.kb.models import LinkedMembership
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from bieb.staff.models import User
from tests.payments.fake_mollie import FakeMollie
from tests.payments.year import at, member_registered, membership_of, renewal_link

pytestmark = pytest.mark.django_db

MAY_10 = dt.date(2025, 5, 10)


@pytest.fixture
def member(balie: User, branch_5280: Branch, digital_only: SubscriptionType):  # type: ignore[no-untyped-def]
    return member_registered(balie, branch_5280, digital_only)


@pytest.fixture
def link(member) -> str:  # type: ignore[no-untyped-def]
    return renewal_link(member)


def page(client: Client, url: str, day: dt.date = MAY_10):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day)):
        return client.get(url)


def post(client: Client, url: str, day: dt.date = MAY_10):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day)):
        return client.post(url)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_a_vast_renewal_shows_only_library_name_period_and_amount_with_one_big_button(
    client: Client, member, link: str
) -> None:
    response = page(client, link)
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Abonnement verlengen</h1>" in html
    assert "Je abonnement loopt af op 31-05-2025." in html
    assert "Mw. E.B. Tester" in html and "0141 Digital only € 42,00 /12 mnd" in html
    assert "01-06-2025 t/m 31-05-2026" in html
    assert '<dd class="amount" id="amount">€ 42,00</dd>' in html
    assert ">Verlengen en betalen</button>" in html
    # nothing else about the member: no customer number, address, e-mail or saldo
    for private in (member.number, member.email, "9468", "Saldo"):
        assert private not in html
    # the library's contact details, tappable
    assert "Bibliotheken Bind" in html
    assert '<a href="tel:0592123456">0592 123 456</a>' in html
    assert '<a href="mailto:info@bind.example">info@bind.example</a>' in html
    assert "Stationsstraat 1, 9401 KX Assen" in html


def test_renew_and_pay_with_the_demo_service_twice_pressed_is_one_payment(
    client: Client, member, link: str
) -> None:
    first = post(client, link)
    second = post(client, link)  # a double click, or the member pressed again
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] and "/betalen/demo/" in first["Location"]
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.amount == Decimal("42.00") and payment.status == PaymentStatus.OPEN

    with time_machine.travel(at(MAY_10)):
        back = client.post(first["Location"], {"uitkomst": "betaald"})
        paid = client.get(back["Location"])
    html = text(paid)
    assert "Betaald, dank je wel" in html
    assert (
        "We hebben € 42,00 ontvangen. Je abonnement (0141 Digital only € 42,00 /12 mnd) "
        "loopt t/m 31-05-2026." in html
    )
    assert 'href="/online/inloggen/">Naar de Online Bibliotheek</a>' in html

    membership = membership_of(member)
    assert membership.rights_through == dt.date(2026, 5, 31)
    assert LinkedMembership.objects.get(customer_number=member.number).valid_through == (
        dt.date(2026, 5, 31)
    )
    assert LedgerLine.objects.filter(customer=member, kind=LedgerKind.PAYMENT).count() == 2

    # the link again, later: paid, nothing more to pay, no button
    again = page(client, link, dt.date(2025, 5, 20))
    assert "<h1>Al betaald</h1>" in text(again)
    assert "Deze periode is betaald: je abonnement loopt t/m 31-05-2026." in text(again)
    assert "<button" not in text(again)
    assert "<h1>Al betaald</h1>" in text(post(client, link, dt.date(2025, 5, 20)))
    assert Payment.objects.count() == 1


def test_a_failed_payment_says_nothing_was_paid_and_a_retry_is_a_new_payment(
    client: Client, member, link: str
) -> None:
    checkout = post(client, link)["Location"]
    with time_machine.travel(at(MAY_10)):
        back = client.post(checkout, {"uitkomst": "mislukt"})
        failed = client.get(back["Location"])
    assert "Betaling niet gelukt" in text(failed)
    assert "er is niets afgeschreven" in text(failed)
    assert f'href="{link}">Opnieuw proberen</a>' in text(failed)
    assert post(client, link)["Location"] != checkout
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "open"]
    assert membership_of(member).rights_through == dt.date(2025, 5, 31)


def test_a_booked_period_is_paid_with_betalen(
    client: Client, member, balie: User, branch_5280: Branch
) -> None:
    # renewed at the desk ("Verlengen"), not paid there: the member pays with the link
    with time_machine.travel(at(MAY_10)):
        membership_renew(membership=membership_of(member), actor=balie)
        period = membership_period_to_pay(membership_of(member))
    assert period is not None and period.state == PeriodState.BOOKED
    url = period_pay_url(period).removeprefix("http://testserver")
    url = url[url.index("/betalen/") :]
    html = text(page(client, url))
    assert "<h1>Abonnement betalen</h1>" in html and ">Betalen</button>" in html
    assert "Verlengen en betalen" not in html
    assert '<dd class="amount" id="amount">€ 42,00</dd>' in html
    # the link the login service's copy carries (once it is pushed) pays this period (signed
    # links of the same period differ in their timestamp from one second to the next)
    carried = membership_data(membership_of(member)).pay_url
    assert period_from_token(carried.rstrip("/").rsplit("/", 1)[1]) == period


def test_a_cancelled_membership_link_no_longer_pays(
    client: Client, member, link: str, balie: User
) -> None:
    with time_machine.travel(at(MAY_10)):
        membership_cancel(membership=membership_of(member), reason="prijs", actor=balie)
    response = page(client, link)
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Deze betaallink werkt niet meer</h1>" in html
    assert "Dit abonnement is opgezegd of gewijzigd; deze betaallink werkt niet meer." in html
    assert "<button" not in html and "0592 123 456" in html
    post(client, link)
    assert not Payment.objects.exists()


def test_after_uitgeschreven_the_link_sends_the_member_to_the_library(
    client: Client, balie: User, branch_5280: Branch, digital_only: SubscriptionType, bind: Library
) -> None:
    member = member_registered(balie, branch_5280, digital_only, paid=False)
    period = membership_period_to_pay(membership_of(member))
    assert period is not None
    url = period_pay_url(period)
    url = url[url.index("/betalen/") :]
    day = dt.date(2024, 9, 13)
    with time_machine.travel(at(day)):
        renewals_run(library=bind, day=day, started_by="test")
    assert membership_of(member).status == MembershipStatus.DEREGISTERED
    html = text(page(client, url, day))
    assert "<h1>Abonnement beëindigd</h1>" in html
    assert "beëindigd wegens een betalingsachterstand. Neem contact op met de bibliotheek" in html
    assert "<button" not in html
    assert '<a href="tel:0592123456">0592 123 456</a>' in html


@pytest.mark.parametrize(
    "url",
    [
        "/betalen/verlengen/nonsense/",
        "/betalen/verlengen/eyJwIjoxfQ:1tXyZ:abcdefabcdefabcdefabcdefabcdefabcdefabcdefa/",
    ],
)
def test_a_wrong_link_gets_a_dutch_page_with_404(client: Client, demo: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    html = text(response)
    assert "<h1>Deze betaallink klopt niet of is te oud</h1>" in html
    assert "Er is niets betaald." in html and 'href="/online/"' in html


def test_a_link_too_old_gets_the_same_page(client: Client, member, link: str) -> None:
    response = page(client, link, MAY_10 + dt.timedelta(days=401))
    assert response.status_code == 404
    assert "Deze betaallink klopt niet of is te oud" in text(response)
    unknown_return = link + "terug/00000000-0000-0000-0000-000000000000/"
    assert page(client, unknown_return).status_code == 404


def test_a_library_that_takes_payments_only_at_the_desk_says_so_before_any_button(
    client: Client, member, link: str, bind: Library
) -> None:
    bind.payment_provider = "balie"
    bind.save()
    html = text(page(client, link))
    assert "Online betalen kan bij deze bibliotheek niet. Betaal aan de balie" in html
    assert "<button" not in html
    assert post(client, link).status_code == 200
    assert not Payment.objects.exists()


@pytest.fixture
def mollie_bind(bind: Library, fake_mollie: FakeMollie) -> Library:
    bind.payment_provider = "mollie"
    bind.save()
    return bind


def test_a_mollie_library_renews_and_pays_as_the_demo_one(
    client: Client, member, link: str, mollie_bind: Library, fake_mollie: FakeMollie
) -> None:
    first = post(client, link)
    assert post(client, link)["Location"] == first["Location"]
    [mollie_payment] = fake_mollie.payments.values()
    assert first["Location"] == mollie_payment["_links"]["checkout"]["href"]
    assert mollie_payment["amount"] == {"value": "42.00", "currency": "EUR"}
    assert mollie_payment["description"].startswith("Bibliotheken Bind Digital only 01-06-2025")
    payment = Payment.objects.get()
    assert mollie_payment["redirectUrl"].endswith(f"{link}terug/{payment.public_id}/")

    # back before the bank decided: the page waits (and looks again)
    waiting = page(client, f"{link}terug/{payment.public_id}/")
    assert "We wachten op je betaling" in text(waiting)
    fake_mollie.set_status(mollie_payment["id"], "paid")
    paid = page(client, f"{link}terug/{payment.public_id}/")
    assert "Betaald, dank je wel" in text(paid)
    assert membership_of(member).rights_through == dt.date(2026, 5, 31)


def test_mollie_down_says_so_and_nothing_is_paid_then_it_works(
    client: Client, member, link: str, mollie_bind: Library, fake_mollie: FakeMollie
) -> None:
    with override_settings(BIEB_MOLLIE_API_ENDPOINT="http://127.0.0.1:9"):
        down = post(client, link)
    assert down.status_code == 503
    html = text(down)
    assert "De betaaldienst is nu niet bereikbaar; er is niets betaald." in html
    assert ">Verlengen en betalen</button>" in html  # try again from here
    assert not fake_mollie.payments
    assert post(client, link).status_code == 302
    assert len(fake_mollie.payments) == 1 and Payment.objects.count() == 1


def test_mollie_without_a_key_is_told_before_the_button(
    client: Client, member, link: str, bind: Library
) -> None:
    bind.payment_provider = "mollie"
    bind.save()
    with override_settings(BIEB_MOLLIE_API_KEY=""):
        html = text(page(client, link))
    assert "De betaaldienst is nu niet bereikbaar" in html and "<button" not in html


def test_the_demo_checkout_of_the_link_is_the_demo_services_own(
    client: Client, member, link: str
) -> None:
    post(client, link)
    checkout = DemoCheckout.objects.get()
    assert checkout.amount == Decimal("42.00")
