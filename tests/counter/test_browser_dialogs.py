"""The counter's questions in real Chromium, with the keyboard: a desk payment above the saldo
("Toch … ontvangen?"), 'Vergeet inlogaccount' on an active account, and Afsluiten of a
half-filled new customer. A question before something that cannot be undone has the focus on
Nee; Nee leaves everything as typed. With BIEB_SCREENSHOTS=<folder> every step is saved."""

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.kb.models import AccountState, LoginAccount
from tests.browser import expect_focus
from tests.counter.test_browser import base, log_in, step  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused_text(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.textContent"))


def paid(customer: Customer) -> list[Decimal]:
    lines = LedgerLine.objects.filter(customer=customer, kind=LedgerKind.PAYMENT).order_by("id")
    return [-line.amount for line in lines]


def test_more_than_the_saldo_asks_with_the_focus_on_nee(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    amount = page.get_by_label("Bedrag (€)")
    expect(amount).to_have_value("42,00")  # the saldo, ready to book
    amount.focus()
    keys.press("Control+A")
    keys.type("\u0663\u0664")  # Arabic-Indic digits: no amount
    keys.press("Tab")
    keys.press("Space")  # Contant
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_amount")
    expect(page.locator("#id_amount_error")).to_contain_text("cijfers 0 tot en met 9")
    expect(amount).to_have_value("\u0663\u0664")
    step(page, "andere-cijfers")

    keys.press("Control+A")
    keys.type("50")
    with page.expect_navigation():
        keys.press("Enter")
    question = page.get_by_role("dialog", name="Bevestig")
    expect(question).to_contain_text("Meer dan het saldo (€ 42,00): toch € 50,00 boeken?")
    expect_focus(page, "id_overpayment_nee")
    step(page, "hoger-dan-het-saldo")
    keys.press("Enter")  # Nee
    expect(question).to_be_hidden()
    expect_focus(page, "id_amount")  # back in the amount, as typed, to correct it
    expect(amount).to_have_value("50")
    assert page.locator("#id_method_contant").is_checked()
    assert paid(tester) == []
    step(page, "nee")

    with page.expect_navigation():
        keys.press("Enter")  # the same amount again: asked again
    expect_focus(page, "id_overpayment_nee")
    keys.press("ArrowLeft")
    assert focused_text(page) == "Ja"
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.get_by_text("Betaling van € 50,00 (contant) is geboekt.")).to_be_visible()
    expect(page.locator("#saldo")).to_have_text("€ -8,00")
    assert paid(tester) == [Decimal("50.00")]
    step(page, "geboekt")


def test_forgetting_an_active_account_asks_with_the_focus_on_nee(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    LoginAccount.objects.filter(username=tester.number).update(state=AccountState.ACTIVE)
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    expect(page.locator("#account-state")).to_have_text("actief")
    forget = page.get_by_role("button", name="Vergeet inlogaccount")
    forget.focus()
    keys.press("Enter")
    question = page.get_by_role("dialog", name="Bevestig")
    expect(question).to_contain_text(f"Inlogaccount {tester.number} vergeten?")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    step(page, "vergeten-nee-in-focus")
    keys.press("Enter")  # Nee
    expect(question).to_be_hidden()
    expect(forget).to_be_focused()
    tester.refresh_from_db()
    assert tester.login_account_id == LoginAccount.objects.get(username=tester.number).pk

    keys.press("Enter")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    keys.press("ArrowLeft")
    with page.expect_navigation():
        keys.press("Enter")  # Ja
    expect(page.get_by_text(f"Inlogaccount {tester.number} is vergeten.")).to_be_visible()
    # the next step for most customers has the focus, not 'Bestaand inlogaccount gebruiken'
    expect_focus(page, "id_account_generate")
    step(page, "vergeten")
    tester.refresh_from_db()
    assert tester.login_account_id is None


def test_afsluiten_asks_before_throwing_away_a_half_filled_customer(
    base: str,  # noqa: F811
    browser_page: Any,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base)
    # an empty form just closes
    page.goto(f"{base}/balie/klanten/nieuw/")
    with page.expect_navigation():
        page.locator(".actions").get_by_role("link", name="Afsluiten").click()
    assert page.url == f"{base}/balie/klanten/"

    page.goto(f"{base}/balie/klanten/nieuw/")
    expect_focus(page, "id_number")
    keys.type("v")
    keys.press("Enter")
    keys.press("Enter")  # Ja: a row of V's
    page.get_by_label("Achternaam").fill("Tester")
    close = page.locator(".actions").get_by_role("link", name="Afsluiten")
    close.focus()
    keys.press("Enter")
    question = page.get_by_role("dialog", name="Bevestig")
    expect(question).to_contain_text("Klant is nog niet opgeslagen. Afsluiten zonder opslaan?")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    step(page, "afsluiten-zonder-opslaan")
    keys.press("Enter")  # Nee
    expect(question).to_be_hidden()
    expect(close).to_be_focused()
    expect(page.get_by_label("Achternaam")).to_have_value("Tester")
    expect(page.get_by_label("Klantnummer")).to_have_value("V" * 14)

    # the sub-bar's Afsluiten asks the same
    page.locator(".subbar").get_by_role("link", name="Afsluiten").click()
    expect(question).to_be_visible()
    keys.press("Escape")
    expect(question).to_be_hidden()
    expect(page.get_by_label("Achternaam")).to_have_value("Tester")

    # leaving another way (the menu): the browser asks; staying keeps everything
    asked: list[str] = []

    def stay(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Klanten", exact=True).click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert page.url == f"{base}/balie/klanten/nieuw/"
    expect(page.get_by_label("Achternaam")).to_have_value("Tester")

    close.focus()
    keys.press("Enter")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    keys.press("ArrowLeft")
    with page.expect_navigation():
        keys.press("Enter")  # Ja
    assert page.url == f"{base}/balie/klanten/"
    assert not Customer.objects.exists()
    step(page, "afgesloten")
