"""On a phone (390 x 844, and 320 wide) in real Chromium: a Vast member whose rights ended
opens the renewal mail's link, "Verlengen en betalen", the demo payment service's "Betaald",
back on the page "Betaald", and the Online Bibliotheek (logged in through the KB) gives access
again. axe-core checks the pay page and the Online Bibliotheek's states at phone width."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine

from bieb.core.dates import add_months, date_nl, local_today
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Membership, MembershipStatus
from bieb.customers.renewals import renewals_run
from bieb.customers.services import customer_register
from bieb.kb.models import LinkedMembership
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.payments.models import Payment
from bieb.staff.models import User
from tests.axe import axe_violations
from tests.browser import snap
from tests.customers.factories import details
from tests.payments.year import at
from tests.signup.factories import PASSWORD, active_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page: Any, width: int = 390) -> None:
    """Nothing is wider than the phone's screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def check(page: Any, name: str, width: int = 390) -> None:
    fits(page, width)
    assert axe_violations(page) == [], name
    snap(page, name)


def log_in_at_the_kb(page: Any, base: str) -> None:
    page.goto(f"{base}/online/inloggen/")
    page.get_by_label("Gebruikersnaam").fill("e.b.tester")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("heading", name="Hallo e.b.tester").wait_for()


@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_a_vast_member_renews_from_the_mail_on_a_phone_and_reads_again(
    kb_live: str,
    browser_page_for: Any,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    bind: Library,
) -> None:
    # The rights ran through the end of last month: registered twelve months before, paid at
    # the desk; the run 10 days before the end offered the renewal and mailed the link.
    today = local_today()
    ended = today.replace(day=1) - dt.timedelta(days=1)
    start = dt.date(*add_months(ended.year - 1, ended.month, 1), 1)
    account = active_account("e.b.tester")
    with time_machine.travel(at(start)):
        registration = customer_register(
            actor=None,
            account_id=account.pk,
            branch=branch_5280,
            details=details(email="e.b.tester@example.nl"),
            subscription_type=digital_only,
            on=start,
        )
        customer = registration.customer
        ledger_payment_book(actor=balie, customer=customer, amount=digital_only.price, method="pin")
    offer_day = ended - dt.timedelta(days=10)
    with time_machine.travel(at(offer_day)):
        renewals_run(library=bind, day=offer_day, started_by="test")
    renewals_run(library=bind, day=today, started_by="test")  # today: the rights ended
    membership = Membership.objects.get(customer=customer)
    assert (membership.status, membership.rights_through) == (MembershipStatus.ENDED, ended)
    mail = OutboxMessage.objects.get(to=customer.email, kind="customers.renewal_fixed")
    found = re.search(r"http://\S+/betalen/verlengen/\S+/", mail.text_body)
    assert found is not None and found.group(0).startswith(kb_live)
    link = found.group(0)

    page = browser_page_for(390, 844)
    log_in_at_the_kb(page, kb_live)
    assert "Je hebt nu geen toegang tot e-books en luisterboeken." in page.inner_text("main")
    assert f"was geldig t/m {date_nl(ended)} en is niet verlengd" in page.inner_text("main")
    page.get_by_role("link", name="Verlengen en betalen").wait_for()
    check(page, "online-niet-verlengd")

    # the member opens the renewal mail on the phone
    page.goto(link)
    page.get_by_role("heading", name="Abonnement verlengen").wait_for()
    main = page.inner_text("main")
    assert "Mw. E.B. Tester" in main and "€ 42,00" in main and "0592 123 456" in main
    button = page.get_by_role("button", name="Verlengen en betalen")
    box = button.bounding_box()
    assert box is not None and box["width"] >= 300 and box["height"] >= 44  # a big target
    check(page, "verlengen")
    button.click()

    page.get_by_role("heading", name="Betalen").wait_for()  # the demo payment service
    assert "€ 42,00" in page.inner_text("main")
    snap(page, "demo-betaalpagina")
    page.get_by_role("button", name="Betaald").click()

    page.get_by_role("heading", name="Betaald, dank je wel").wait_for()
    membership.refresh_from_db()
    new_end = membership.rights_through
    assert new_end is not None and new_end > today
    assert f"loopt t/m {date_nl(new_end)}" in page.inner_text("main")
    check(page, "betaald")

    page.get_by_role("link", name="Naar de Online Bibliotheek").click()
    page.get_by_text(f"e-books en luisterboeken t/m {date_nl(new_end)}").wait_for()
    check(page, "online-toegang")
    assert Payment.objects.count() == 1 and membership.status == MembershipStatus.ACTIVE

    # the same link later: paid, nothing to pay
    page.goto(link)
    page.get_by_role("heading", name="Al betaald").wait_for()
    check(page, "al-betaald")


