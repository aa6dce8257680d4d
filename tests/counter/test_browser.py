"""The counter in real Chromium, following the work instruction "Inschrijven bij de balie" step
by step: log in, register E.B. Tester for Digital only with `v` + Enter, generate the login
account, read the activation mail from a real SMTP server, activate, see "actief". Also the
moving case, expiry with "Vergeet inlogaccount", a keyboard-only run and a double-clicked OK.
With BIEB_SCREENSHOTS=<folder> every step is saved as a PNG."""

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from bieb.customers.models import Customer
from bieb.customers.services import customer_register
from bieb.customers.validators import HouseNumber
from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import account_activate
from bieb.kb.tokens import activation_tokens
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.browser import expect_focus, snap
from tests.customers.factories import details
from tests.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Leeslamp-Duinpan-42"
DIGITAL_ONLY = "0141 Digital only € 42,00 /12 mnd"


@pytest.fixture
def base(kb_live: str, smtp_server: SmtpServer) -> Iterator[str]:
    """The live server's address, also in the links the login service mails, with the Online
    Bibliotheek logging in there (where a member lands after activating)."""
    yield kb_live


def mails(smtp: SmtpServer, count: int) -> list[Any]:
    """The first `count` mails the SMTP server received (sent after commit, so wait a bit)."""
    deadline = time.monotonic() + 10
    while len(smtp.received) < count:
        assert time.monotonic() < deadline, f"{len(smtp.received)} of {count} mails arrived"
        time.sleep(0.05)
    return smtp.received[:count]


def text_of(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())


def activation_path(mail: Any) -> str:
    link = re.search(r"https?://\S+(/kb/activeren/\S+)", text_of(mail))
    assert link, text_of(mail)
    return link.group(1)


def activated(page: Any) -> None:
    """Save the password; the login service then sends the member on, signed in, to the Online
    Bibliotheek (tests/kb/test_browser.py follows them there)."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/kb/activeren/" in r.url
    ) as posted:
        page.get_by_role("button", name="Wachtwoord opslaan en account activeren").click()
    assert posted.value.status == 302
    assert posted.value.headers["location"] == "/online/inloggen/"
    page.wait_for_url(re.compile(r"/online/$"))


def no_overflow(page: Any) -> None:
    """Nothing wider than the screen, nothing sticking out of its card; on a desktop, no
    table's columns out of sight either (a table region scrolls sideways on a phone only)."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    out = page.evaluate(
        "[...document.querySelectorAll('.card')]"
        ".filter(card => card.scrollWidth > card.clientWidth + 1)"
        ".map(card => (card.id || card.className) + ' ' + card.scrollWidth + '>'"
        " + card.clientWidth + ' ' + location.pathname)"
    )
    assert out == [], out
    if width >= 1024:
        cut = page.evaluate(
            "[...document.querySelectorAll('.table-scroll')]"
            ".filter(region => region.scrollWidth > region.clientWidth)"
            ".map(region => (region.getAttribute('aria-labelledby')"
            " || region.querySelector('table').className) + ' ' + region.scrollWidth + '>'"
            " + region.clientWidth + ' ' + location.pathname)"
        )
        assert cut == [], cut


def step(page: Any, name: str) -> None:
    """A step of the instruction: its screenshot, and nothing wider than the screen (nor a
    table's columns cut off on a desktop)."""
    snap(page, name)
    no_overflow(page)


