"""axe-core on the pages this hardening changed, in their states: the Dutch error pages of each
part (member parts at phone width), and the counter's customer page and new-customer form with
their questions open (link code, above the saldo, Afsluiten). 0 violations, each state saved as a
screenshot with BIEB_SCREENSHOTS=<folder>."""

from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer
from bieb.kb.models import AccountState, LoginAccount
from tests.axe import axe_violations
from tests.browser import expect_focus
from tests.counter.test_browser import base, log_in, step  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_violations(page: Any, state: str) -> None:
    step(page, state)
    assert axe_violations(page) == [], state


@pytest.mark.parametrize("part", ["kb/", "word-lid/bind/", "online/", "dev/mail/"])
def test_a_member_facing_error_page_on_a_phone(
    base: str,  # noqa: F811
    browser_page_for: Any,
    part: str,
) -> None:
    page = browser_page_for(width=390, height=844)
    page.goto(f"{base}/{part}bestaat/niet/hier/")
    expect(page.get_by_role("heading", name="Pagina niet gevonden")).to_be_visible()
    no_violations(page, f"404-{part.split('/')[0]}")
    page.goto(f"{base}/{part}?q=%00")  # a NUL byte: the Dutch 400, never a 500
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    no_violations(page, f"400-{part.split('/')[0]}")


def test_the_counters_pages_with_their_questions_open(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base)
    page.goto(f"{base}/balie/bestaat/niet/hier/")
    expect(page.get_by_role("heading", name="Pagina niet gevonden")).to_be_visible()
    no_violations(page, "balie-404")

    page.goto(f"{base}/balie/klanten/{tester.number}/")
    no_violations(page, "klant")
    amount = page.get_by_label("Bedrag (€)")
    amount.fill("50")
    page.get_by_label("Contant").check()
    with page.expect_navigation():
        amount.press("Enter")
    expect_focus(page, "id_overpayment_nee")
    no_violations(page, "hoger-dan-het-saldo")

    # 'Vergeet inlogaccount' on an active account: the question, Nee in focus
    LoginAccount.objects.filter(username=tester.number).update(state=AccountState.ACTIVE)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    page.get_by_role("button", name="Vergeet inlogaccount").focus()
    keys.press("Enter")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    no_violations(page, "vergeten-vraag")

    page.goto(f"{base}/balie/klanten/nieuw/")
    page.get_by_label("Achternaam").fill("Halverwege")
    page.get_by_role("link", name="Afsluiten").first.click()
    expect(page.get_by_role("dialog")).to_contain_text("Afsluiten zonder opslaan?")
    no_violations(page, "afsluiten-vraag")


def test_the_membership_year_screens(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    """The registration's result with the desk payment (dialog open, then the form in focus,
    then paid), and the customer page with the year's forms open, for the desk and for staff
    with the finance role."""
    page = browser_page
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/ingeschreven/?inlogaccount=nieuw")
    expect(page.get_by_role("dialog")).to_contain_text("Genereren van inlogaccount gelukt")
    no_violations(page, "ingeschreven-gelukt")
    page.keyboard.press("Enter")
    expect_focus(page, "id_amount")
    no_violations(page, "ingeschreven-betalen")
    page.get_by_label("Bedrag (€)").fill("50")
    page.get_by_label("Pin").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Betaling boeken").click()
    expect_focus(page, "id_overpayment_nee")
    no_violations(page, "ingeschreven-hoger-dan-het-saldo")
    page.keyboard.press("Enter")  # Nee
    expect_focus(page, "id_amount")
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    with page.expect_navigation():
        page.get_by_role("button", name="Betaling boeken").click()
    expect(page.locator("#paid")).to_be_visible()
    no_violations(page, "ingeschreven-deels-betaald")

    page.goto(f"{base}/balie/klanten/{tester.number}/")
    for summary in ("Opzeggen", "Wijzig abonnement", "Storno"):
        page.locator("summary", has_text=summary).first.click()
    no_violations(page, "klant-jaar-balie")
    page.locator("#abonnementen form[data-confirm] button", has_text="Opzeggen").click()
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    no_violations(page, "klant-opzeggen-vraag")
    page.keyboard.press("Escape")

    page.context.clear_cookies()
    log_in(page, base, "manager")
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    page.locator("summary", has_text="Kwijtschelden").click()
    page.locator("#financieel summary", has_text="Storno").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Kwijtschelden").click()  # no reason: the error
    expect(page.locator("#financieel")).to_contain_text("Vul een reden in.")
    no_violations(page, "klant-jaar-financieel")
