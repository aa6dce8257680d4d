"""The library side refers to a login account by its stable id (the OIDC `sub`), never by a
username that the purge can free and a stranger can take again."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from bieb.customers.models import Customer
from bieb.kb.models import AccountOrigin, AccountState, LinkedMembership, LoginAccount
from bieb.kb.oidc import memberships_claim
from bieb.kb.services import account_create, accounts_purge_expired
from tests.online.test_entitlements import TOKEN

pytestmark = pytest.mark.django_db


def test_a_purged_username_taken_again_gives_the_stranger_nothing_of_the_customer(
    balie_client: Client, tester: Customer, settings: object
) -> None:
    settings.BIEB_ENTITLEMENTS_TOKEN = TOKEN  # type: ignore[attr-defined]
    number = tester.number
    LoginAccount.objects.filter(username=number).update(
        activation_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    assert accounts_purge_expired().deleted == 1
    # The same name again, by whatever way (a legacy import, an old account): a stranger's.
    stranger = account_create(
        username=number, email="vreemde@example.nl", origin=AccountOrigin.COUNTER, actor="t"
    )
    LinkedMembership.objects.filter(account=stranger).delete()
    LoginAccount.objects.filter(pk=stranger.pk).update(
        state=AccountState.ACTIVE, activated_at=timezone.now(), activation_deadline=None
    )
    stranger.refresh_from_db()

    page = balie_client.get(f"/balie/klanten/{number}/").content.decode()
    assert 'id="account-state">verlopen — niet geactiveerd<' in page
    assert "vreemde@example.nl" not in page

    answer = balie_client.get(
        f"/online/api/entitlements/{number}/", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()
    assert answer["ebooks"] is False and answer["memberships"] == []
    assert memberships_claim(stranger) == []


def test_the_purge_clears_the_customers_reference_in_its_own_transaction(
    tester: Customer,
) -> None:
    account = LoginAccount.objects.get(username=tester.number)
    assert Customer.objects.get(pk=tester.pk).login_account_id == account.pk
    LoginAccount.objects.filter(pk=account.pk).update(
        activation_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    assert accounts_purge_expired().deleted == 1
    customer = Customer.objects.get(pk=tester.pk)
    assert customer.login_account_id is None and customer.login_account_lapsed


def test_a_purge_that_rolls_back_keeps_the_customers_reference(tester: Customer) -> None:
    account = LoginAccount.objects.get(username=tester.number)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        from django.db import transaction

        with pytest.raises(RuntimeError), transaction.atomic():
            accounts_purge_expired()
            raise RuntimeError("rolled back")
    assert Customer.objects.get(pk=tester.pk).login_account_id == account.pk
    assert LoginAccount.objects.filter(pk=account.pk).exists()


# --- usernames a counter hands out ----------------------------------------------------------


def test_a_self_chosen_username_needs_a_letter_so_customer_numbers_stay_the_counters(
    client: Client, tester: Customer
) -> None:
    """Customer numbers are predictable; a name of digits only is the counter's to give."""
    next_number = tester.number[:-1]  # any digits-only name, e.g. a coming customer number
    for name in [next_number, tester.number + "-2", "2528-0000-0000"]:
        page = client.post("/kb/aanmelden/", {"username": name, "email": "snel@example.nl"})
        assert page.status_code == 200
        assert "minstens één letter" in page.content.decode()
    assert not LoginAccount.objects.filter(email="snel@example.nl").exists()
    done = client.post("/kb/aanmelden/", {"username": "lezer2026", "email": "snel@example.nl"})
    assert LoginAccount.objects.filter(username="lezer2026").exists(), done.content.decode()


def test_a_taken_customer_number_never_stops_a_counter_registration(
    balie_client: Client, tester: Customer
) -> None:
    """A legacy account may have the next numbers already: the counter still registers, and
    the account gets a free name of the same shape, shown in the success dialog."""
    from bieb.customers.models import CustomerNumberSequence
    from bieb.customers.numbers import compose_number

    library = tester.library
    last = CustomerNumberSequence.objects.get(library=library).last_value
    coming = [
        compose_number(
            prefix=library.customer_number_prefix,
            sequence=last + i,
            length=library.customer_number_length,
        )
        for i in (1, 2)
    ]
    for name in [coming[0], coming[0] + "-2", coming[1]]:
        LoginAccount.objects.create(
            username=name,
            email="oud@example.nl",
            origin=AccountOrigin.COUNTER,
            state=AccountState.ACTIVE,
            activated_at=timezone.now(),
        )
    from tests.counter.conftest import register_at_counter

    for surname, username in [("Eerste", coming[0] + "-3"), ("Tweede", coming[1] + "-2")]:
        response = register_at_counter(balie_client, surname=surname)
        assert response.status_code == 302, response.content.decode()
        page = balie_client.get(response["Location"]).content.decode()
        assert "Genereren van inlogaccount gelukt" in page
        assert f'<dd class="mono">{username}</dd>' in page
        customer = Customer.objects.get(surname=surname)
        account = LoginAccount.objects.get(username=username)
        assert customer.login_account_id == account.pk
        assert account.email == "e.b.tester@example.nl"
