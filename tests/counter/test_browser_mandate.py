"""A registration with a mandate at the counter in real Chromium, keyboard only: IBAN,
"Machtiging automatische incasso" Ja (its date and account holder appear), OK, and the customer
page's section "Machtigingen"; axe on the form with Ja chosen and on that section."""

from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.core.dates import local_today
from bieb.customers.models import Customer
from bieb.debits.models import Mandate, MandateState
from tests.axe import axe_violations
from tests.browser import expect_focus, snap
from tests.counter.test_browser import base, keyboard_to_a_new_customer, step  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registration_with_a_mandate_keyboard_only(
    base: str,  # noqa: F811
    browser_page: Any,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    keyboard_to_a_new_customer(page, base)
    keys.type("Mw")
    for value in ["E.B.", "", "Tester", "", "04-01-1991", "", "9468 BG", "41"]:
        keys.press("Tab")
        if value:
            keys.type(value)
    keys.press("Tab")
    expect_focus(page, "id_iban")
    keys.type("NL91 ABNA 0417 1643 00")
    keys.press("Tab")  # BIC: left empty, derived from the IBAN
    keys.press("Tab")
    expect_focus(page, "id_mandate_nee")
    signed = page.get_by_label("Datum ondertekening (dd-mm-jjjj)")
    expect(signed).to_be_hidden()  # under Nee, Tab skips them
    keys.press("ArrowLeft")  # Ja
    assert page.locator("#id_mandate_ja").is_checked()
    expect(signed).to_be_visible()
    keys.press("Tab")
    expect_focus(page, "id_mandate_signed_on")
    assert signed.input_value() == local_today().strftime("%d-%m-%Y")
    keys.press("Tab")
    expect_focus(page, "id_mandate_holder")  # left empty: the customer's name
    step(page, "machtiging-ja")
    assert axe_violations(page) == [], "registration with Ja"
    keys.press("Tab")
    expect_focus(page, "id_identity_checked_nee")
    keys.press("ArrowLeft")  # Legitimatie gecontroleerd: Ja
    keys.press("Tab")
    keys.press("Tab")
    expect_focus(page, "id_use_login_account_ja")
    keys.press("Tab")
    keys.type("e.b.tester@example.nl")
    with page.expect_navigation():
        keys.press("Enter")
    # the account holder is filled in as it will be saved
    assert page.get_by_label("Naam rekeninghouder").input_value() == "E.B. Tester"
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

    page.get_by_text("Genereren van inlogaccount gelukt").wait_for()
    keys.press("Enter")  # OK: the amount to pay has the focus
    expect_focus(page, "id_amount")
    expect(page.locator("#mandate-line")).to_contain_text("de volgende jaren worden automatisch")
    assert axe_violations(page) == []
    snap(page, "ingeschreven-met-machtiging")
    for _ in range(3):  # Contant, Betaling boeken, Later betalen
        keys.press("Tab")
    with page.expect_navigation():
        keys.press("Enter")  # Later betalen

    customer = Customer.objects.get()
    mandate = Mandate.objects.get()
    assert page.url == f"{base}/balie/klanten/{customer.number}/"
    assert (mandate.customer_id, mandate.state) == (customer.pk, MandateState.ACTIVE)
    section = page.get_by_role("region", name="Machtigingen")
    shown = section.inner_text()
    for part in (
        mandate.reference,
        "NL91 ABNA 0417 1643 00",
        "E.B. Tester",
        "aan de balie getekend",
        local_today().strftime("%d-%m-%Y"),
        "Machtiging aan de balie getekend, IBAN NL91 ABNA 0417 1643 00",
    ):
        assert part in shown, part
    step(page, "machtigingen")
    assert axe_violations(page) == [], "customer page with Machtigingen"

    # 'Intrekken' asks first, with the focus on Nee: one Enter withdraws nothing
    section.get_by_text("Intrekken", exact=True).first.click()
    section.get_by_label("Reden").fill("Klant betaalt zelf")
    section.get_by_role("button", name="Intrekken").click()
    dialog = page.get_by_role("dialog", name="Bevestig")
    dialog.get_by_text(f"Machtiging {mandate.reference} intrekken?").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.textContent === 'Nee'")
    keys.press("Enter")
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE
    section.get_by_role("button", name="Intrekken").click()
    page.wait_for_function("document.activeElement && document.activeElement.textContent === 'Nee'")
    with page.expect_navigation():
        keys.press("ArrowLeft")  # Ja
        keys.press("Enter")
    mandate.refresh_from_db()
    assert mandate.state == MandateState.WITHDRAWN
    expect(page.get_by_role("region", name="Machtigingen")).to_contain_text(
        "Machtiging ingetrokken: Klant betaalt zelf"
    )
