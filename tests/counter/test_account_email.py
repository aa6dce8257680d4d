"""The customer's e-mail (the library's) and the login account's (the KB's): when they differ the
customer page shows both, "E-mail van inlogaccount wijzigen" starts the KB's confirmation at the
customer's address (the member confirms; staff never set it), and "Opnieuw versturen" warns."""

import re
import uuid

import pytest
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer
from bieb.kb.models import AccountState, LoginAccount
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User

pytestmark = pytest.mark.django_db


def url(customer: Customer, tail: str = "") -> str:
    return f"/balie/klanten/{customer.number}/{tail}"


def once(page: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', page)
    assert match
    return match.group(1)


def activate(customer: Customer) -> LoginAccount:
    account = LoginAccount.objects.get(pk=customer.login_account_id)
    account.state = AccountState.ACTIVE
    account.email_verified = True
    account.activation_deadline = None
    account.set_password("Leeslamp-Duinpan-42")
    account.save()
    return account


def change_email(customer: Customer, email: str) -> None:
    """As 'Wijzig persoonsgegevens' does: the library's address only."""
    Customer.objects.filter(pk=customer.pk).update(email=email)


def test_same_addresses_show_one_and_no_button(balie_client: Client, tester: Customer) -> None:
    page = balie_client.get(url(tester)).content.decode()
    assert "E-mail (KB)" in page and "E-mail (klant)" not in page
    assert "E-mail van inlogaccount wijzigen" not in page


def test_a_changed_address_is_confirmed_by_the_member_never_set_by_staff(
    balie_client: Client, tester: Customer, balie: User
) -> None:
    account = activate(tester)
    change_email(tester, "nieuw@example.nl")
    page = balie_client.get(url(tester)).content.decode()
    assert '<dd id="account-email">e.b.tester@example.nl</dd>' in page
    assert '<dd id="customer-email">nieuw@example.nl</dd>' in page
    assert "E-mail van inlogaccount wijzigen" in page

    response = balie_client.post(url(tester, "inlogaccount/e-mail-wijzigen/"), {"once": once(page)})
    assert response["Location"] == url(tester) + "#inlogaccount"
    page = balie_client.get(response["Location"]).content.decode()
    assert "De KB heeft een bevestigingslink gestuurd naar nieuw@example.nl" in page
    assert '<dd id="account-pending-email">nieuw@example.nl</dd>' in page
    account.refresh_from_db()
    assert account.email == "e.b.tester@example.nl"  # not set by staff
    audit = AuditEvent.objects.get(action="customer.login_account_email_change_requested")
    assert audit.actor == balie and audit.data["username"] == account.username

    mail = OutboxMessage.objects.get(to="nieuw@example.nl", kind="kb.email_change")
    path = re.search(r"https?://[^/\s]+(/kb/e-mail-bevestigen/\S+)", mail.text_body)
    assert path
    Client().post(path.group(1), {"once": str(uuid.uuid4())})  # the member confirms
    page = balie_client.get(url(tester)).content.decode()
    assert '<dd id="account-email">nieuw@example.nl</dd>' in page
    assert "E-mail (klant)" not in page
    assert OutboxMessage.objects.filter(
        to="e.b.tester@example.nl", kind="kb.email_changed"
    ).exists()


def test_a_double_click_asks_the_kb_once(balie_client: Client, tester: Customer) -> None:
    activate(tester)
    change_email(tester, "nieuw@example.nl")
    key = once(balie_client.get(url(tester)).content.decode())
    for _ in range(2):
        balie_client.post(url(tester, "inlogaccount/e-mail-wijzigen/"), {"once": key})
    assert OutboxMessage.objects.filter(kind="kb.email_change").count() == 1


def test_resend_warns_when_the_addresses_differ_and_the_change_sends_the_activation_there(
    balie_client: Client, tester: Customer
) -> None:
    change_email(tester, "goed@example.nl")
    page = balie_client.get(url(tester)).content.decode()
    resend = re.search(r'<form[^>]*opnieuw-versturen/"[^>]*>', page)
    assert resend and "de activeringsmail gaat naar e.b.tester@example.nl" in resend.group(0)
    assert "Bij de klant staat goed@example.nl" in resend.group(0)

    response = balie_client.post(url(tester, "inlogaccount/e-mail-wijzigen/"), {"once": once(page)})
    page = balie_client.get(response["Location"]).content.decode()
    assert "De activeringsmail is verstuurd naar goed@example.nl" in page
    assert OutboxMessage.objects.filter(to="goed@example.nl", kind="kb.activation").exists()
    assert "E-mail (klant)" not in page  # the waiting account has the customer's address now


def test_the_customer_of_a_deleted_account_shows_no_account(
    balie_client: Client, tester: Customer
) -> None:
    from bieb.kb.self_service import account_remove

    account_remove(account_id=tester.login_account_id, reason="deleted", actor="lid:x")  # type: ignore[arg-type]
    page = balie_client.get(url(tester)).content.decode()
    assert "Geen inlogaccount." in page
    assert AuditEvent.objects.filter(action="customer.login_account_deleted").exists()
