"""The login service's pages in real Chromium, on a phone."""

import re

import pytest

from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import account_create
from bieb.mail.models import OutboxMessage
from tests.browser import snap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Leeslamp-Duinpan-42"


def test_signup_activate_and_log_in_on_a_phone(live_server: object, browser_page_for) -> None:  # type: ignore[no-untyped-def]
    page = browser_page_for(390, 844)
    base = live_server.url  # type: ignore[attr-defined]
    page.goto(f"{base}/kb/aanmelden/")
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
    page.get_by_label("Gebruikersnaam").fill("telefoon.lezer")
    page.get_by_label("E-mailadres").fill("telefoon@example.nl")
    snap(page, "aanmelden")
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("heading", name="Controleer je mail").wait_for()

    text = OutboxMessage.objects.get(to="telefoon@example.nl").text_body
    link = re.search(r"/kb/activeren/\S+", text)
    assert link
    page.goto(base + link.group(0))
    assert "10 tekens" in page.inner_text("#id_password1_helptext")
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD + "?")
    page.get_by_role("button", name="Wachtwoord opslaan en account activeren").click()
    page.get_by_text("niet gelijk").wait_for()
    snap(page, "wachtwoorden-ongelijk")
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Wachtwoord opslaan en account activeren").click()
    page.get_by_role("heading", name="Je inlogaccount is actief").wait_for()
    assert LoginAccount.objects.get(username="telefoon.lezer").state == AccountState.ACTIVE
    # nothing is wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_wrong_password_keeps_the_username_and_says_why(live_server: object, browser_page) -> None:  # type: ignore[no-untyped-def]
    account_create(username="lezer", email="l@example.nl", origin="online", actor="t")
    account = LoginAccount.objects.get(username="lezer")
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.save()
    page = browser_page
    page.goto(f"{live_server.url}/kb/inloggen/")  # type: ignore[attr-defined]
    page.get_by_label("Gebruikersnaam").fill("lezer")
    page.get_by_label("Wachtwoord").fill("fout-wachtwoord")
    page.keyboard.press("Enter")
    page.get_by_text("Gebruikersnaam of wachtwoord klopt niet.").wait_for()
    assert page.get_by_label("Gebruikersnaam").input_value() == "lezer"
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Mijn inlogaccount").wait_for()
    snap(page, "ingelogd")