def log_in(page: Any, base: str, username: str = "balie") -> None:
    page.goto(f"{base}/balie/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(settings.BIEB_DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()


def keyboard_to_a_new_customer(page: Any, base: str) -> None:
    """Log in as balie and open "Nieuwe klant" with a generated number, with the keyboard
    alone, up to the focus in "Aanhef" (typing only once the page has put the focus where a
    person would see it)."""
    keys = page.keyboard
    page.goto(f"{base}/balie/")
    expect_focus(page, "id_username")
    keys.type("balie")
    keys.press("Tab")
    keys.type(settings.BIEB_DEMO_PASSWORD)
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_q")
    keys.press("Shift+Tab")  # to "Nieuwe klant"
    assert page.evaluate("document.activeElement.textContent") == "Nieuwe klant"
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_number")
    step(page, "start")
    keys.type("v")
    keys.press("Enter")
    page.get_by_role("dialog", name="Bevestig").wait_for()
    keys.press("Enter")  # Ja
    expect(page.get_by_label("Aanhef")).to_be_focused()


def fill_customer(page: Any, *, surname: str = "Tester", email: str = "") -> None:
    """The customer form as in the instruction's screen, from a generated number on."""
    page.get_by_label("Klantnummer").press("v")
    page.get_by_label("Klantnummer").press("Enter")
    page.get_by_role("dialog", name="Bevestig").get_by_role("button", name="Ja").click()
    expect(page.get_by_label("Klantnummer")).to_have_value("V" * 14)
    page.get_by_label("Aanhef").select_option(label="Mw.")
    page.get_by_label("Voorletters").fill("E.B.")
    page.get_by_label("Achternaam").fill(surname)
    page.get_by_label("Geboortedatum (dd-mm-jjjj)").fill("04-01-1991")
    page.get_by_label("Postcode").fill("9468 BG")
    page.get_by_label("Huisnummer").fill("41")
    page.locator("#id_identity_checked_ja").check()
    page.get_by_label("E-mail").fill(email or f"{surname.lower()}@example.nl")


def to_costs_with_a_new_account(page: Any, base: str) -> None:
    """Logged in: a new customer filled in, "Nieuw inlogaccount genereren" with Digital only,
    OK: on the costs page, before "Opslaan"."""
    page.goto(f"{base}/balie/klanten/nieuw/")
    fill_customer(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Volgende").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Nieuw inlogaccount genereren").click()
    page.get_by_label(DIGITAL_ONLY).check()
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()


def test_register_e_b_tester_activate_and_see_actief(
    base: str, browser_page: Any, smtp_server: SmtpServer
) -> None:
    page = browser_page
    page.goto(f"{base}/balie/")
    page.get_by_role("heading", name="Inloggen bij de balie").wait_for()
    expect_focus(page, "id_username")
    step(page, "inloggen")
    log_in(page, base)
    assert page.get_by_text("Bibliotheken Bind").is_visible()
    assert page.get_by_text("vestiging 5280 Bind Centrale").is_visible()
    step(page, "klanten")

    with page.expect_navigation():
        page.get_by_role("link", name="Nieuwe klant").first.click()
    expect_focus(page, "id_number")  # focus starts in Klantnummer
    assert page.get_by_label("Land").input_value() == "NL"
    assert page.locator("#id_use_login_account_ja").is_checked()
    assert not page.get_by_label("Nieuwsbrief").is_checked()
    step(page, "nieuwe-klant")

    # "Typ bij klantnummer een v en klik op enter."
    page.keyboard.type("v")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Bevestig")
    dialog.get_by_text("Systeem nummer laten genereren?").wait_for()
    # the dialog's script moves the focus a moment after it opens
    page.wait_for_function("document.activeElement && document.activeElement.textContent === 'Ja'")
    step(page, "bevestig-systeem-nummer")
    page.keyboard.press("Enter")
    # "Je ziet dan bij het klantnummer een rijtje V."
    expect(page.get_by_label("Klantnummer")).to_have_value("V" * 14)
    expect(page.get_by_label("Aanhef")).to_be_focused()
    step(page, "rijtje-v")

    page.get_by_label("Aanhef").select_option(label="Mw.")
    page.get_by_label("Voorletters").fill("E.B.")
    page.get_by_label("Achternaam").fill("Tester")
    page.get_by_label("Geboortedatum (dd-mm-jjjj)").fill("04-01-1991")
    page.get_by_label("Postcode").fill("9468 BG")
    page.get_by_label("Huisnummer").fill("41")
    page.locator("#id_identity_checked_ja").check()
    page.get_by_label("E-mail").fill("e.b.tester@example.nl")
    step(page, "klantgegevens")
    with page.expect_navigation():
        page.get_by_role("button", name="Volgende").click()

    # "Hier moet je kiezen tussen 'Bestaand inlogaccount gebruiken' en 'Nieuw ...'"
    page.get_by_role("button", name="Bestaand inlogaccount gebruiken").wait_for()
    step(page, "inlogaccount-kiezen")
    with page.expect_navigation():
        page.get_by_role("button", name="Nieuw inlogaccount genereren").click()

    page.get_by_role("heading", name="Kies het type abonnement").wait_for()
    page.get_by_label(DIGITAL_ONLY).check()
    step(page, "kies-het-type-abonnement")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()

    costs = page.get_by_role("region", name=re.compile("Opbouw abonnementskosten"))
    costs.get_by_role(
        "heading", name="Opbouw abonnementskosten. Klant wordt gegenereerd; vestiging 5280"
    ).wait_for()
    table = costs.locator("table.buildup").inner_text()
    assert "Mw. E.B. Tester" in table and "€ 42,00" in table and "Geldig t/m" in table
    assert costs.get_by_label("Tariefcode").input_value() == "0002"
    step(page, "opbouw-abonnementskosten")
    with page.expect_navigation():
        costs.get_by_role("button", name="OK", exact=True).click()

    # "Vervolgens verschijnt de melding 'Genereren van inlogaccount gelukt'"
    done = page.get_by_role("dialog")
    done.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    customer = Customer.objects.get()
    assert customer.number in done.inner_text()
    assert "e.b.tester@example.nl" in done.inner_text()
    assert "24 uur" in done.inner_text()
    step(page, "genereren-van-inlogaccount-gelukt")

    # "De klant ontvangt een mail met diens gebruikersnaam (pasnummer)."
    [mail] = mails(smtp_server, 1)
    assert smtp_server.recipients == [["e.b.tester@example.nl"]]
    assert f"Je gebruikersnaam is: {customer.number}" in text_of(mail)
    assert "24 uur" in text_of(mail)

    # OK closes the dialog; the desk payment follows (tests/counter/test_browser_year.py
    # pays it). 'Later betalen' goes to the customer without booking.
    done.get_by_role("button", name="OK").click()
    expect_focus(page, "id_amount")
    with page.expect_navigation():
        page.get_by_role("link", name="Later betalen").click()
    assert page.url == f"{base}/balie/klanten/{customer.number}/"
    assert "wacht op activering tot" in page.locator("#account-state").inner_text()
    step(page, "klant-wacht-op-activering")

    # the customer opens the mail's link (elsewhere) and sets a password
    member = page.context.new_page()
    member.bieb_test_name, member.bieb_step = page.bieb_test_name, 20
    member.goto(base + activation_path(mail))
    member.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    member.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    activated(member)
    step(member, "klant-activeert")
    member.close()

    page.reload()
    assert page.locator("#account-state").inner_text() == "actief"
    step(page, "klant-actief")

    # search as you type finds the customer without leaving the page
    with page.expect_navigation():
        page.get_by_role("link", name="Klanten", exact=True).click()
    page.get_by_label("Klantnummer, naam, postcode + huisnummer of e-mail").type("9468 BG 41")
    expect(page).to_have_url(re.compile(r"\?q=9468%20BG%2041$"))  # no page load: replaceState
    expect(page.locator("#results a.result")).to_have_text(customer.number)
    assert "Mw. E.B. Tester" in page.locator("#results").inner_text()
    step(page, "zoeken")
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/balie/klanten/{customer.number}/"
    no_overflow(page)


def test_keyboard_only(base: str, browser_page: Any) -> None:
    """The whole new-customer flow with the keyboard alone, including a wrong date."""
    page = browser_page
    keys = page.keyboard
    keyboard_to_a_new_customer(page, base)
    keys.type("Mw")
    for value in ["E.B.", "", "Tester", "", "31-02-1991", "", "9468 BG", "41", "", ""]:
        keys.press("Tab")
        if value:
            keys.type(value)
    keys.press("Tab")
    expect_focus(page, "id_mandate_nee")  # Machtiging automatische incasso: Nee
    keys.press("Tab")
    expect_focus(page, "id_identity_checked_nee")
    keys.press("ArrowLeft")  # Ja
    keys.press("Tab")
    keys.press("Tab")
    expect_focus(page, "id_use_login_account_ja")
    keys.press("Tab")
    keys.type("e.b.tester@example.nl")
    step(page, "ingevuld-met-fout")
    with page.expect_navigation():
        keys.press("Enter")

    # the error puts the focus on the wrong field and keeps everything typed
    expect_focus(page, "id_birth_date")
    assert page.get_by_label("Achternaam").input_value() == "Tester"
    assert page.get_by_label("Klantnummer").input_value() == "V" * 14
    assert page.get_by_label("Aanhef").input_value() == "mw"
    assert page.locator("#id_identity_checked_ja").is_checked()
    step(page, "fout-geboortedatum")
    keys.press("Control+A")
    keys.type("04-01-1991")
    with page.expect_navigation():
        keys.press("Enter")

    # "De meeste nieuwe klanten [...] kies je voor 'Nieuw inlogaccount genereren'": Enter
    expect_focus(page, "id_account_nieuw")
    step(page, "inlogaccount")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_subscription_type_0101")
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    assert page.locator("#id_subscription_type_0141").is_checked()
    step(page, "abonnement")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_save")
    step(page, "opbouw")
    with page.expect_navigation():
        keys.press("Enter")
    page.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    step(page, "gelukt")
    keys.press("Enter")  # OK: the amount to pay has the focus
    expect_focus(page, "id_amount")
    for _ in range(3):  # Contant, Betaling boeken, Later betalen
        keys.press("Tab")
    with page.expect_navigation():
        keys.press("Enter")  # Later betalen
    customer = Customer.objects.get()
    assert page.url == f"{base}/balie/klanten/{customer.number}/"
    assert customer.display_name == "Mw. E.B. Tester"
    step(page, "klant")


@pytest.fixture
def moving_member(demo: None) -> Customer:
    """A member of library Oost with an activated login account, moving to Bind."""
    oost = Library.objects.get(code="oost")
    registration = customer_register(
        actor=User.objects.get(username="balie-oost"),
        branch=Branch.objects.get(number="6100"),
        details=details(surname="Verhuizer", email="verhuizer@example.nl", house=HouseNumber(41)),
        subscription_type=SubscriptionType.objects.get(library=oost, code="0141"),
    )
    account = LoginAccount.objects.get(username=registration.customer.number)
    token = activation_tokens.make_token(account)  # type: ignore[arg-type]
    account_activate(account=account, token=token, password=PASSWORD, ip=None)
    return registration.customer


def test_the_moving_case_on_a_tablet(
    base: str, browser_page_for: Any, moving_member: Customer, smtp_server: SmtpServer
) -> None:
    """'Bestaand inlogaccount gebruiken': the member's active account from Oost is linked."""
    page = browser_page_for(820, 1180)
    mails(smtp_server, 1)  # Oost's activation mail
    log_in(page, base)
    step(page, "klanten")
    page.goto(f"{base}/balie/klanten/nieuw/")
    fill_customer(page, surname="Verhuizer", email="verhuizer@example.nl")
    step(page, "klantgegevens")
    with page.expect_navigation():
        page.get_by_role("button", name="Volgende").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Bestaand inlogaccount gebruiken").click()
    # "vraagt Wise naar de gebruikersnaam van de klant"
    expect_focus(page, "id_existing_username")
    page.keyboard.type(moving_member.number)
    step(page, "gebruikersnaam")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The KB mails the holder a code; the page says so without telling whether the account
    # exists, and asks for the code the customer reads from that mail.
    expect_focus(page, "id_link_code")
    assert "Als dit inlogaccount bestaat" in page.locator("#section-account").inner_text()
    assert "verhuizer@example.nl" not in page.locator("#section-account").inner_text()
    code_mail = mails(smtp_server, 2)[1]
    assert smtp_server.recipients[1] == ["verhuizer@example.nl"]
    match = re.search(r"\b(\d{3}) (\d{3})\b", text_of(code_mail))
    assert match, text_of(code_mail)
    page.keyboard.type(match.group(1) + match.group(2))
    step(page, "code")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_label(DIGITAL_ONLY).check()
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    step(page, "opbouw")
    with page.expect_navigation():
        page.locator("#id_save").click()
    done = page.get_by_role("dialog")
    done.get_by_text("Koppelen van inlogaccount gelukt").wait_for()
    assert moving_member.number in done.inner_text()
    step(page, "gekoppeld")
    done.get_by_role("button", name="OK").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Later betalen").click()
    assert page.locator("#account-state").inner_text() == "actief"
    step(page, "klant")

    linked = mails(smtp_server, 3)[2]
    assert "Bibliotheken Bind heeft je inlogaccount gekoppeld" in str(linked["Subject"])
    assert smtp_server.recipients[2] == ["verhuizer@example.nl"]
    customer = Customer.objects.get(library__code="bind")
    assert customer.login_account_id == moving_member.login_account_id


def test_expired_link_forget_and_a_new_account(
    base: str, browser_page: Any, smtp_server: SmtpServer
) -> None:
    """'Let op: de link uit de mail van de KB is slechts 24 uur geldig. [...] Gebruik dan de
    optie Vergeet inlogaccount in Wise en genereer daarna een nieuw inlogaccount.'"""
    customer = customer_register(
        actor=User.objects.get(username="balie"),
        branch=Branch.objects.get(number="5280"),
        details=details(house=HouseNumber(41)),
        subscription_type=SubscriptionType.objects.get(library__code="bind", code="0141"),
    ).customer
    [first] = mails(smtp_server, 1)
    page = browser_page
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24, minutes=5), tick=True):
        log_in(page, base)
        page.goto(f"{base}/balie/klanten/{customer.number}/")
        assert page.locator("#account-state").inner_text() == "verlopen — niet geactiveerd"
        step(page, "verlopen")
        page.get_by_role("button", name="Vergeet inlogaccount").click()
        confirm = page.get_by_role("dialog", name="Bevestig")
        confirm.get_by_text(f"Inlogaccount {customer.number} vergeten?").wait_for()
        step(page, "bevestig-vergeten")
        with page.expect_navigation():
            confirm.get_by_role("button", name="Ja").click()
        page.get_by_text(f"Inlogaccount {customer.number} is vergeten.").wait_for()
        step(page, "vergeten")
        with page.expect_navigation():
            page.get_by_role("button", name="Nieuw inlogaccount genereren").click()
        page.get_by_role("dialog").get_by_text("Genereren van inlogaccount gelukt").wait_for()
        step(page, "nieuw-inlogaccount")
        page.get_by_role("dialog").get_by_role("button", name="OK").click()
        assert "wacht op activering tot" in page.locator("#account-state").inner_text()

        second = mails(smtp_server, 2)[1]
        assert activation_path(second) != activation_path(first)
        page.goto(base + activation_path(first))
        assert "werkt niet" in page.content() or "verlopen" in page.content()
        page.goto(base + activation_path(second))
        page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
        page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
        activated(page)
        page.goto(f"{base}/balie/klanten/{customer.number}/")
        assert page.locator("#account-state").inner_text() == "actief"
        step(page, "actief")
    assert LoginAccount.objects.get(username=customer.number).state == AccountState.ACTIVE


def test_a_double_clicked_ok_registers_one_customer(base: str, browser_page: Any) -> None:
    page = browser_page
    log_in(page, base)
    to_costs_with_a_new_account(page, base)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    if connection.vendor == "postgresql":
        # Let both clicks through to the server: it must register once by itself. (On SQLite
        # the test server shares one connection between its threads, so two requests at once
        # cannot be served safely; there the page's own guard sends one.)
        page.locator("#new-customer").evaluate("form => form.setAttribute('data-allow-repeat', '')")
    step(page, "opbouw")
    page.locator("#id_save").dblclick()
    page.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    step(page, "gelukt")
    page.reload()  # a refresh of the result
    page.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    assert Customer.objects.count() == 1
    assert LoginAccount.objects.count() == 1
    if connection.vendor != "postgresql":
        assert len(posts) == 1
