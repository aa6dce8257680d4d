"""Mijn bibliotheek on a phone (390 x 844) in real Chromium: sign in through the KB, see the
membership and what is open, pay it with the demo payment service, change the address and the
newsletter, download the data, and cancel with a confirmation. axe-core checks every page of it
(0 violations), and nothing is wider than the phone."""

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.core.dates import date_nl
from bieb.customers.models import Customer, MembershipStatus
from bieb.kb.models import LoginAccount
from bieb.payments.models import Payment
from tests.axe import axe_violations
from tests.browser import snap
from tests.signup.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page: Any, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    assert axe_violations(page) == [], name
    snap(page, name)


@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_a_member_manages_their_membership_on_a_phone(
    mijn_live: str,
    browser_page_for: Any,
    account: LoginAccount,
    member: Customer,
    other_member: Customer,
    tmp_path: Path,
) -> None:
    base = mijn_live
    page = browser_page_for(390, 844)
    page.goto(f"{base}/mijn/bind/")
    # the login service's own page
    page.get_by_label("Gebruikersnaam").fill("e.b.tester")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    page.get_by_role("heading", name="Hallo Mw. E.B. Tester").wait_for()
    main = page.locator("main")
    expect(main).to_contain_text("Digital only")
    expect(main).to_contain_text("wacht op betaling")
    expect(page.locator("#open-amount")).to_have_text("€ 42,00")
    expect(page.get_by_role("link", name="Inlogaccount beheren")).to_have_attribute(
        "href", "/kb/account/"
    )
    check(page, "overzicht-open")

    # pay the open amount with the demo payment service
    page.locator("section.open").get_by_role("link", name="Betalen € 42,00").click()
    page.get_by_role("heading", name="Abonnement betalen").wait_for()
    page.get_by_role("button", name="Betalen").click()
    page.get_by_role("heading", name="Betalen").wait_for()  # the demo payment service
    page.get_by_role("button", name="Betaald").click()
    page.get_by_role("heading", name="Betaald, dank je wel").wait_for()
    page.get_by_role("link", name="Naar Mijn bibliotheek").click()
    page.get_by_role("heading", name="Hallo Mw. E.B. Tester").wait_for()
    membership = member.memberships.get()
    assert membership.status == MembershipStatus.ACTIVE and membership.rights_through
    expect(main).to_contain_text(f"Rechten t/m{date_nl(membership.rights_through)}")
    expect(page.locator("#open-amount")).to_have_count(0)
    assert Payment.objects.get().status == "paid"
    check(page, "overzicht-betaald")

    page.get_by_role("navigation", name="Mijn bibliotheek").get_by_role(
        "link", name="Betalingen"
    ).click()
    page.get_by_role("heading", name="Betalingen en boekingen").wait_for()
    expect(page.locator("table.ledger")).to_contain_text("Betaling")
    expect(page.locator("#saldo")).to_have_text("€ 0,00")
    check(page, "betalingen")

    # address and newsletter: a mistake first, then right
    page.get_by_role("link", name="Mijn gegevens").click()
    page.get_by_role("heading", name="Mijn gegevens", exact=True).wait_for()
    check(page, "gegevens")
    page.get_by_label("Postcode").fill("0468 BG")
    page.get_by_label("Huisnummer").fill("12")
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_text("Een Nederlandse postcode is 4 cijfers").wait_for()
    expect(page.get_by_label("Postcode")).to_be_focused()
    expect(page.get_by_label("Huisnummer")).to_have_value("12")
    check(page, "gegevens-fout")
    page.get_by_label("Postcode").fill("1234 AB")
    page.get_by_label("Ja, stuur me de nieuwsbrief van Bibliotheken Bind").check()
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_text("Je gegevens zijn opgeslagen.").wait_for()
    expect(page.locator("main")).to_contain_text("Je bent aangemeld sinds")
    check(page, "gegevens-opgeslagen")
    member.refresh_from_db()
    assert (member.postcode, member.house_number, member.newsletter) == ("1234AB", 12, True)
    assert member.newsletter_consent_at is not None

    # download the data: the readable page, and the file
    page.get_by_role("link", name="Download mijn gegevens").first.click()
    page.get_by_role("heading", name="Download mijn gegevens", level=1).wait_for()
    expect(page.locator("main")).to_contain_text("04-01-1991")
    check(page, "download")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download als bestand (JSON)").click()
    target = tmp_path / "gegevens.json"
    started.value.save_as(target)
    data = json.loads(target.read_text())
    assert data["customer"]["number"] == member.number
    assert data["customer"]["postcode"] == "1234AB" and data["customer"]["newsletter"] is True
    assert other_member.number not in target.read_text()
    assert "Anderlid" not in target.read_text()

    # Opzeggen, with the question first
    page.get_by_role("link", name="Overzicht").click()
    page.get_by_role("link", name="Opzeggen Digital only").click()
    page.get_by_role("heading", name="Digital only opzeggen?").wait_for()
    check(page, "opzeggen-vraag")
    ends = date_nl(membership.valid_through)
    page.get_by_role("button", name=f"Ja, opzeggen per {ends}").click()
    page.get_by_text("Kies waarom je opzegt.").wait_for()
    check(page, "opzeggen-zonder-reden")
    page.get_by_label("Waarom zeg je op?").select_option("geen_gebruik")
    page.get_by_role("button", name=f"Ja, opzeggen per {ends}").click()
    page.get_by_text(f"Je abonnement Digital only is opgezegd per {ends}.").wait_for()
    expect(page.get_by_role("link", name="Opzeggen Digital only")).to_have_count(0)
    check(page, "opgezegd")
    membership.refresh_from_db()
    assert membership.is_cancelled and membership.cancel_reason == "geen_gebruik"

    # another library: no customer there
    page.goto(f"{base}/mijn/oost/")
    page.get_by_role("heading", name="Je bent geen lid van Bibliotheek Oost").wait_for()
    check(page, "geen-lid")

    page.goto(f"{base}/mijn/bind/")
    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_role("heading", name="Je bent uitgelogd").wait_for()
    check(page, "uitgelogd")


