"""The online sign-up with automatische incasso for the following years, on a phone (390 x 844)
in real Chromium: the choice unticked at first with its fields out of sight, ticked they
appear with the consent text; a wrong IBAN and no consent are told next to their fields with
what was typed kept; then paid, and the done page names the mandate. axe-core finds nothing on
the payment step (chosen, and with its errors) and on the done page."""

from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer
from bieb.debits.models import Mandate, MandateKind
from bieb.mail.models import OutboxMessage
from tests.axe import axe_violations
from tests.browser import expect_focus
from tests.signup.factories import active_account
from tests.signup.test_browser import fill_details, log_in_at_the_kb, step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page: Any, name: str) -> None:
    step(page, name)
    assert axe_violations(page) == [], name


# As `make run` serves it: the login service in the same process.
@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_sign_up_on_a_phone_with_automatische_incasso_for_the_next_years(
    kb_live: str, browser_page_for: Any
) -> None:
    active_account("e.b.tester")
    page = browser_page_for(390, 844)
    page.goto(f"{kb_live}/word-lid/bind/")
    page.get_by_label("0110 Volwassen Compleet").check()
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("heading", name="Inlogaccount").wait_for()
    log_in_at_the_kb(page)
    page.get_by_role("heading", name="Je gegevens").wait_for()
    fill_details(page)
    page.get_by_role("button", name="Volgende").click()

    page.get_by_role("heading", name="Controleren en betalen").wait_for()
    choice = page.get_by_label("Ja, betaal de volgende jaren met automatische incasso")
    iban = page.get_by_label("IBAN")
    consent = page.get_by_label("Ik geef deze machtiging")
    expect(choice).not_to_be_checked()  # optional: not chosen until the member does
    expect(iban).to_be_hidden()
    check(page, "betalen-incasso-niet-gekozen")

    choice.check()
    expect(iban).to_be_visible()
    main = page.inner_text("main")
    assert "Bibliotheken Bind (Incassant-ID NL69ZZZ123456780000)" in main
    assert "Machtigingskenmerk: W" in main
    assert page.get_by_label("Naam rekeninghouder").input_value() == "T. TestSingleIdentity"
    check(page, "betalen-incasso-gekozen")

    iban.fill("NL91 ABNA 0417 1643 01")  # one character wrong, and no consent yet
    page.get_by_role("button", name="Betalen").click()
    page.get_by_text("Het controlegetal van deze IBAN klopt niet").wait_for()
    page.get_by_text("Geef toestemming voor de automatische incasso.").wait_for()
    expect_focus(page, "id_iban")
    expect(choice).to_be_checked()
    assert iban.input_value() == "NL91 ABNA 0417 1643 01"  # what was typed stays
    check(page, "betalen-incasso-fouten")
    assert not Customer.objects.exists()

    iban.fill("NL91 ABNA 0417 1643 00")
    consent.check()
    page.get_by_role("button", name="Betalen").click()
    page.get_by_role("heading", name="Betalen").wait_for()  # the demo payment service
    page.get_by_role("button", name="Betaald").click()

    page.get_by_role("heading", name="Welkom bij Bibliotheken Bind!").wait_for()
    mandate = Mandate.objects.get()
    assert mandate.kind == MandateKind.ONLINE and mandate.iban == "NL91ABNA0417164300"
    assert mandate.customer == Customer.objects.get()
    assert mandate.consent_ip == "127.0.0.1" and "Chrom" in mandate.consent_user_agent
    main = page.inner_text("main")
    assert "De volgende jaren betaal je met automatische incasso" in main
    assert mandate.reference in main and "NL91ABNA •••• 4300" in main
    check(page, "klaar-met-incasso")
    welcome = OutboxMessage.objects.get(kind="signup.welcome")
    assert f"Machtigingskenmerk: {mandate.reference}" in welcome.text_body
