"""The login service's pages in real Chromium, on a phone."""

import re
import time

import pytest

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.services import customer_register
from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import account_create
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.axe import axe_violations
from tests.browser import expect_focus, snap
from tests.customers.factories import details
from tests.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Leeslamp-Duinpan-42"


def test_signup_activate_and_log_in_on_a_phone(kb_live: str, browser_page_for) -> None:  # type: ignore[no-untyped-def]
    page = browser_page_for(390, 844)
    base = kb_live
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
    # signed in by the activation, on through the Online Bibliotheek's login without a form
    page.get_by_role("heading", name="Hallo telefoon.lezer").wait_for()
    assert page.url == f"{base}/online/"
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


def active_account(username: str, email: str) -> LoginAccount:
    account_create(username=username, email=email, origin="online", actor="t")
    account = LoginAccount.objects.get(username=username)
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.save()
    return account


def mailed_path(to: str, kind: str) -> str:
    text = OutboxMessage.objects.filter(to=to, kind=kind).latest("id").text_body
    link = re.search(r"https?://[^/\s]+(/kb/\S+)", text)
    assert link, text
    return link.group(1)


def submit(page, button: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def no_violations(page, state: str) -> None:  # type: ignore[no-untyped-def]
    snap(page, state)
    assert axe_violations(page) == [], state


def test_every_kb_page_in_its_error_states_passes_axe(live_server: object, browser_page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url  # type: ignore[attr-defined]
    page = browser_page
    active_account("lezer", "l@example.nl")
    account_create(username="wachter", email="w@example.nl", origin="online", actor="t")

    page.goto(f"{base}/kb/aanmelden/")
    no_violations(page, "aanmelden")
    submit(page, "Aanmelden")
    page.locator("#id_username_error").wait_for()
    no_violations(page, "aanmelden leeg")
    page.get_by_label("Gebruikersnaam").fill("Lezer")
    page.get_by_label("E-mailadres").fill("nog-een@example.nl")
    submit(page, "Aanmelden")
    page.get_by_text("al in gebruik").wait_for()
    no_violations(page, "aanmelden naam in gebruik")

    page.goto(f"{base}/kb/inloggen/")
    submit(page, "Inloggen")
    page.locator("#id_password_error").wait_for()
    no_violations(page, "inloggen leeg")
    page.get_by_label("Gebruikersnaam").fill("lezer")
    page.get_by_label("Wachtwoord").fill("fout-wachtwoord")
    submit(page, "Inloggen")
    page.get_by_role("alert").get_by_text("klopt niet").wait_for()
    no_violations(page, "inloggen fout")

    page.goto(f"{base}/kb/wachtwoord-vergeten/")
    submit(page, "Verstuur link")
    no_violations(page, "wachtwoord vergeten leeg")
    page.get_by_label("Gebruikersnaam").fill("lezer")
    submit(page, "Verstuur link")
    no_violations(page, "kijk in je mail")
    page.goto(f"{base}/kb/gebruikersnaam-vergeten/")
    submit(page, "Verstuur gebruikersnaam")
    no_violations(page, "gebruikersnaam vergeten leeg")

    page.goto(base + mailed_path("l@example.nl", "kb.reset"))
    no_violations(page, "nieuw wachtwoord")
    page.get_by_label("Nieuw wachtwoord").fill("kort")
    page.get_by_label("Herhaal het wachtwoord").fill("anders")
    submit(page, "Wachtwoord opslaan")
    no_violations(page, "nieuw wachtwoord te kort en ongelijk")

    page.goto(base + mailed_path("w@example.nl", "kb.activation"))
    page.get_by_label("Nieuw wachtwoord").fill("1234567890")
    page.get_by_label("Herhaal het wachtwoord").fill("1234567890")
    submit(page, "Wachtwoord opslaan en account activeren")
    page.locator("#id_password1_error").wait_for()
    no_violations(page, "activeren alleen cijfers")

    page.goto(f"{base}/kb/activeren/eA/0-0/")
    no_violations(page, "link werkt niet meer")
    page.goto(f"{base}/kb/inloggen/")
    page.get_by_label("Gebruikersnaam").fill("lezer")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    submit(page, "Inloggen")
    no_violations(page, "mijn inlogaccount")
    page.goto(f"{base}/kb/uitloggen/")
    no_violations(page, "uitloggen")


def test_after_a_failed_post_the_focus_is_in_the_field_in_error(
    live_server: object,
    browser_page,  # type: ignore[no-untyped-def]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = browser_page
    page.goto(f"{base}/kb/aanmelden/")
    page.get_by_label("Gebruikersnaam").fill("nieuwe.lezer")
    page.get_by_label("E-mailadres").fill("geen-mailadres")
    submit(page, "Aanmelden")
    expect_focus(page, "id_email")
    field = page.get_by_label("E-mailadres")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "geen-mailadres"  # nothing typed is lost
    # the error is what a screen reader reads with the field
    assert page.locator("#id_email_error").inner_text() in field.evaluate(
        "el => el.ariaDescribedByElements ? el.ariaDescribedByElements.map(e => e.innerText)"
        ".join(' ') : el.getAttribute('aria-describedby').split(' ')"
        ".map(id => document.getElementById(id).innerText).join(' ')"
    )
    page.get_by_label("Gebruikersnaam").fill("x!")
    page.get_by_label("E-mailadres").fill("nieuw@example.nl")
    submit(page, "Aanmelden")
    expect_focus(page, "id_username")
    described = page.get_by_label("Gebruikersnaam").get_attribute("aria-describedby")
    assert described == "id_username_helptext id_username_error"
    assert "4 tot 80 tekens" in page.locator("#id_username_helptext").inner_text()

    account_create(username="wachter", email="w@example.nl", origin="online", actor="t")
    page.goto(base + mailed_path("w@example.nl", "kb.activation"))
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD + "?")
    submit(page, "Wachtwoord opslaan en account activeren")
    expect_focus(page, "id_password2")
    page.get_by_label("Nieuw wachtwoord").fill("kort")
    page.get_by_label("Herhaal het wachtwoord").fill("kort")
    submit(page, "Wachtwoord opslaan en account activeren")
    expect_focus(page, "id_password1")
    assert "te kort" in page.locator("#id_password1_error").inner_text()


def test_every_control_shows_a_focus_ring_when_tabbed_to(live_server: object, browser_page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url  # type: ignore[attr-defined]
    page = browser_page
    for path in ["/kb/inloggen/", "/kb/aanmelden/", "/kb/wachtwoord-vergeten/"]:
        page.goto(base + path)
        controls = page.evaluate(
            "document.querySelectorAll('a[href], button, input:not([type=hidden])').length"
        )
        seen = set()
        for _ in range(2 * controls + 2):  # round the page once, wherever the focus starts
            page.keyboard.press("Tab")
            ring = page.evaluate(
                """() => { const el = document.activeElement, s = getComputedStyle(el);
                    return [el.outerHTML.slice(0, 80), s.outlineStyle, s.outlineWidth]; }"""
            )
            if ring[0].startswith("<body"):
                continue
            seen.add(ring[0])
            assert ring[1] == "solid" and float(ring[2].rstrip("px")) >= 3, (path, ring)
        assert len(seen) == controls, path


def test_after_the_counter_and_the_mail_the_member_lands_logged_in_at_online(
    kb_live: str,
    smtp_server: SmtpServer,
    browser_page,  # type: ignore[no-untyped-def]
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    """Registered at the counter, the member sets a password through the mailed link and is then
    in the Online Bibliotheek, logged in: no second login right after the first password."""
    registration = customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(email="e.b.tester@example.nl"),
        subscription_type=digital_only,
    )
    # paid at the desk: the digital rights start when the period is paid
    ledger_payment_book(
        actor=balie, customer=registration.customer, amount=digital_only.price, method="pin"
    )
    deadline = time.monotonic() + 10
    while not smtp_server.received:
        assert time.monotonic() < deadline, "no activation mail arrived"
        time.sleep(0.05)
    [mail] = smtp_server.received
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://[^/\s]+(/kb/activeren/\S+)", text)
    assert link, text

    page = browser_page
    page.goto(kb_live + link.group(1))
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Wachtwoord opslaan en account activeren").click()
    page.get_by_text("Je hebt toegang tot e-books en luisterboeken").wait_for()
    assert page.url == f"{kb_live}/online/"
    assert page.get_by_role("heading", name=f"Hallo {registration.customer.number}").is_visible()
    assert page.get_by_role("button", name="Uitloggen").is_visible()
    snap(page, "online-ingelogd")
