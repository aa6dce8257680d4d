"""The membership year at the counter in real Chromium: a registration that ends with the desk
payment, keyboard only; 'Opzeggen' through the Bevestig question; a storno with its reason.
With BIEB_SCREENSHOTS=<folder> every step is saved as a PNG."""

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.core.dates import date_nl
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Customer, LedgerKind, LedgerLine, MembershipStatus
from bieb.staff.models import User
from tests.browser import expect_focus
from tests.counter.test_browser import (  # noqa: F401
    base,
    keyboard_to_a_new_customer,
    log_in,
    step,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registration_ends_with_the_desk_payment_keyboard_only(
    base: str,  # noqa: F811
    browser_page: Any,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    keyboard_to_a_new_customer(page, base)
    keys.type("Mw")
    for value in ["E.B.", "", "Tester", "", "04-01-1991", "", "9468 BG", "41", "", ""]:
        keys.press("Tab")
        if value:
            keys.type(value)
    keys.press("Tab")
    expect_focus(page, "id_mandate_nee")  # Machtiging automatische incasso: Nee
    keys.press("Tab")
    keys.press("ArrowLeft")  # Legitimatie gecontroleerd: Ja
    keys.press("Tab")
    keys.press("Tab")
    expect_focus(page, "id_use_login_account_ja")
    keys.press("Tab")
    keys.type("e.b.tester@example.nl")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_account_nieuw")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_subscription_type_0101")
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_save")
    with page.expect_navigation():
        keys.press("Enter")

    # "Genereren van inlogaccount gelukt"; OK puts the focus on the amount, the saldo in it
    page.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    expect_focus(page, "id_done_ok")
    step(page, "gelukt-met-betaling")
    keys.press("Enter")
    expect_focus(page, "id_amount")
    assert page.get_by_label("Bedrag (€)").input_value() == "42,00"
    # the prefilled amount is selected: typing replaces it
    assert (
        page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart")
        == 5
    )
    step(page, "bedrag")
    keys.press("Tab")
    expect_focus(page, "id_method_contant")
    keys.press("ArrowRight")  # Pin
    expect(page.locator("#id_method_pin")).to_be_checked()
    keys.press("ArrowLeft")  # Contant
    expect(page.locator("#id_method_contant")).to_be_checked()
    keys.press("Tab")
    expect_focus(page, "id_pay")
    with page.expect_navigation():
        keys.press("Enter")

    paid = page.locator("#paid")
    expect(paid).to_contain_text("het abonnement is nu actief")
    expect(page.get_by_role("status").first).to_contain_text(
        "Betaling van € 42,00 (contant) is geboekt."
    )
    customer = Customer.objects.get()
    membership = customer.memberships.get()
    assert membership.status == MembershipStatus.ACTIVE
    assert [line.amount for line in customer.ledger_lines.filter(kind=LedgerKind.PAYMENT)] == [
        Decimal("-42.00")
    ]
    expect_focus(page, "id_to_customer")
    step(page, "betaald")
    with page.expect_navigation():
        keys.press("Enter")
    card = page.locator(f"#abonnement-{membership.pk}")
    expect(card).to_contain_text("actief")
    expect(card).to_contain_text(f"Rechten t/m{date_nl(membership.valid_through)}")
    expect(page.locator("#saldo")).to_have_text("€ 0,00")


def test_opzeggen_asks_first_with_nee_in_focus(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    page = browser_page
    membership = tester.memberships.get()
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    card = page.locator(f"#abonnement-{membership.pk}")
    card.get_by_text("Opzeggen", exact=True).first.click()  # the summary
    card.get_by_label("Reden").select_option(label="Verhuisd")
    per = card.get_by_label(f"einde van de huidige periode ({date_nl(membership.valid_through)})")
    expect(per).to_be_checked()
    step(page, "opzeggen")
    card.get_by_role("button", name="Opzeggen").click()
    confirm = page.get_by_role("dialog", name="Bevestig")
    expect(confirm).to_contain_text("opzeggen? Het abonnement wordt daarna niet meer verlengd.")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    step(page, "opzeggen-vraag")
    page.keyboard.press("Enter")  # Nee: nothing happens
    membership.refresh_from_db()
    assert membership.cancelled_at is None
    card.get_by_role("button", name="Opzeggen").click()
    with page.expect_navigation():
        confirm.get_by_role("button", name="Ja").click()
    card = page.locator(f"#abonnement-{membership.pk}")
    expect(card).to_contain_text(f"opgezegd per {date_nl(membership.valid_through)}")
    expect(page.locator("#abonnementen [role=status]")).to_contain_text("is opgezegd per")
    step(page, "opgezegd")
    membership.refresh_from_db()
    assert membership.cancel_reason == "verhuisd"
    assert membership.ends_on == membership.valid_through


def test_a_storno_with_its_reason(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
) -> None:
    page = browser_page
    line = ledger_payment_book(
        actor=User.objects.get(username="balie"),
        customer=tester,
        amount=Decimal("50"),
        method="pin",
        allow_overpayment=True,
    )
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    expect(page.locator("#saldo")).to_have_text("€ -8,00")
    row = page.locator(f"#boeking-{line.pk}")
    row.get_by_text("Storno", exact=True).click()
    reason = row.get_by_label("Reden")
    reason.focus()
    with page.expect_navigation():
        reason.press("Enter")  # no reason: refused, the field in focus
    expect_focus(page, f"id_storno_reason_{line.pk}")
    expect(page.locator(f"#boeking-{line.pk}")).to_contain_text("Vul een reden in.")
    step(page, "storno-zonder-reden")
    page.keyboard.type("Verkeerd bedrag getypt")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#financieel [role=status]")).to_contain_text("Storno geboekt")
    expect(page.locator(f"#boeking-{line.pk}")).to_contain_text("teruggedraaid (storno)")
    expect(page.locator("#financieel")).to_contain_text("Reden: Verkeerd bedrag getypt")
    expect(page.locator("#saldo")).to_have_text("€ 42,00")
    step(page, "storno")
    storno = LedgerLine.objects.get(kind=LedgerKind.STORNO)
    assert (storno.reverses_id, storno.reason) == (line.pk, "Verkeerd bedrag getypt")
