"""The services the counter calls for a registered customer: customer_update and the login
account actions. Each is one transaction with an audit row, and only for the own library."""

import pytest
from django.core.exceptions import ValidationError

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer
from bieb.customers.services import (
    customer_login_account_forget,
    customer_login_account_generate,
    customer_login_account_link,
    customer_login_account_link_check,
    customer_login_account_resend,
    customer_update,
)
from bieb.kb import interface
from bieb.kb.models import AccountState, LoginAccount
from bieb.staff.models import User
from tests.customers.factories import details


def account_id(username: str) -> object:
    return LoginAccount.objects.get(username=username).pk


pytestmark = pytest.mark.django_db


def test_staff_of_another_library_change_nothing(tester: Customer, balie_oost: User) -> None:
    attempts = [
        lambda: customer_update(actor=balie_oost, customer=tester, details=details(surname="X")),
        lambda: customer_login_account_forget(actor=balie_oost, customer=tester),
        lambda: customer_login_account_resend(actor=balie_oost, customer=tester),
        lambda: customer_login_account_generate(actor=balie_oost, customer=tester),
        lambda: customer_login_account_link(
            actor=balie_oost, customer=tester, username="x", code="123456"
        ),
        lambda: customer_login_account_link_check(
            actor=balie_oost, customer=tester, username="x", code="123456"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="niet voor deze bibliotheek"):
            attempt()
    tester.refresh_from_db()
    assert tester.surname == "Tester" and tester.login_account_id == account_id(tester.number)
    assert not AuditEvent.objects.filter(actor=balie_oost).exists()


def test_update_sets_and_clears_the_newsletter_consent(tester: Customer, balie: User) -> None:
    changed = customer_update(
        actor=balie, customer=tester, details=details(newsletter=True, email="nieuw@example.nl")
    )
    assert set(changed) >= {"newsletter", "email"}
    assert tester.newsletter_consent_at is not None and tester.email == "nieuw@example.nl"
    customer_update(actor=balie, customer=tester, details=details(email="nieuw@example.nl"))
    tester.refresh_from_db()
    assert not tester.newsletter and tester.newsletter_consent_at is None
    rows = AuditEvent.objects.filter(action="customer.updated", object_id=str(tester.pk))
    assert rows.count() == 2
    assert all("nieuw@example.nl" not in str(row.data) for row in rows)  # names, not values


def test_forget_then_generate_gives_a_fresh_account(tester: Customer, balie: User) -> None:
    with pytest.raises(ValidationError, match="heeft al een inlogaccount"):
        customer_login_account_generate(actor=balie, customer=tester)
    customer_login_account_forget(actor=balie, customer=tester)
    assert tester.login_account_id is None
    assert interface.account_status(username=tester.number).state == "verlopen"  # gone
    with pytest.raises(ValidationError, match="geen inlogaccount"):
        customer_login_account_forget(actor=balie, customer=tester)
    # The KB makes the account after the commit (the KB outbox), with the id chosen here.
    call = customer_login_account_generate(actor=balie, customer=tester)
    call.refresh_from_db()
    assert call.state == "done" and call.idempotency_key == tester.login_account_id
    account = interface.account_status_by_id(account_id=tester.login_account_id)
    assert account.username == tester.number and account.state == "wacht"
    assert tester.login_account_id == account_id(tester.number) and tester.uses_login_account


def test_an_activated_forgotten_account_is_not_generated_over(
    tester: Customer, balie: User
) -> None:
    """The number is taken by the customer's own activated account, which stays as it is; a
    new account gets the number with a suffix (a collision never stops the counter)."""
    LoginAccount.objects.filter(username=tester.number).update(state=AccountState.ACTIVE)
    old = account_id(tester.number)
    customer_login_account_forget(actor=balie, customer=tester)
    customer_login_account_generate(actor=balie, customer=tester)
    tester.refresh_from_db()
    account = interface.account_status_by_id(account_id=tester.login_account_id)
    assert account.username == f"{tester.number}-2" and account.state == "wacht"
    assert tester.login_account_id == account.id != old
    assert LoginAccount.objects.get(pk=old).state == AccountState.ACTIVE


def test_link_errors_are_keyed_by_field(tester: Customer, balie: User) -> None:
    customer_login_account_forget(actor=balie, customer=tester)
    for username, code, field, message in [
        ("", "123456", "username", "Vul de gebruikersnaam"),
        ("onbekend", "", "link_code", "Vul de code"),
        ("onbekend", "123456", "link_code", "code klopt niet"),
    ]:
        with pytest.raises(ValidationError) as refused:
            customer_login_account_link_check(
                actor=balie, customer=tester, username=username, code=code
            )
        assert message in refused.value.message_dict[field][0]
    # Linking without the check first: the library's part is saved, the KB refuses the link
    # after the commit, and staff see why (the counter always checks first).
    call = customer_login_account_link(actor=balie, customer=tester, username="onbekend", code="1")
    call.refresh_from_db()
    assert call.state == "refused" and "code klopt niet" in call.last_error
    assert "code" not in call.payload  # the code is not kept
    tester.refresh_from_db()
    assert tester.login_account_id is None


def test_a_customer_without_membership_gets_no_account(balie: User, branch_5280) -> None:  # type: ignore[no-untyped-def]
    customer = Customer.objects.create(
        library=balie.library,
        number="99999999",
        initials="A.",
        surname="Zonder",
        birth_date="1980-01-01",
        email="a@example.nl",
        registered_branch=branch_5280,
    )
    with pytest.raises(ValidationError, match="geen abonnement"):
        customer_login_account_generate(actor=balie, customer=customer)
