"""What the counter shows in real Chromium while the KB has not answered yet (bieb.kboutbox):
"Inlogaccount wordt aangemaakt" right after OK, which looks again by itself until the KB has
answered; "KB niet bereikbaar, wordt opnieuw geprobeerd" when it is down, with the keyboard
alone, on the dialog and on the customer page; the account's state unknown while the KB cannot
be asked; and a refusal with what to do. Every state passes axe-core; with BIEB_SCREENSHOTS set
each is saved as a PNG. The KB is down for real (tests.kb_outbox.kb_down: its table is gone)."""

from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer
from bieb.customers.services import customer_login_account_forget, customer_login_account_link
from bieb.kb.models import AccountState, LoginAccount
from bieb.kboutbox.models import KBCall, KBCallKind, KBCallState
from bieb.kboutbox.services import kb_calls_run_due
from tests.axe import axe_violations
from tests.browser import expect_focus
from tests.counter.test_browser import (
    keyboard_to_a_new_customer,
    log_in,
    step,
    to_costs_with_a_new_account,
)
from tests.kb_outbox import kb_calls_due_now, kb_down

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def looked_at(page: Any, name: str) -> None:
    """A state as staff see it: its screenshot, nothing wider than the screen, axe clean."""
    step(page, name)
    assert axe_violations(page) == [], name


def test_registration_while_the_kb_is_down_with_the_keyboard_alone(
    kb_live: str, browser_page: Any
) -> None:
    page = browser_page
    keys = page.keyboard
    keyboard_to_a_new_customer(page, kb_live)
    keys.type("Mw")
    for value in ["E.B.", "", "Tester", "", "04-01-1991", "", "9468 BG", "41", "", ""]:
        keys.press("Tab")
        if value:
            keys.type(value)
    keys.press("Tab")  # Machtiging automatische incasso: Nee
    keys.press("Tab")
    keys.press("ArrowLeft")  # Identiteit gecontroleerd: Ja
    keys.press("Tab")
    keys.press("Tab")
    expect_focus(page, "id_use_login_account_ja")
    keys.press("Tab")
    keys.type("e.b.tester@example.nl")
    with page.expect_navigation():
        keys.press("Enter")
    expect_focus(page, "id_account_nieuw")
    with page.expect_navigation():
        keys.press("Enter")  # Nieuw inlogaccount genereren
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    with page.expect_navigation():
        keys.press("Enter")  # Digital only
    expect_focus(page, "id_save")
    with kb_down():
        with page.expect_navigation():
            keys.press("Enter")  # OK: the library saves; the KB does not answer
        dialog = page.get_by_role("dialog", name="Inlogaccount wordt aangemaakt")
        expect(dialog).to_be_visible()
        expect(page.locator("#account-state")).to_contain_text(
            "KB niet bereikbaar, wordt opnieuw geprobeerd (laatste poging"
        )
        expect(dialog).to_contain_text("De KB is nu niet bereikbaar; Bieb probeert het vanzelf")
        # The focus is on the dialog's button: Enter closes it, as after "gelukt".
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
        looked_at(page, "kb-onbereikbaar-dialoog")
        # Tried once and not answered: the page does not keep reloading.
        page.wait_for_timeout(1500)
        expect(dialog).to_be_visible()
        keys.press("Enter")
        expect_focus(page, "id_amount")
        for _ in range(3):  # Contant, Betaling boeken, Later betalen
            keys.press("Tab")
        with page.expect_navigation():
            keys.press("Enter")
        customer = Customer.objects.get()
        assert page.url == f"{kb_live}/balie/klanten/{customer.number}/"
        expect(page.locator("#account-state")).to_contain_text("KB niet bereikbaar")
        expect(page.locator("#inlogaccount")).to_contain_text("U hoeft niets te doen.")
        looked_at(page, "kb-onbereikbaar-klant")
    assert not LoginAccount.objects.exists()

    # The KB is back: the next run of the outbox's job makes the account, once.
    kb_calls_due_now()
    assert kb_calls_run_due()["done"] == 1
    page.reload()
    expect(page.locator("#account-state")).to_contain_text("wacht op activering tot")
    looked_at(page, "kb-terug-klant")
    assert LoginAccount.objects.get().username == customer.number

    # Down again: the customer page cannot ask the KB how the account stands, and says so.
    with kb_down():
        page.reload()
        expect(page.locator("#account-state")).to_have_text("onbekend: KB niet bereikbaar")
        looked_at(page, "kb-onbereikbaar-status")


def test_wordt_aangemaakt_looks_again_until_the_kb_has_answered(
    kb_live: str, browser_page: Any, settings: Any
) -> None:
    """The KB elsewhere: the call goes to the task worker, which has not run it yet when the
    dialog is shown. The page looks again by itself and shows "gelukt" once it has."""
    settings.BIEB_KB_OUTBOX_INLINE = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    page = browser_page
    log_in(page, kb_live)
    to_costs_with_a_new_account(page, kb_live)
    with page.expect_navigation():
        page.locator("#id_save").click()
    expect(page.get_by_role("dialog", name="Inlogaccount wordt aangemaakt")).to_be_visible()
    expect(page.locator("#account-state")).to_have_text("wordt aangemaakt")
    looked_at(page, "wordt-aangemaakt")
    assert KBCall.objects.get(kind=KBCallKind.ACCOUNT_CREATE).state == KBCallState.PENDING

    # The worker makes the call (here the outbox's own job, as its task would).
    assert kb_calls_run_due()["done"] == 1
    page.get_by_text("Genereren van inlogaccount gelukt").wait_for(timeout=5000)
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    looked_at(page, "gelukt-na-wachten")
    assert LoginAccount.objects.get().state == AccountState.WAITING


def test_a_refused_link_says_what_to_do(kb_live: str, browser_page: Any, tester: Customer) -> None:
    customer_login_account_forget(actor=tester.created_by, customer=tester)  # type: ignore[arg-type]
    customer_login_account_link(
        actor=tester.created_by,  # type: ignore[arg-type]
        customer=tester,
        username="iemand",
        code="000000",
    )
    page = browser_page
    log_in(page, kb_live)
    page.goto(f"{kb_live}/balie/klanten/{tester.number}/")
    refused = page.locator("#account-refused")
    expect(refused).to_contain_text("geweigerd door de KB. Deze code klopt niet")
    expect(refused).to_contain_text("kies opnieuw 'Bestaand inlogaccount gebruiken'")
    expect(page.get_by_role("button", name="Nieuw inlogaccount genereren")).to_be_visible()
    looked_at(page, "koppelen-geweigerd")
