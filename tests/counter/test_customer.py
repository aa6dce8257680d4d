"""The customer page: personal data, memberships with their build-up, ledger and saldo, payment
at the desk, and the login account with its actions."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.customers.selectors import customer_saldo
from bieb.kb import interface
from bieb.kb.models import AccountState, LinkedMembership, LoginAccount
from bieb.kboutbox.models import KBCall
from bieb.staff.models import User
from tests.counter.conftest import focused
from tests.customers.factories import mailed_link_code

pytestmark = pytest.mark.django_db


def url(customer: Customer, tail: str = "") -> str:
    return f"/balie/klanten/{customer.number}/{tail}"


def once(page: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_the_page_shows_data_membership_build_up_ledger_and_account(
    balie_client: Client, tester: Customer
) -> None:
    page = balie_client.get(url(tester)).content.decode()
    assert "Mw. E.B. Tester" in page and tester.number in page
    assert "04-01-1991" in page and "9468 BG 41" in page and "e.b.tester@example.nl" in page
    assert "0141 Digital only € 42,00 /12 mnd" in page
    assert "Opbouw abonnementskosten" in page and ">Tariefcode<" in page
    assert 'id="saldo">€ 42,00<' in page
    assert "wacht op activering tot" in page
    for action in ["Opnieuw versturen", "Vergeet inlogaccount"]:
        assert f">{action}<" in page
    assert "Nieuw inlogaccount genereren" not in page  # there is one already


def test_a_payment_at_the_desk_books_a_line_once(
    balie_client: Client, tester: Customer, balie
) -> None:  # type: ignore[no-untyped-def]
    page = balie_client.get(url(tester)).content.decode()
    assert 'name="amount" id="id_amount" value="42,00"' in page  # the saldo, ready to book
    data = {"once": once(page), "amount": "42,00", "method": "pin"}
    first = balie_client.post(url(tester, "betaling/"), data)
    again = balie_client.post(url(tester, "betaling/"), data)  # a double click
    assert first.status_code == again.status_code == 302
    assert first["Location"] == url(tester) + "#financieel"
    line = LedgerLine.objects.get(customer=tester, kind=LedgerKind.PAYMENT)
    assert (line.amount, line.method, line.booked_by) == (Decimal("-42.00"), "pin", balie)
    assert customer_saldo(customer=tester) == Decimal("0.00")
    assert AuditEvent.objects.filter(action="ledger.payment_booked").count() == 1
    after = balie_client.get(first["Location"]).content.decode()
    assert "Betaling van € 42,00 (pin) is geboekt." in after
    assert 'id="saldo">€ 0,00<' in after


def test_a_wrong_payment_keeps_what_was_typed(balie_client: Client, tester: Customer) -> None:
    page = balie_client.get(url(tester)).content.decode()
    response = balie_client.post(
        url(tester, "betaling/"), {"once": once(page), "amount": "veertig", "method": "contant"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Vul een bedrag in euro in" in content
    assert 'value="veertig"' in content and 'value="contant" checked' in content
    assert focused(response) == "id_amount"
    no_method = balie_client.post(url(tester, "betaling/"), {"once": once(page), "amount": "5"})
    assert "Kies contant of pin." in no_method.content.decode()
    assert focused(no_method) == "id_method_contant"
    assert not LedgerLine.objects.filter(kind=LedgerKind.PAYMENT).exists()


def test_changing_personal_data_writes_the_changed_fields_to_the_audit(
    balie_client: Client, tester: Customer, balie
) -> None:  # type: ignore[no-untyped-def]
    form = balie_client.get(url(tester, "wijzigen/"))
    assert focused(form) == "id_salutation"
    content = form.content.decode()
    assert 'value="04-01-1991"' in content and 'value="9468 BG"' in content
    values = {
        "salutation": "mw",
        "initials": "E.B.",
        "prefix": "",
        "surname": "Tester",
        "first_name": "Els",
        "birth_date": "04-01-1991",
        "country": "NL",
        "postcode": "9468 bg",
        "house_number": "41a",
        "iban": "NL91 ABNA 0417 1643 00",
        "bic": "",
        "identity_checked": "ja",
        "identity_document": "",
        "email": "e.b.tester@example.nl",
        "newsletter": "on",
    }
    response = balie_client.post(url(tester, "wijzigen/"), values)
    assert response["Location"] == url(tester) + "#persoonsgegevens"
    tester.refresh_from_db()
    assert (tester.first_name, tester.house_letter, tester.iban) == (
        "Els",
        "A",
        "NL91ABNA0417164300",
    )
    assert tester.bic == "ABNANL2A" and tester.newsletter and tester.newsletter_consent_at
    audit = AuditEvent.objects.get(action="customer.updated")
    assert audit.actor == balie
    assert set(audit.data["fields"]) == {
        "first_name",
        "house_letter",
        "iban",
        "bic",
        "newsletter",
    }
    # the same form again changes nothing and writes nothing
    balie_client.post(url(tester, "wijzigen/"), values)
    assert AuditEvent.objects.filter(action="customer.updated").count() == 1


def test_wrong_personal_data_comes_back_as_typed_with_focus(
    balie_client: Client, tester: Customer
) -> None:
    response = balie_client.post(
        url(tester, "wijzigen/"),
        {"initials": "E.B.", "surname": "", "birth_date": "1-1-2999", "postcode": "9468BG"},
    )
    assert response.status_code == 400
    assert focused(response) == "id_surname"
    content = response.content.decode()
    assert "Vul de achternaam in." in content and 'value="1-1-2999"' in content
    tester.refresh_from_db()
    assert tester.surname == "Tester"


def test_expiry_forget_and_a_new_account(balie_client: Client, tester: Customer, balie) -> None:  # type: ignore[no-untyped-def]
    later = timezone.now() + dt.timedelta(hours=24, minutes=1)
    with time_machine.travel(later, tick=False):
        balie_client.force_login(balie)  # a day later: a new working day, a new staff login
        page = balie_client.get(url(tester)).content.decode()
        assert "verlopen — niet geactiveerd" in page
        assert "Kies 'Vergeet inlogaccount' en genereer daarna een nieuw inlogaccount." in page
        assert ">Opnieuw versturen<" not in page
        forget = balie_client.post(url(tester, "inlogaccount/vergeten/"), {"once": once(page)})
        assert forget["Location"].endswith("#inlogaccount")
        tester.refresh_from_db()
        assert tester.login_account_id is None
        assert not LoginAccount.objects.filter(username=tester.number).exists()

        after = balie_client.get(url(tester))
        page = after.content.decode()
        assert "Geen inlogaccount." in page
        # "genereer daarna een nieuw inlogaccount": the focus is there, not on 'Bestaand'
        assert focused(after) == "id_account_generate"
        data = {"once": once(page)}
        balie_client.post(url(tester, "inlogaccount/genereren/"), data)
        balie_client.post(url(tester, "inlogaccount/genereren/"), data)  # a double click
        tester.refresh_from_db()
        assert tester.login_account_id == LoginAccount.objects.get(username=tester.number).pk
        dialog = balie_client.get(url(tester)).content.decode()
        assert "Genereren van inlogaccount gelukt" in dialog and "24 uur" in dialog
        assert "wacht op activering tot" in dialog
        # the dialog shows once, not on every later visit
        assert (
            "Genereren van inlogaccount gelukt"
            not in balie_client.get(url(tester)).content.decode()
        )
    actions = list(
        AuditEvent.objects.filter(action__startswith="customer.login_account").values_list(
            "action", "actor"
        )
    )
    assert actions == [
        ("customer.login_account_generated", balie.pk),
        ("customer.login_account_forgotten", balie.pk),
    ]  # newest first


def test_resend_has_a_cooldown_and_says_so(balie_client: Client, tester: Customer) -> None:
    later = timezone.now() + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        page = balie_client.get(url(tester)).content.decode()
        response = balie_client.post(
            url(tester, "inlogaccount/opnieuw-versturen/"), {"once": once(page)}
        )
        assert "opnieuw verstuurd" in balie_client.get(response["Location"]).content.decode()
        page = balie_client.get(url(tester)).content.decode()
        balie_client.post(url(tester, "inlogaccount/opnieuw-versturen/"), {"once": once(page)})
        content = balie_client.get(url(tester)).content.decode()
        assert "Wacht een minuut" in content
    # Both requests are audited (staff asked twice); the KB sent one and refused the other.
    assert AuditEvent.objects.filter(action="customer.login_account_resent").count() == 2
    states = KBCall.objects.filter(kind="activation_resend").order_by("pk")
    assert list(states.values_list("state", flat=True)) == ["done", "refused"]


def test_generating_needs_an_email_address(balie_client: Client, tester: Customer) -> None:
    page = balie_client.get(url(tester)).content.decode()
    balie_client.post(url(tester, "inlogaccount/vergeten/"), {"once": once(page)})
    Customer.objects.filter(pk=tester.pk).update(email="")
    page = balie_client.get(url(tester)).content.decode()
    balie_client.post(url(tester, "inlogaccount/genereren/"), {"once": once(page)})
    assert "Vul eerst het e-mailadres" in balie_client.get(url(tester)).content.decode()


def test_bestaand_inlogaccount_on_the_customer_page(
    balie_client: Client, tester: Customer, oost_customer: Customer
) -> None:
    """The whole consent flow is in tests/counter/test_link_consent.py; here the page."""
    page = balie_client.get(url(tester)).content.decode()
    balie_client.post(url(tester, "inlogaccount/vergeten/"), {"once": once(page)})
    page = balie_client.get(url(tester)).content.decode()
    assert "Bestaand inlogaccount gebruiken" in page and ">Stuur code<" in page

    LoginAccount.objects.filter(username=oost_customer.number).update(state=AccountState.ACTIVE)
    asked = balie_client.post(
        url(tester, "inlogaccount/koppelen/"),
        {"once": once(page), "username": oost_customer.number},
    )
    assert asked.status_code == 200 and focused(asked) == "id_link_code"
    code = mailed_link_code("verhuizer@example.nl")
    data = {"username": oost_customer.number, "code": code, "code_sent": "1"}
    linked = balie_client.post(
        url(tester, "inlogaccount/koppelen/"), {"once": str(uuid.uuid4()), **data}
    )
    assert linked.status_code == 302
    tester.refresh_from_db()
    assert tester.login_account_id == oost_customer.login_account_id
    content = balie_client.get(url(tester)).content.decode()
    assert "Koppelen van inlogaccount gelukt" in content and ">actief<" in content
    assert LinkedMembership.objects.filter(customer_number=tester.number).count() == 1
    assert interface.account_status(username=oost_customer.number).state == "actief"


def test_forgetting_asks_with_the_focus_on_nee_unless_the_account_is_dead(
    balie_client: Client, tester: Customer, balie: User
) -> None:
    """Vergeet inlogaccount on a waiting or active account undoes the customer's access: the
    question's Nee has the focus. An expired account is deleted anyway: there the instruction's
    next step, Ja, has it."""

    def confirm_focus(page: str) -> str:
        form = re.search(r"<form[^>]*inlogaccount/vergeten/[^>]*>", page)
        assert form and "data-confirm=" in form.group(0)
        focus = re.search(r'data-confirm-focus="(ja|nee)"', form.group(0))
        assert focus, form.group(0)
        return focus.group(1)

    assert confirm_focus(balie_client.get(url(tester)).content.decode()) == "nee"
    account = LoginAccount.objects.get(username=tester.number)
    account.state = AccountState.ACTIVE
    account.save(update_fields=["state"])
    assert confirm_focus(balie_client.get(url(tester)).content.decode()) == "nee"
    account.state = AccountState.WAITING
    account.save(update_fields=["state"])
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25), tick=False):
        balie_client.force_login(balie)  # a day later: a new working day, a new staff login
        assert confirm_focus(balie_client.get(url(tester)).content.decode()) == "ja"
