"""The membership year at the counter: the desk payment on the registration's result, the
Abonnementen card (status, rights, Verlengen, Opzeggen, Wijzig abonnement) and the ledger's
corrections (Storno, Terugbetaling, Kwijtschelden), each once per form, refused with a Dutch
message when the staff member may not, and what was typed kept on an error."""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from bieb.core.dates import date_nl
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.customers.selectors import customer_saldo
from bieb.staff.models import User
from tests.counter.conftest import focused, register_at_counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(demo: None) -> User:
    user = User.objects.get(username="manager")
    assert user.has_finance
    return user


@pytest.fixture
def manager_client(manager: User) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def url(customer: Customer, tail: str = "") -> str:
    return f"/balie/klanten/{customer.number}/{tail}"


def page_of(client: Client, customer: Customer) -> str:
    return client.get(url(customer)).content.decode()


def once(page: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', page)
    assert match
    return match.group(1)


def text(response: Any) -> str:
    """The page as staff read it: without tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def lines(customer: Customer, kind: str) -> list[Decimal]:
    found = LedgerLine.objects.filter(customer=customer, kind=kind).order_by("id")
    return [line.amount for line in found]


# --- paying at registration ------------------------------------------------------------------


def test_the_registration_ends_with_the_desk_payment(balie_client: Client) -> None:
    response = register_at_counter(balie_client)
    assert response.status_code == 302
    result = balie_client.get(response["Location"])
    content = result.content.decode()
    assert "Genereren van inlogaccount gelukt" in content
    # the amount prefilled with the saldo; OK closes the dialog and returns the focus there
    assert 'name="amount" id="id_amount" value="42,00"' in content
    assert 'data-return-focus="id_amount"' in content
    assert focused(result) == "id_done_ok"
    assert 'name="scherm" value="ingeschreven"' in content
    customer = Customer.objects.get()
    assert f'href="/balie/klanten/{customer.number}/" class="button secondary">Later betalen' in (
        content
    )
    # 'Later betalen' books nothing: the membership waits for the payment
    page = balie_client.get(url(customer))
    assert "wacht op betaling" in text(page)
    assert "Rechten t/m nog geen: wacht op betaling" in text(page)
    assert lines(customer, LedgerKind.PAYMENT) == []


def test_paying_at_registration_books_once_and_the_membership_is_active(
    balie_client: Client,
) -> None:
    result = balie_client.get(register_at_counter(balie_client)["Location"])
    customer = Customer.objects.get()
    data = {
        "once": once(result.content.decode()),
        "scherm": "ingeschreven",
        "inlogaccount": "nieuw",
        "amount": "42,00",
        "method": "pin",
    }
    done = balie_client.post(url(customer, "betaling/"), data)
    again = balie_client.post(url(customer, "betaling/"), data)  # a double click
    assert done.status_code == again.status_code == 302
    assert done["Location"] == url(customer, "ingeschreven/?inlogaccount=nieuw&betaald=1")
    assert lines(customer, LedgerKind.PAYMENT) == [Decimal("-42.00")]
    paid = balie_client.get(done["Location"])
    shown = text(paid)
    assert "Betaling van € 42,00 (pin) is geboekt." in shown
    assert "het abonnement is nu actief" in shown
    assert "Genereren van inlogaccount gelukt" not in shown  # the dialog came once
    assert focused(paid) == "id_to_customer"
    membership = customer.memberships.get()
    assert membership.status == MembershipStatus.ACTIVE
    assert f"rechten t/m {date_nl(membership.valid_through)}" in shown


def test_more_than_the_saldo_at_registration_asks_on_the_same_screen(
    balie_client: Client,
) -> None:
    result = balie_client.get(register_at_counter(balie_client)["Location"])
    customer = Customer.objects.get()
    key = once(result.content.decode())
    data = {"once": key, "scherm": "ingeschreven", "amount": "50", "method": "contant"}
    question = balie_client.post(url(customer, "betaling/"), data)
    assert question.status_code == 200
    content = question.content.decode()
    assert "Meer dan het saldo (€ 42,00): toch € 50,00 boeken?" in content
    assert "Opbouw abonnementskosten" in content  # still the registration's screen
    assert focused(question) == "id_overpayment_nee"
    dialog = re.search(r'<dialog id="overpayment-dialog".*?</dialog>', content, re.S)
    assert dialog and 'name="scherm" value="ingeschreven"' in dialog.group(0)
    assert lines(customer, LedgerKind.PAYMENT) == []
    yes = balie_client.post(url(customer, "betaling/"), {**data, "confirm_overpayment": "ja"})
    assert yes["Location"].startswith(url(customer, "ingeschreven/"))
    assert customer_saldo(customer=customer) == Decimal("-8.00")


def test_an_error_at_registration_keeps_what_was_typed(balie_client: Client) -> None:
    result = balie_client.get(register_at_counter(balie_client)["Location"])
    customer = Customer.objects.get()
    data = {"once": once(result.content.decode()), "scherm": "ingeschreven", "amount": "4x"}
    response = balie_client.post(url(customer, "betaling/"), data)
    assert response.status_code == 400
    assert 'value="4x"' in response.content.decode()
    assert focused(response) == "id_amount"


# --- Abonnementen ----------------------------------------------------------------------------


def test_the_membership_card_shows_status_rights_and_one_saldo(
    balie_client: Client, tester: Customer
) -> None:
    shown = text(balie_client.get(url(tester)))
    assert "0141 Digital only € 42,00 /12 mnd wacht op betaling" in shown
    assert "Geldig t/m" in shown and "Rechten t/m nog geen: wacht op betaling" in shown
    assert "Te betalen € 42,00" in shown  # the period's build-up
    # "Saldo" is the ledger's total only
    assert shown.count("Saldo") == 1
    assert "Saldo € 42,00" in shown


def test_verlengen_books_the_next_period_once_and_offers_the_payment(
    balie_client: Client, tester: Customer
) -> None:
    membership = tester.memberships.get()
    key = once(page_of(balie_client, tester))
    path = url(tester, f"abonnementen/{membership.pk}/verlengen/")
    done = balie_client.post(path, {"once": key})
    again = balie_client.post(path, {"once": key})  # a double click
    assert done.status_code == again.status_code == 302
    assert done["Location"] == url(tester, "?betalen=1#financieel")
    booked = MembershipPeriod.objects.filter(membership=membership, state=PeriodState.BOOKED)
    assert booked.count() == 2
    page = balie_client.get(done["Location"])
    assert focused(page) == "id_amount"
    assert 'id="id_amount" value="84,00"' in page.content.decode()
    start = membership.valid_through.toordinal() + 1
    nxt = booked.order_by("start").last()
    assert nxt is not None and nxt.start.toordinal() == start
    assert f"is verlengd: {date_nl(nxt.start)} t/m {date_nl(nxt.end)}, € 42,00 geboekt" in text(
        page
    )
    assert f"Volgende periode {date_nl(nxt.start)} t/m {date_nl(nxt.end)}" in text(page)
    # renewed already: not offered again, and a second try is refused in Dutch
    assert f"abonnementen/{membership.pk}/verlengen/" not in page.content.decode()
    refused = balie_client.post(path, {"once": once(page.content.decode())})
    assert refused.status_code == 400
    assert f"Dit abonnement is al verlengd t/m {date_nl(nxt.end)}." in text(refused)


def test_opzeggen_needs_a_reason_keeps_the_choice_and_cancels_once(
    balie_client: Client, tester: Customer
) -> None:
    membership = tester.memberships.get()
    page = page_of(balie_client, tester)
    # the end of the current period is the default, with its date
    shown = re.sub(r"<[^>]+>", "", page)  # the text, as read
    assert f"einde van de huidige periode ({date_nl(membership.valid_through)})" in shown
    assert 'data-confirm="0141 Digital only € 42,00 /12 mnd opzeggen?' in page
    path = url(tester, f"abonnementen/{membership.pk}/opzeggen/")
    wrong = balie_client.post(path, {"once": once(page), "reason": "", "per": "direct"})
    assert wrong.status_code == 400
    content = wrong.content.decode()
    assert "Kies een reden van opzeggen." in content
    assert focused(wrong) == f"id_cancel_reason_{membership.pk}"
    assert f'id="id_cancel_per_direct_{membership.pk}" checked' in content
    key = once(content)
    data = {"once": key, "reason": "verhuisd", "per": "einde"}
    done = balie_client.post(path, data)
    again = balie_client.post(path, data)
    assert done.status_code == again.status_code == 302
    membership.refresh_from_db()
    assert membership.ends_on == membership.valid_through
    assert membership.cancel_reason == "verhuisd"
    shown = text(balie_client.get(done["Location"]))
    assert f"opgezegd per {date_nl(membership.valid_through)}" in shown
    assert "De klant krijgt een bevestiging per mail." in shown
    assert "Verlengen" not in shown and "Wijzig abonnement" not in shown


def test_wijzig_abonnement_from_the_next_period(balie_client: Client, tester: Customer) -> None:
    membership = tester.memberships.get()
    page = page_of(balie_client, tester)
    start = date_nl(membership.valid_through.fromordinal(membership.valid_through.toordinal() + 1))
    assert f"Abonnement vanaf de volgende periode ({start})" in page
    path = url(tester, f"abonnementen/{membership.pk}/wijzigen/")
    wrong = balie_client.post(path, {"once": once(page), "subscription_type": "9999"})
    assert wrong.status_code == 400
    assert "Kies een abonnement." in wrong.content.decode()
    done = balie_client.post(path, {"once": once(page), "subscription_type": "0110"})
    assert done.status_code == 302
    membership.refresh_from_db()
    assert membership.next_subscription_type is not None
    assert membership.next_subscription_type.code == "0110"
    shown = text(balie_client.get(done["Location"]))
    assert f"Vanaf de volgende periode ({start}): 0110" in shown


# --- Financieel: corrections -----------------------------------------------------------------


def test_storno_of_todays_own_payment_with_a_reason(
    balie_client: Client, balie: User, tester: Customer
) -> None:
    payment = ledger_payment_book(
        actor=balie, customer=tester, amount=Decimal("32"), method="contant"
    )
    page = page_of(balie_client, tester)
    assert page.count(">Storno</summary>") == 1  # only the own payment of today
    path = url(tester, f"boekingen/{payment.pk}/storno/")
    wrong = balie_client.post(path, {"once": once(page), "reason": "  "})
    assert wrong.status_code == 400
    assert "Vul een reden in." in wrong.content.decode()
    assert focused(wrong) == f"id_storno_reason_{payment.pk}"
    data = {"once": once(page), "reason": "Verkeerd bedrag getypt"}
    done = balie_client.post(path, data)
    again = balie_client.post(path, data)
    assert done.status_code == again.status_code == 302
    assert lines(tester, LedgerKind.STORNO) == [Decimal("32.00")]
    shown = text(balie_client.get(done["Location"]))
    assert "Storno geboekt: Betaling contant € 32,00 (€ -32,00)." in shown
    assert "Reden: Verkeerd bedrag getypt" in shown
    assert "teruggedraaid (storno)" in shown
    assert ">Storno</summary>" not in page_of(balie_client, tester)  # nothing left to reverse


def test_a_forged_storno_without_the_right_is_refused_in_dutch(
    balie_client: Client, manager: User, tester: Customer
) -> None:
    """A payment the manager booked is not the desk's to reverse: not offered, and refused."""
    payment = ledger_payment_book(
        actor=manager, customer=tester, amount=Decimal("42"), method="pin"
    )
    page = page_of(balie_client, tester)
    assert f"boekingen/{payment.pk}/storno/" not in page
    response = balie_client.post(
        url(tester, f"boekingen/{payment.pk}/storno/"),
        {"once": once(page), "reason": "Zomaar"},
    )
    assert response.status_code == 403
    assert "Hiervoor is de rol Financieel nodig." in text(response)
    assert lines(tester, LedgerKind.STORNO) == []


def test_yesterdays_own_payment_needs_the_finance_role(
    balie_client: Client, manager_client: Client, balie: User, tester: Customer
) -> None:
    payment = ledger_payment_book(actor=balie, customer=tester, amount=Decimal("42"), method="pin")
    LedgerLine.objects.filter(pk=payment.pk).update(
        booked_at=timezone.now() - timezone.timedelta(days=1)
    )
    assert f"boekingen/{payment.pk}/storno/" not in page_of(balie_client, tester)
    page = page_of(manager_client, tester)
    assert f"boekingen/{payment.pk}/storno/" in page
    done = manager_client.post(
        url(tester, f"boekingen/{payment.pk}/storno/"), {"once": once(page), "reason": "Dubbel"}
    )
    assert done.status_code == 302
    assert lines(tester, LedgerKind.STORNO) == [Decimal("42.00")]


def test_terugbetaling_only_for_finance_and_only_with_credit(
    balie_client: Client, manager_client: Client, balie: User, tester: Customer
) -> None:
    ledger_payment_book(
        actor=balie, customer=tester, amount=Decimal("50"), method="pin", allow_overpayment=True
    )
    assert ">Terugbetaling</summary>" not in page_of(balie_client, tester)
    page = page_of(manager_client, tester)
    assert ">Terugbetaling</summary>" in page
    assert ">Kwijtschelden</summary>" not in page  # nothing open to forgive
    assert 'id="id_refund_amount" value="8,00"' in page
    path = url(tester, "terugbetaling/")
    forged = balie_client.post(
        path, {"once": once(page), "amount": "8,00", "method": "pin", "reason": "Teveel"}
    )
    assert forged.status_code == 403
    assert "Hiervoor is de rol Financieel nodig." in text(forged)
    too_much = manager_client.post(
        path, {"once": once(page), "amount": "9,00", "method": "bank", "reason": "Teveel"}
    )
    assert too_much.status_code == 400
    content = too_much.content.decode()
    assert "Terugbetalen kan tot het tegoed van de klant (€ 8,00)." in content
    assert 'value="9,00"' in content and 'id="id_refund_method_bank" value="bank" checked' in (
        content
    )
    data = {"once": once(page), "amount": "8,00", "method": "bank", "reason": "Teveel betaald"}
    assert manager_client.post(path, data).status_code == 302
    assert manager_client.post(path, data).status_code == 302  # a double click
    refund = LedgerLine.objects.get(customer=tester, kind=LedgerKind.REFUND)
    assert (refund.amount, refund.method, refund.reason) == (Decimal("8.00"), "", "Teveel betaald")
    assert customer_saldo(customer=tester) == 0


def test_kwijtschelden_up_to_the_saldo(
    balie_client: Client, manager_client: Client, tester: Customer
) -> None:
    assert ">Kwijtschelden</summary>" not in page_of(balie_client, tester)
    page = page_of(manager_client, tester)
    assert 'id="id_write_off_amount" value="42,00"' in page
    path = url(tester, "kwijtschelden/")
    forged = balie_client.post(path, {"once": once(page), "amount": "42", "reason": "Coulance"})
    assert forged.status_code == 403
    too_much = manager_client.post(path, {"once": once(page), "amount": "43", "reason": "x"})
    assert too_much.status_code == 400
    assert "Kwijtschelden kan tot het saldo (€ 42,00)." in too_much.content.decode()
    assert focused(too_much) == "id_write_off_amount"
    no_reason = manager_client.post(path, {"once": once(page), "amount": "42", "reason": ""})
    assert "Vul een reden in." in no_reason.content.decode()
    done = manager_client.post(path, {"once": once(page), "amount": "42", "reason": "Coulance"})
    assert done.status_code == 302
    assert lines(tester, LedgerKind.WRITE_OFF) == [Decimal("-42.00")]
    shown = text(manager_client.get(url(tester)))
    assert "Kwijtschelding van € 42,00 is geboekt." in shown
    assert "Kwijtschelding" in shown and "Reden: Coulance" in shown and "manager" in shown
    tester.memberships.get().refresh_from_db()
    assert tester.memberships.get().status == MembershipStatus.ACTIVE
