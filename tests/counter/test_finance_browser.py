"""Financieel in real Chromium: the three pages pass axe-core (0 violations), are reached and
used by keyboard (the filters with Enter), the kasopmaak's "Afdrukken" prints
through the static script, and printed it shows no navigation, black on white."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.core.dates import local_today
from bieb.customers.ledger import ledger_payment_book, ledger_storno
from bieb.customers.models import Customer
from bieb.customers.renewals import renewals_run
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.axe import axe_violations
from tests.counter.test_browser import base, log_in, step  # noqa: F401
from tests.customers.test_reports import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_violations(page: Any, state: str) -> None:
    step(page, state)
    assert axe_violations(page) == [], state


@pytest.fixture
def books(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType, adult: SubscriptionType
) -> Customer:
    """A debtor, today's cash and pin with a storno, and a renewal run."""
    owing = member(balie, branch_5280, digital_only, surname="Schuldenaar", on=local_today())
    paying = member(balie, branch_5280, digital_only, surname="Betaler", on=local_today())
    wrong = ledger_payment_book(actor=balie, customer=paying, amount=Decimal("40"), method="pin")
    ledger_storno(actor=balie, line=wrong, reason="Verkeerd bedrag")
    ledger_payment_book(actor=balie, customer=paying, amount=Decimal("42"), method="contant")
    member(balie, branch_5280, adult, surname="Doorloper", on=dt.date(2024, 6, 12), paid=True)
    renewals_run(
        library=Library.objects.get(code="bind"), day=dt.date(2025, 5, 15), started_by="test"
    )
    return owing


def test_the_three_pages_by_keyboard_with_axe(
    base: str,  # noqa: F811
    browser_page: Any,
    books: Customer,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base, "manager")
    page.get_by_role("navigation", name="Balie").get_by_role("link", name="Financieel").focus()
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Openstaande bedragen")
    expect(page.get_by_role("link", name=books.number)).to_be_visible()
    no_violations(page, "openstaande-bedragen")

    page.get_by_label("Ouder dan (dagen)").fill("x")
    with page.expect_navigation():
        page.get_by_label("Ouder dan (dagen)").press("Enter")
    expect(page.get_by_text("Vul een aantal dagen in, bijvoorbeeld 30.")).to_be_visible()
    expect(page.get_by_label("Ouder dan (dagen)")).to_be_focused()
    expect(page.get_by_label("Ouder dan (dagen)")).to_have_value("x")
    no_violations(page, "filter-fout")
    page.get_by_label("Ouder dan (dagen)").fill("0")
    page.get_by_label("Abonnement").select_option("0141")
    with page.expect_navigation():
        page.get_by_label("Ouder dan (dagen)").press("Enter")
    expect(page.get_by_label("Abonnement")).to_have_value("0141")
    expect(page.get_by_text("0 klanten met een saldo boven nul")).to_be_visible()

    page.get_by_role("navigation", name="Financieel").get_by_role("link", name="Kasopmaak").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kasopmaak")
    expect(page.locator("#cash-check")).to_contain_text("gelijk aan het grootboek")
    no_violations(page, "kasopmaak")
    # Afdrukken: the static script calls window.print (replaced here to see that it is called)
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Afdrukken").focus()
    keys.press("Enter")
    page.wait_for_function("() => window.printed > 0")
    assert page.evaluate("() => window.printed") == 1
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Afdrukken")).to_be_hidden()
    expect(page.locator(".print-only")).to_be_visible()
    colour = page.evaluate("getComputedStyle(document.querySelector('td.amount')).color")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (colour, background) == ("rgb(0, 0, 0)", "rgb(255, 255, 255)")
    step(page, "kasopmaak-afgedrukt")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Verlengruns").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verlengruns")
    no_violations(page, "verlengruns")
    page.get_by_role("link", name="15-05-2025").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verlengrun 15-05-2025")
    expect(page.get_by_text("Mw. E.B. Doorloper")).to_be_visible()
    no_violations(page, "verlengrun")


def test_without_the_finance_role_the_403_page(
    base: str,  # noqa: F811
    browser_page: Any,
) -> None:
    page = browser_page
    log_in(page, base, "balie")
    page.goto(f"{base}/balie/financieel/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    no_violations(page, "geen-toegang")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the autofocused link: to the kasopmaak
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kasopmaak")
