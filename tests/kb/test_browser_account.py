""" "Mijn inlogaccount" in real Chromium on a phone (390x844): change the e-mail address with
both mails from a real SMTP server, change the password and see the other browser logged out of
/kb/ and /online/, RP-initiated logout from /online/, download the data, delete the account and
see the counter's customer unlinked, and the counter's e-mail difference confirmed by the
member. Every page on the way passes axe-core with no violations."""

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from bieb.customers.models import Customer
from bieb.customers.services import customer_register
from bieb.kb.models import AccountState, LinkedMembership, LoginAccount
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.axe import axe_violations
from tests.browser import snap
from tests.customers.factories import details
from tests.signup.factories import PASSWORD, active_account
from tests.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Boekenkast-Zeewind-73"


@pytest.fixture
def base(kb_live: str, smtp_server: SmtpServer) -> Iterator[str]:
    yield kb_live


def phone(browser_page_for: Any) -> Any:
    return browser_page_for(390, 844)


def checked(page: Any, state: str) -> None:
    """A screenshot of the step, nothing wider than the phone, and no axe violation."""
    snap(page, state)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == [], state


def mail_to(smtp: SmtpServer, to: str, subject: str) -> str:
    """The text of the mail to `to` whose subject has `subject` (sent after commit: waited for)."""
    deadline = time.monotonic() + 10
    while True:
        for message, recipients in zip(smtp.received, smtp.recipients, strict=False):
            if to in recipients and subject in str(message["Subject"]):
                return str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"no mail '{subject}' to {to}"
        time.sleep(0.05)


def path_in(text: str, prefix: str) -> str:
    link = re.search(rf"https?://[^/\s]+({prefix}\S+)", text)
    assert link, text
    return link.group(1)


