"""The online sign-up in real Chromium on a phone (390 x 844): from /word-lid/bind/ through the
KB's sign-up and activation mail (real SMTP server), details, the demo payment service, to the
Online Bibliotheek. Also a failed payment with a retry, a double-clicked "Betalen" and a
replayed webhook."""

import re
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.db import connection

from bieb.core.dates import date_nl
from bieb.customers.models import Customer, LedgerKind, LedgerLine, MembershipStatus
from bieb.customers.selectors import customer_saldo
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.payments.models import Payment
from tests.browser import snap
from tests.signup.factories import PASSWORD, active_account
from tests.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page: Any) -> None:
    """Nothing is wider than the phone's screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def step(page: Any, name: str) -> None:
    fits(page)
    snap(page, name)


def choose_digital_only(page: Any, base: str) -> None:
    page.goto(f"{base}/word-lid/bind/")
    page.get_by_role("heading", name="Kies het type abonnement").wait_for()
    page.get_by_label("0141 Digital only").check()
    step(page, "abonnement")
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("heading", name="Inlogaccount").wait_for()
    step(page, "inlogaccount")


def fill_details(page: Any, *, postcode: str = "9468 BG") -> None:
    page.get_by_label("Aanhef").select_option("mw")
    page.get_by_label("Voorletters").fill("T.")
    page.get_by_label("Achternaam").fill("TestSingleIdentity")
    page.get_by_label("Geboortedatum (dd-mm-jjjj)").fill("04-01-1991")
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_label("Huisnummer").fill("41")


def log_in_at_the_kb(page: Any) -> None:
    page.get_by_role("link", name="Ik heb al een inlogaccount").click()
    page.get_by_label("Gebruikersnaam").fill("e.b.tester")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


# As `make run` serves it: the login service in the same process.
@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_sign_up_on_a_phone_pay_and_read_online(
    kb_live: str, smtp_server: SmtpServer, browser_page_for: Any
) -> None:
    page = browser_page_for(390, 844)
    choose_digital_only(page, kb_live)

    page.get_by_role("link", name="Inlogaccount aanmaken bij de KB").click()
    page.get_by_label("Gebruikersnaam").fill("telefoon.lezer")
    page.get_by_label("E-mailadres").fill("telefoon@example.nl")
    step(page, "kb-aanmelden")
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("heading", name="Controleer je mail").wait_for()
    step(page, "kb-controleer-je-mail")

    [mail] = smtp_server.received
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://\S+/kb/activeren/\S+", body)
    assert link is not None and "next=" in link.group(0)
    page.goto(link.group(0))
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    step(page, "kb-wachtwoord")
    page.get_by_role("button", name="Wachtwoord opslaan en account activeren").click()

    # back at the library, which asked the KB (OpenID Connect) whose account this is
    page.get_by_role("heading", name="Je gegevens").wait_for()
    assert page.get_by_label("E-mail", exact=True).input_value() == "telefoon@example.nl"
    page.wait_for_function("document.activeElement && document.activeElement.name === 'salutation'")
    fill_details(page, postcode="0468 BG")
    page.get_by_role("button", name="Volgende").click()
    page.get_by_text("Een Nederlandse postcode").first.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.name === 'postcode'")
    assert page.get_by_label("Achternaam").input_value() == "TestSingleIdentity"
    assert page.get_by_label("Postcode").input_value() == "0468 BG"
    step(page, "gegevens-fout")
    page.get_by_label("Postcode").fill("9468 BG")
    step(page, "gegevens")
    page.get_by_role("button", name="Volgende").click()

    page.get_by_role("heading", name="Controleren en betalen").wait_for()
    summary = page.inner_text("main dl")
    assert "Mw. T. TestSingleIdentity" in summary and "€ 42,00" in summary
    assert "tot en met" in summary and "je kunt het dan verlengen" in summary
    step(page, "controleren-en-betalen")
    page.get_by_role("button", name="Betalen").click()

    page.get_by_role("heading", name="Betalen").wait_for()  # the demo payment service
    assert "€ 42,00" in page.inner_text("main")
    step(page, "demo-betaalpagina")
    page.get_by_role("button", name="Betaald").click()

    page.get_by_role("heading", name="Welkom bij Bibliotheken Bind!").wait_for()
    customer = Customer.objects.get()
    membership = customer.memberships.get()
    valid_through = date_nl(membership.valid_through)
    summary = page.inner_text("dl")
    assert customer.number in summary and "€ 0,00" in summary and valid_through in summary
    step(page, "klaar")

    page.get_by_role("link", name="Naar de Online Bibliotheek").click()
    page.get_by_role("link", name="Inloggen").click()  # no password: the KB knows us already
    page.get_by_text(f"e-books en luisterboeken t/m {valid_through}").wait_for()
    step(page, "online-bibliotheek")

    assert membership.status == MembershipStatus.ACTIVE
    assert customer.login_account_id == LoginAccount.objects.get(username="telefoon.lezer").pk
    assert customer.email == "telefoon@example.nl"
    assert customer_saldo(customer=customer) == Decimal("0.00")
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1
    assert LinkedMembership.objects.get(customer_number=customer.number).digital_rights == (
        "compleet"
    )
    subjects = [str(m["Subject"]) for m in smtp_server.received]
    assert "Welkom bij Bibliotheken Bind: je abonnement is actief" in subjects


def test_a_failed_payment_a_double_clicked_retry_and_a_replayed_webhook(
    kb_live: str, browser_page_for: Any
) -> None:
    active_account("e.b.tester")
    page = browser_page_for(390, 844)
    choose_digital_only(page, kb_live)
    page.get_by_role("link", name="Ik heb al een inlogaccount").click()
    page.get_by_label("Gebruikersnaam").fill("e.b.tester")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    step(page, "kb-inloggen")
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("heading", name="Je gegevens").wait_for()
    fill_details(page)
    step(page, "gegevens")
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("heading", name="Controleren en betalen").wait_for()
    step(page, "controleren-en-betalen")
    page.get_by_role("button", name="Betalen").click()
    page.get_by_role("heading", name="Betalen").wait_for()
    step(page, "demo-betaalpagina")
    page.get_by_role("button", name="Mislukt").click()

    page.get_by_text("De betaling is mislukt.").wait_for()
    step(page, "betaling-mislukt")
    assert not Customer.objects.exists()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # A double click on a submit button: Chromium sends one POST, or two when the machine is
    # busy and the first navigation has not begun at the second click; either way one payment.
    page.get_by_role("button", name="Betalen").dblclick()
    page.get_by_role("heading", name="Betalen").wait_for()
    assert Payment.objects.count() == 2  # the failed one, and one new
    clicked = len([url for url in posts if url.endswith("/word-lid/bind/betalen/")])
    assert clicked in (1, 2)
    checkout = page.url
    # ... so here the same form is sent twice, as by an impatient member on a slow line: at
    # the same moment on PostgreSQL; one after the other on the tests' in-memory SQLite, whose
    # shared cache refuses concurrent writers outright ("table is locked") where a real
    # SQLite file would wait.
    page.go_back()
    page.get_by_role("heading", name="Controleren en betalen").wait_for()
    urls = page.evaluate(
        """async (together) => {
            const form = document.querySelector("main form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = together ? await Promise.all([send(), send()])
                                     : [await send(), await send()];
            return answers.map((answer) => answer.url);
        }""",
        connection.vendor == "postgresql",
    )
    assert urls == [checkout, checkout]
    assert len([url for url in posts if url.endswith("/word-lid/bind/betalen/")]) == clicked + 2
    assert Payment.objects.count() == 2
    page.goto(checkout)
    step(page, "demo-betaalpagina-herkansing")
    page.get_by_role("button", name="Betaald").click()
    page.get_by_role("heading", name="Welkom bij Bibliotheken Bind!").wait_for()
    step(page, "klaar-na-herkansing")

    paid = Payment.objects.get(status="paid")
    for _ in range(2):  # the provider delivers its webhook again
        answer = requests.post(
            f"{kb_live}/betalen/webhook/demo/", data={"id": paid.provider_id}, timeout=10
        )
        assert answer.status_code == 200
    page.reload()
    page.get_by_role("heading", name="Welkom bij Bibliotheken Bind!").wait_for()
    assert Customer.objects.count() == 1
    assert LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).count() == 1
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "paid"]


def test_an_existing_member_hears_it_right_after_logging_in_on_a_phone(
    kb_live: str, browser_page_for: Any
) -> None:
    active_account("e.b.tester")
    first = browser_page_for(390, 844)
    choose_digital_only(first, kb_live)
    log_in_at_the_kb(first)
    first.get_by_role("heading", name="Je gegevens").wait_for()
    fill_details(first)
    first.get_by_role("button", name="Volgende").click()
    first.get_by_role("heading", name="Controleren en betalen").wait_for()
    first.get_by_role("button", name="Betalen").click()
    first.get_by_role("button", name="Betaald").click()
    first.get_by_role("heading", name="Welkom bij Bibliotheken Bind!").wait_for()

    # later, on another phone, the member starts the sign-up again
    page = browser_page_for(390, 844)
    choose_digital_only(page, kb_live)
    log_in_at_the_kb(page)
    page.get_by_role("heading", name="Je bent al lid van Bibliotheken Bind").wait_for()
    assert page.get_by_label("Voorletters").count() == 0
    assert page.locator("h1").count() == 1
    step(page, "al-lid")
    page.get_by_role("link", name="Naar de Online Bibliotheek").click()
    page.wait_for_url(f"{kb_live}/online/**")
    assert Customer.objects.count() == 1