@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_the_pages_of_every_state_are_accessible_at_320_wide(
    kb_live: str, browser_page_for: Any, digital_only: SubscriptionType, branch_5280: Branch
) -> None:
    account = active_account("e.b.tester")
    customer_register(
        actor=None,
        account_id=account.pk,
        branch=branch_5280,
        details=details(),
        subscription_type=digital_only,
    )
    page = browser_page_for(320, 640)
    log_in_at_the_kb(page, kb_live)
    assert "wacht op betaling" in page.inner_text("main")
    check(page, "online-wacht-op-betaling", 320)

    linked = LinkedMembership.objects.get()
    pay_url = linked.pay_url
    ended = local_today() - dt.timedelta(days=40)
    for state in ("betalingsachterstand", "uitgeschreven", "opgezegd"):
        LinkedMembership.objects.filter(pk=linked.pk).update(
            state=state,
            valid_through=ended,
            pay_url=pay_url if state == "betalingsachterstand" else "",
        )
        page.goto(f"{kb_live}/online/inloggen/")  # no password: the KB knows the member
        page.get_by_role("heading", name="Hallo e.b.tester").wait_for()
        assert "Je hebt nu geen toegang" in page.inner_text("main")
        check(page, f"online-{state}", 320)

    page.goto(pay_url)
    page.get_by_role("heading", name="Abonnement betalen").wait_for()
    check(page, "betalen", 320)
    page.goto(f"{kb_live}/betalen/verlengen/klopt-niet/")
    page.get_by_role("heading", name="Deze betaallink klopt niet of is te oud").wait_for()
    check(page, "link-onbekend", 320)


@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_a_member_chooses_direct_debit_on_a_phone(
    kb_live: str,
    browser_page_for: Any,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    bind: Library,
) -> None:
    """The renewal mail's link, on a phone: "Betaal met automatische incasso", the IBAN, the
    account holder and the consent that names the library, its Incassant-ID and the mandate
    reference; then the page says when and from which account."""
    from bieb.debits.models import Debit, Mandate

    today = local_today()
    start = dt.date(*add_months(today.year, today.month, -11), 1)  # ends this month
    with time_machine.travel(at(start)):
        registration = customer_register(
            actor=balie,
            branch=branch_5280,
            details=details(email="e.b.tester@example.nl"),
            subscription_type=digital_only,
            on=start,
        )
        customer = registration.customer
        ledger_payment_book(actor=balie, customer=customer, amount=digital_only.price, method="pin")
    renewals_run(library=bind, day=today, started_by="test")
    mail = OutboxMessage.objects.get(to=customer.email, kind="customers.renewal_fixed")
    found = re.search(r"http://\S+/betalen/verlengen/\S+/", mail.text_body)
    assert found is not None

    page = browser_page_for(390, 844)
    page.goto(found.group(0))
    page.get_by_role("heading", name="Abonnement verlengen").wait_for()
    page.get_by_role("link", name="Betaal met automatische incasso").click()
    page.get_by_role("heading", name="Betalen met automatische incasso").wait_for()
    main = page.inner_text("main")
    assert "NL69ZZZ123456780000" in main and f"{customer.number}-1" in main
    check(page, "incasso-machtiging")

    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 00")
    page.get_by_role("button", name="Machtiging geven").click()  # no consent yet
    page.get_by_text("Geef toestemming voor de automatische incasso.").wait_for()
    assert page.get_by_label("IBAN").input_value() == "NL91 ABNA 0417 1643 00"  # kept
    check(page, "incasso-zonder-toestemming")
    page.get_by_label("Ik geef deze machtiging").check()
    page.get_by_role("button", name="Machtiging geven").click()

    page.get_by_role("heading", name="Automatische incasso geregeld").wait_for()
    debit = Debit.objects.get()
    assert date_nl(debit.collection_date) in page.inner_text("main")
    assert "NL91ABNA •••• 4300" in page.inner_text("main")
    check(page, "incasso-geregeld")
    assert Mandate.objects.get().kind == "online"