def submit(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def follow(page: Any, link: str) -> None:
    """Click a link and wait for the page it leads to (a check right after a bare click can
    run between two documents, when there is no documentElement)."""
    with page.expect_navigation():
        page.get_by_role("link", name=link).click()


def kb_sign_in(page: Any, base: str, username: str = "e.b.tester") -> None:
    page.goto(f"{base}/kb/account/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    submit(page, "Inloggen")
    page.get_by_role("heading", name="Mijn inlogaccount").wait_for()


def online_sign_in(page: Any, base: str, username: str = "e.b.tester") -> None:
    page.goto(f"{base}/online/")
    with page.expect_navigation():
        page.get_by_role("link", name="Inloggen").click()
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    submit(page, "Inloggen")
    page.get_by_role("heading", name=f"Hallo {username}").wait_for()


def linked(account: LoginAccount) -> None:
    LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number="25280000000017",
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=dt.date.today() + dt.timedelta(days=200),
        state="actief",
    )


def test_change_username_and_e_mail_with_both_mails(
    base: str, smtp_server: SmtpServer, browser_page_for: Any
) -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    linked(account)
    page = phone(browser_page_for)
    kb_sign_in(page, base)
    checked(page, "mijn inlogaccount")

    follow(page, "Gebruikersnaam wijzigen")
    page.get_by_label("Nieuwe gebruikersnaam").fill("25280000000017")
    submit(page, "Gebruikersnaam opslaan")
    page.locator("#id_username_error").get_by_text("minstens één letter").wait_for()
    checked(page, "gebruikersnaam alleen cijfers")
    page.get_by_label("Nieuwe gebruikersnaam").fill("els.leest")
    submit(page, "Gebruikersnaam opslaan")
    assert page.inner_text("#username") == "els.leest"
    page.get_by_text("Log voortaan in met els.leest").wait_for()
    checked(page, "gebruikersnaam gewijzigd")

    follow(page, "E-mailadres wijzigen")
    page.get_by_label("Nieuw e-mailadres").fill("oud@example.nl")
    submit(page, "Stuur bevestigingslink")
    page.get_by_text("Dit is al het e-mailadres").wait_for()
    checked(page, "e-mail ongewijzigd")
    page.get_by_label("Nieuw e-mailadres").fill("nieuw@example.nl")
    submit(page, "Stuur bevestigingslink")
    page.get_by_role("heading", name="Kijk in je mail").wait_for()
    checked(page, "e-mail kijk in je mail")

    text = mail_to(smtp_server, "nieuw@example.nl", "Bevestig je nieuwe e-mailadres")
    page.goto(base + path_in(text, "/kb/e-mail-bevestigen/"))
    assert LoginAccount.objects.get(pk=account.pk).email == "oud@example.nl"  # GET changes nothing
    checked(page, "e-mail bevestigen")
    submit(page, "Bevestig mijn nieuwe e-mailadres")
    page.get_by_role("heading", name="Je e-mailadres is gewijzigd").wait_for()
    checked(page, "e-mail gewijzigd")
    told = mail_to(smtp_server, "oud@example.nl", "Het e-mailadres van je inlogaccount")
    assert "gewijzigd in n…@example.nl" in told
    follow(page, "Naar Mijn inlogaccount")
    assert page.inner_text("#email") == "nieuw@example.nl"

    # the used link again: dead
    page.goto(base + path_in(text, "/kb/e-mail-bevestigen/"))
    page.get_by_role("heading", name="Deze link werkt niet meer").wait_for()
    checked(page, "e-mail link gebruikt")


def test_a_password_change_logs_the_other_browser_out_of_kb_and_online(
    base: str, smtp_server: SmtpServer, browser_page_for: Any
) -> None:
    linked(active_account("e.b.tester"))
    other = browser_page_for(1280, 800)
    online_sign_in(other, base)
    other.goto(f"{base}/kb/account/")
    other.get_by_role("heading", name="Mijn inlogaccount").wait_for()

    page = phone(browser_page_for)
    kb_sign_in(page, base)
    follow(page, "Wachtwoord wijzigen")
    checked(page, "wachtwoord wijzigen")
    page.get_by_label("Huidig wachtwoord").fill("fout-wachtwoord")
    page.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(NEW_PASSWORD)
    submit(page, "Wachtwoord opslaan")
    page.get_by_text("Dit wachtwoord klopt niet.").wait_for()
    checked(page, "wachtwoord huidig fout")
    page.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    page.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(NEW_PASSWORD)
    submit(page, "Wachtwoord opslaan")
    page.get_by_text("Je wachtwoord is gewijzigd").wait_for()
    checked(page, "wachtwoord gewijzigd")
    told = mail_to(smtp_server, "e.b.tester@example.nl", "Je wachtwoord is gewijzigd")
    assert "Je bent overal\nuitgelogd" in told

    other.goto(f"{base}/kb/account/")
    other.get_by_role("heading", name="Inloggen").wait_for()  # logged out of the KB
    other.goto(f"{base}/online/")
    other.get_by_text("Je bent uitgelogd").wait_for()  # and of the Online Bibliotheek
    assert other.get_by_role("link", name="Inloggen").is_visible()
    checked(other, "online uitgelogd na wachtwoordwijziging")
    # the phone is still signed in where the change was made
    page.goto(f"{base}/kb/account/")
    page.get_by_role("heading", name="Mijn inlogaccount").wait_for()


def test_rp_initiated_logout_from_the_online_bibliotheek(base: str, browser_page_for: Any) -> None:
    linked(active_account("e.b.tester"))
    page = phone(browser_page_for)
    online_sign_in(page, base)
    assert page.get_by_role("link", name="Mijn inlogaccount").get_attribute("href") == (
        f"{base}/kb/account/"
    )
    mine = page.get_by_role("link", name="Mijn bibliotheek: Bibliotheken Bind")
    assert mine.get_attribute("href") == "/mijn/bind/"
    checked(page, "online met links")

    submit(page, "Uitloggen")
    assert page.url == f"{base}/online/uitgelogd/"
    page.get_by_text("bij de inlogdienst van de KB").wait_for()
    checked(page, "online en kb uitgelogd")
    page.goto(f"{base}/kb/account/")
    page.get_by_role("heading", name="Inloggen").wait_for()

    # Without a usable hint the KB asks; "Nee" keeps the member signed in there.
    kb_sign_in(page, base)
    back = f"{base}/online/uitgelogd/"
    page.goto(
        f"{base}/kb/logout/?client_id=online-bibliotheek&post_logout_redirect_uri={back}"
        "&id_token_hint=niet-te-lezen"
    )
    page.get_by_role("heading", name="Uitloggen bij de KB?").wait_for()
    checked(page, "kb vraagt uitloggen")
    submit(page, "Nee, ingelogd blijven")
    page.get_by_text("Je bent nog ingelogd bij de KB.").wait_for()
    checked(page, "kb uitloggen geweigerd")
    page.goto(f"{base}/kb/logout/?client_id=online-bibliotheek&post_logout_redirect_uri={back}")
    submit(page, "Ja, uitloggen")
    assert page.url == back
    page.goto(f"{base}/kb/account/")
    page.get_by_role("heading", name="Inloggen").wait_for()


def test_download_data_and_log_out_everywhere(base: str, browser_page_for: Any) -> None:
    linked(active_account("e.b.tester"))
    page = phone(browser_page_for)
    kb_sign_in(page, base)
    follow(page, "Bekijk mijn gegevens")
    page.get_by_role("heading", name="Mijn gegevens bij de inlogdienst").wait_for()
    assert "25280000000017" in page.inner_text("main")
    checked(page, "mijn gegevens")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download het als bestand (JSON)").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert data["inlogaccount"]["gebruikersnaam"] == "e.b.tester"
    assert download.value.suggested_filename.startswith("inlogaccount-")

    page.goto(f"{base}/kb/account/")
    submit(page, "Overal uitloggen")
    page.get_by_role("heading", name="Je bent overal uitgelogd").wait_for()
    checked(page, "overal uitgelogd")
    page.goto(f"{base}/kb/account/")
    page.get_by_role("heading", name="Inloggen").wait_for()


def staff_sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/balie/")
    page.get_by_label("Gebruikersnaam").fill("balie")
    page.get_by_label("Wachtwoord").fill(settings.BIEB_DEMO_PASSWORD)
    submit(page, "Inloggen")


def registered(balie: User, branch: Branch, subscription: SubscriptionType) -> Customer:
    """A customer registered at the counter whose login account was activated."""
    customer = customer_register(
        actor=balie,
        branch=branch,
        details=details(email="e.b.tester@example.nl"),
        subscription_type=subscription,
    ).customer
    account = LoginAccount.objects.get(pk=customer.login_account_id)
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.email_verified = True
    account.activation_deadline = None
    account.save()
    return customer


def test_delete_the_account_and_the_counter_shows_it_unlinked(
    base: str,
    browser_page_for: Any,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    customer = registered(balie, branch_5280, digital_only)
    page = phone(browser_page_for)
    kb_sign_in(page, base, customer.number)
    follow(page, "Inlogaccount verwijderen")
    page.get_by_text("Bibliotheken Bind hoort dat het inlogaccount weg is").wait_for()
    checked(page, "verwijderen")
    page.get_by_label("Je wachtwoord").fill("fout-wachtwoord")
    submit(page, "Verwijder mijn inlogaccount")
    page.get_by_text("Dit wachtwoord klopt niet.").wait_for()
    checked(page, "verwijderen wachtwoord fout")
    page.get_by_label("Je wachtwoord").fill(PASSWORD)
    submit(page, "Verwijder mijn inlogaccount")
    page.get_by_role("heading", name="Je inlogaccount is verwijderd").wait_for()
    checked(page, "verwijderd")

    desk = browser_page_for(1280, 800)
    staff_sign_in(desk, base)
    desk.goto(f"{base}/balie/klanten/{customer.number}/")
    desk.locator("#inlogaccount").get_by_text("Geen inlogaccount.").wait_for()
    assert desk.get_by_role("button", name="Nieuw inlogaccount genereren").is_visible()
    assert Customer.objects.get(pk=customer.pk).login_account_id is None


def test_the_counter_shows_the_e_mail_difference_and_the_member_confirms(
    base: str,
    smtp_server: SmtpServer,
    browser_page_for: Any,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    customer = registered(balie, branch_5280, digital_only)
    Customer.objects.filter(pk=customer.pk).update(email="nieuw@example.nl")
    desk = browser_page_for(1280, 800)
    staff_sign_in(desk, base)
    desk.goto(f"{base}/balie/klanten/{customer.number}/")
    assert desk.inner_text("#account-email") == "e.b.tester@example.nl"
    assert desk.inner_text("#customer-email") == "nieuw@example.nl"
    snap(desk, "balie e-mail verschilt")
    assert axe_violations(desk) == []
    submit(desk, "E-mail van inlogaccount wijzigen")
    desk.get_by_text("De KB heeft een bevestigingslink gestuurd naar nieuw@example.nl").wait_for()
    assert desk.inner_text("#account-pending-email") == "nieuw@example.nl"
    assert desk.inner_text("#account-email") == "e.b.tester@example.nl"
    assert axe_violations(desk) == []

    page = phone(browser_page_for)
    text = mail_to(smtp_server, "nieuw@example.nl", "Bevestig je nieuwe e-mailadres")
    page.goto(base + path_in(text, "/kb/e-mail-bevestigen/"))
    submit(page, "Bevestig mijn nieuwe e-mailadres")
    page.get_by_role("heading", name="Je e-mailadres is gewijzigd").wait_for()
    mail_to(smtp_server, "e.b.tester@example.nl", "Het e-mailadres van je inlogaccount")

    desk.goto(f"{base}/balie/klanten/{customer.number}/")
    assert desk.inner_text("#account-email") == "nieuw@example.nl"
    assert desk.locator("#customer-email").count() == 0
