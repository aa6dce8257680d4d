"""In Chromium: the staff session ends while a new customer is half typed; the form is sent,
the counter's login page comes, and after logging in the form is back with what was typed, and
the registration is finished from there."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from playwright.sync_api import expect

from bieb.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIGITAL_ONLY = "0141 Digital only € 42,00 /12 mnd"


@pytest.fixture
def base(live_server: Any, demo: None) -> Iterator[str]:
    with override_settings(BIEB_BASE_URL=live_server.url):
        yield live_server.url


def log_in(page: Any) -> None:
    page.get_by_label("Gebruikersnaam").fill("balie")
    page.get_by_label("Wachtwoord").fill(settings.BIEB_DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()


def test_a_half_typed_customer_survives_the_end_of_the_session(
    base: str, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{base}/balie/klanten/nieuw/")
    log_in(page)
    page.get_by_label("Klantnummer").press("v")
    page.get_by_label("Klantnummer").press("Enter")
    page.get_by_role("dialog", name="Bevestig").get_by_role("button", name="Ja").click()
    page.get_by_label("Aanhef").select_option(label="Mw.")
    page.get_by_label("Voorletters").fill("E.B.")
    page.get_by_label("Achternaam").fill("Halverwege")
    page.get_by_label("Geboortedatum (dd-mm-jjjj)").fill("04-01-1991")
    page.get_by_label("E-mail").fill("halverwege@example.nl")

    Session.objects.all().delete()  # idle too long, or the working day is over

    with page.expect_navigation():
        page.get_by_role("button", name="Volgende").first.click()
    page.get_by_role("heading", name="Inloggen bij de balie").wait_for()
    assert "wat er was ingevuld, staat daarna weer klaar" in page.content()
    assert "Halverwege" not in page.url
    log_in(page)

    expect(page.get_by_role("status")).to_contain_text("Wat er was ingevuld, staat er weer")
    expect(page.get_by_label("Achternaam")).to_have_value("Halverwege")
    expect(page.get_by_label("Voorletters")).to_have_value("E.B.")
    expect(page.get_by_label("Geboortedatum (dd-mm-jjjj)")).to_have_value("04-01-1991")
    expect(page.get_by_label("E-mail")).to_have_value("halverwege@example.nl")
    expect(page.get_by_label("Klantnummer")).to_have_value("V" * 14)
    expect(page.get_by_label("Aanhef")).to_have_value("mw")

    # The rest, and the registration goes through.
    page.get_by_label("Postcode").fill("9468 BG")
    page.get_by_label("Huisnummer").fill("41")
    page.locator("#id_identity_checked_ja").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Volgende").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Nieuw inlogaccount genereren").click()
    page.get_by_label(DIGITAL_ONLY).check()
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("region", name="Opbouw abonnementskosten").get_by_role(
            "button", name="OK", exact=True
        ).click()
    page.get_by_role("dialog").get_by_text("Genereren van inlogaccount gelukt").wait_for()
    customer = Customer.objects.get()
    assert customer.surname == "Halverwege" and customer.email == "halverwege@example.nl"
