"""Automatische incasso in real Chromium: the manager reaches the tab by keyboard, makes the
files with Enter, downloads one (the bytes as stored), marks it sent through the question
(Nee in focus first), reads in a return file and handles its unknown item; chooses open
amounts to collect with the keyboard (all on the page with Space, one unticked, the question
that counts them, then "Alles incasseren"); axe-core finds nothing on each page."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.core.dates import local_today
from bieb.debits.collect import collection_date_for, end_to_end_id
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    DebitState,
    MandateKind,
    ReturnItem,
    ReturnItemState,
)
from bieb.debits.services import mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.axe import axe_violations
from tests.counter.test_browser import base, log_in, step  # noqa: F401
from tests.customers.test_reports import member
from tests.debits.camt_files import Tx, document, return_entries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_violations(page: Any, state: str) -> None:
    step(page, state)
    assert axe_violations(page) == [], state


@pytest.fixture
def planned(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> list[Debit]:
    """Two members with a mandate, each with a debit planned a month from now."""
    library = Library.objects.get(code="bind")
    debits = []
    for surname in ("Incasso", "Afschrijving"):
        customer = member(balie, branch_5280, digital_only, surname=surname, on=local_today())
        mandate = mandate_create(
            library=library,
            customer=customer,
            iban="NL91ABNA0417164300",
            holder_name=f"E.B. {surname}",
            signed_on=local_today(),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
        debits.append(
            Debit.objects.create(
                library=library,
                mandate=mandate,
                customer=customer,
                amount=Decimal("42.00"),
                description="Bibliotheken Bind abonnement",
                collection_date=local_today() + dt.timedelta(days=30),
                end_to_end_id=end_to_end_id(),
                state=DebitState.PLANNED,
            )
        )
    return debits


def test_making_downloading_and_sending_a_file_by_keyboard(
    base: str,  # noqa: F811
    browser_page: Any,
    planned: list[Debit],
    tmp_path: Path,
) -> None:
    page, keys = browser_page, browser_page.keyboard
    log_in(page, base, "manager")
    page.goto(f"{base}/balie/financieel/")
    page.get_by_role("navigation", name="Financieel").get_by_role(
        "link", name="Automatische incasso"
    ).focus()
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Automatische incasso")
    planned_table = page.locator("table.planned")
    expect(planned_table).to_contain_text("€ 84,00")
    no_violations(page, "incasso-gepland")

    page.get_by_role("button", name="Bestanden maken").focus()
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.get_by_text("1 incassobestand gemaakt: 2 incasso's, € 84,00.")).to_be_visible()
    batch = DebitBatch.objects.get()
    row = page.locator(f"#batch-{batch.pk}")
    expect(row).to_contain_text("aangemaakt")
    no_violations(page, "incasso-bestand-gemaakt")

    # Download: the file as stored, under its own name.
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("^Download")).click()
    download = info.value
    assert download.suggested_filename == batch.filename
    saved = tmp_path / batch.filename
    download.save_as(saved)
    assert saved.read_bytes() == batch.xml.encode("utf-8")

    # Markeer als verstuurd: the question with Nee in focus; Nee changes nothing.
    mark = row.get_by_role("button", name=re.compile("^Markeer als verstuurd"))
    mark.focus()
    keys.press("Enter")
    question = page.get_by_role("dialog", name="Bevestig")
    expect(question).to_contain_text("aangeleverd bij de bank?")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    no_violations(page, "incasso-verstuurd-vraag")
    keys.press("Enter")  # Nee
    expect(question).to_be_hidden()
    expect(mark).to_be_focused()
    assert DebitBatch.objects.get().state == BatchState.MADE

    keys.press("Enter")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    keys.press("ArrowLeft")
    with page.expect_navigation():
        keys.press("Enter")  # Ja
    expect(page.get_by_text("is gemarkeerd als verstuurd")).to_be_visible()
    expect(page.locator(f"#batch-{batch.pk}")).to_contain_text("verstuurd")
    expect(page.locator(f"#batch-{batch.pk}")).to_contain_text("manager")
    assert DebitBatch.objects.get().state == BatchState.SENT
    no_violations(page, "incasso-verstuurd")

    # Printed: the totals without the navigation and the forms.
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Bestanden maken")).to_be_hidden()
    expect(page.locator("table.batch-totals")).to_be_visible()
    step(page, "incasso-afgedrukt")
    page.emulate_media(media="screen")

    # Terugboekingen inlezen: one item Bieb does not know, handled by hand.
    camt = tmp_path / "camt054.xml"
    camt.write_bytes(document(return_entries([Tx("ONBEKEND-1", "MS02", "10.00")])))
    page.get_by_label(re.compile("^Bestand van de bank")).set_input_files(str(camt))
    with page.expect_navigation():
        page.get_by_role("button", name="Inlezen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terugboekingen camt054.xml")
    expect(page.get_by_text("1 terugboekingen, 0 verwerkt, 1 niet herkend")).to_be_visible()
    no_violations(page, "terugboekingen")
    page.get_by_label("Hoe afgehandeld").fill("Geen incasso van ons; bank gebeld")
    with page.expect_navigation():
        page.get_by_label("Hoe afgehandeld").press("Enter")
    expect(page.get_by_text("afgehandeld door manager")).to_be_visible()
    item = ReturnItem.objects.get()
    assert (item.state, item.handled_note) == (
        ReturnItemState.HANDLED,
        "Geen incasso van ons; bank gebeld",
    )
    no_violations(page, "terugboekingen-afgehandeld")


@pytest.fixture
def open_amounts(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> list[object]:
    """Two members with a mandate who have not paid their € 42,00 yet, and nothing planned."""
    library = Library.objects.get(code="bind")
    customers = []
    for surname in ("Aap", "Beer"):
        customer = member(balie, branch_5280, digital_only, surname=surname, on=local_today())
        mandate_create(
            library=library,
            customer=customer,
            iban="NL91ABNA0417164300",
            holder_name=f"E.B. {surname}",
            signed_on=local_today(),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
        customers.append(customer)
    return customers


def test_choosing_open_amounts_to_collect_by_keyboard(
    base: str,  # noqa: F811
    browser_page: Any,
    open_amounts: list[Any],
) -> None:
    page, keys = browser_page, browser_page.keyboard
    library = Library.objects.get(code="bind")
    date = collection_date_for(library, today=local_today(), not_before=local_today())
    log_in(page, base, "manager")
    page.goto(f"{base}/balie/financieel/incasso/")
    section = page.locator("#open-debits")
    expect(section).to_contain_text("€ 42,00")
    no_violations(page, "incasso-openstaand")

    # Nothing chosen: no question; the page says to choose someone, next to the list.
    page.get_by_role("button", name="Gekozen bedragen incasseren").focus()
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.locator("#open-debits-error")).to_contain_text("Kies")
    expect(page.locator('#open-debits input[name="klant"]').first).to_be_focused()
    no_violations(page, "incasso-openstaand-niets-gekozen")
    assert not Debit.objects.exists()
    section = page.locator("#open-debits")

    # All on the page with Space; the question counts them, with Nee in focus.
    everyone = page.get_by_label("Alle klanten op deze pagina kiezen")
    everyone.focus()
    keys.press("Space")
    boxes = section.locator('input[name="klant"]')
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(1)).to_be_checked()
    chosen = page.get_by_role("button", name="Gekozen bedragen incasseren")
    chosen.focus()
    keys.press("Enter")
    question = page.get_by_role("dialog", name="Bevestig")
    expect(question).to_contain_text(
        f"De openstaande bedragen van 2 klanten (€ 84,00) incasseren op {date:%d-%m-%Y}?"
    )
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    no_violations(page, "incasso-openstaand-vraag")
    keys.press("Enter")  # Nee
    expect(question).to_be_hidden()
    expect(chosen).to_be_focused()
    assert not Debit.objects.exists()

    # One unticked with Space (Shift+Tab from the button to the last box): the question says 1.
    keys.press("Shift+Tab")
    keys.press("Shift+Tab")
    expect(boxes.nth(1)).to_be_focused()
    keys.press("Space")
    expect(boxes.nth(1)).not_to_be_checked()
    expect(everyone).not_to_be_checked()
    chosen.focus()
    keys.press("Enter")
    expect(question).to_contain_text("De openstaande bedragen van 1 klant (€ 42,00)")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    keys.press("ArrowLeft")
    with page.expect_navigation():
        keys.press("Enter")  # Ja
    expect(
        page.get_by_text(
            f"1 incasso gepland op {date:%d-%m-%Y}, samen € 42,00. De klant krijgt een "
            "vooraankondiging per e-mail."
        )
    ).to_be_visible()
    (debit,) = Debit.objects.all()
    assert (debit.customer_id, debit.period_id, debit.state) == (
        open_amounts[0].pk,
        None,
        DebitState.PLANNED,
    )
    expect(page.locator("table.planned")).to_contain_text("€ 42,00")
    no_violations(page, "incasso-openstaand-gepland")

    # The rest with "Alles incasseren", Ja through the question.
    rest = page.get_by_role("button", name="Alles incasseren (1 klant, € 42,00)")
    rest.focus()
    keys.press("Enter")
    expect(question).to_contain_text("De openstaande bedragen van 1 klant (€ 42,00)")
    page.wait_for_function("document.activeElement.textContent === 'Nee'")
    keys.press("ArrowLeft")
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.get_by_text("Er zijn geen klanten met een actieve machtiging")).to_be_visible()
    assert Debit.objects.filter(period__isnull=True).count() == 2
    no_violations(page, "incasso-openstaand-alles")
