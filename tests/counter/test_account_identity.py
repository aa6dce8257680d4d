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