@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_a_member_with_a_direct_debit_and_two_numbers_on_a_phone(
    mijn_live: str, browser_page_for: Any, account: LoginAccount, member: Customer
) -> None:
    """The overview's other states: the mandate's masked IBAN and reference, the choice
    between two customer numbers, and the error page."""
    from bieb.debits.models import MandateKind
    from bieb.debits.services import mandate_create
    from bieb.libraries.models import Branch, SubscriptionType
    from tests.mijn.factories import member_customer

    mandate = mandate_create(
        library=member.library,
        customer=member,
        iban="NL91ABNA0417164300",
        holder_name="E.B. Tester",
        signed_on=member.created_at.date(),
        kind=MandateKind.COUNTER,
        actor=None,
        actor_name="balie",
    )
    member_customer(
        account,
        branch=Branch.objects.get(number="5280"),
        subscription_type=SubscriptionType.objects.get(library=member.library, code="0141"),
        postcode="9468AB",
    )
    page = browser_page_for(390, 844)
    page.goto(f"{mijn_live}/mijn/bind/")
    page.get_by_label("Gebruikersnaam").fill("e.b.tester")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_label(
        "Je hebt meer klantnummers bij Bibliotheken Bind. Bekijk klantnummer"
    ).select_option(member.number)
    page.get_by_role("button", name="Bekijken").click()
    expect(page.locator("main")).to_contain_text(f"machtigingskenmerk {mandate.reference}")
    expect(page.locator("main")).to_contain_text("NL91ABNA •••• 4300")
    check(page, "incasso-twee-nummers")
    page.goto(f"{mijn_live}/mijn/bind/bestaat/niet/")
    page.get_by_role("heading", name="Pagina niet gevonden").wait_for()
    check(page, "404")
