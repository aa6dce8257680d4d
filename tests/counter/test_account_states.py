"""The counter shows a login account's state in the work instruction's words, from the one enum
the login service's interface carries (AccountState): "wacht op activering (tot …)", "actief",
"verlopen — niet geactiveerd", and the controls that go with each."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from bieb.customers.models import Customer
from bieb.kb import interface
from bieb.kb.interface import AccountState
from bieb.kb.models import LoginAccount
from bieb.kb.services import accounts_purge_expired

pytestmark = pytest.mark.django_db


def state_of(client: Client, customer: Customer) -> tuple[str, str, str]:
    """(css class, words, the page) of the account state on the customer's page."""
    page = client.get(f"/balie/klanten/{customer.number}/").content.decode()
    found = re.search(r'<span class="state (state-[a-z]+)" id="account-state">([^<]+)</span>', page)
    assert found, page
    return found.group(1), found.group(2), page


def test_each_state_in_the_instructions_words(balie_client: Client, tester: Customer) -> None:
    account = LoginAccount.objects.get(username=tester.number)
    status = interface.account_status_by_id(account_id=account.pk)
    assert status.state is AccountState.WAITING and status.is_waiting
    css, words, page = state_of(balie_client, tester)
    deadline = timezone.localtime(account.activation_deadline)
    assert (css, words) == ("state-wacht", f"wacht op activering tot {deadline:%d-%m-%Y %H:%M}")
    assert ">Opnieuw versturen</button>" in page
    assert "De link uit de mail is verlopen" not in page

    # The link is dead, the account not yet purged: "verlopen".
    LoginAccount.objects.filter(pk=account.pk).update(
        activation_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    assert interface.account_status_by_id(account_id=account.pk).state is AccountState.EXPIRED
    css, words, page = state_of(balie_client, tester)
    assert (css, words) == ("state-verlopen", "verlopen — niet geactiveerd")
    assert "De link uit de mail is verlopen: het inlogaccount is niet geactiveerd." in page
    assert 'class="primary" autofocus>Vergeet inlogaccount</button>' in page
    assert ">Opnieuw versturen</button>" not in page

    # Purged: still "verlopen" for staff, until they forget it.
    assert accounts_purge_expired().deleted == 1
    assert state_of(balie_client, tester)[:2] == ("state-verlopen", "verlopen — niet geactiveerd")

    # Active.
    active = LoginAccount.objects.create(
        username="actief-lid", email="lid@example.nl", origin="balie", state=AccountState.ACTIVE
    )
    Customer.objects.filter(pk=tester.pk).update(
        login_account_id=active.pk, login_account_lapsed=False
    )
    css, words, page = state_of(balie_client, tester)
    assert (css, words) == ("state-actief", "actief")
    assert "De inschrijving wordt losgekoppeld; het account zelf blijft bestaan." in page


def test_the_enum_is_the_one_list_of_states() -> None:
    assert [(s.value, s.label) for s in AccountState] == [
        ("wacht", "wacht op activering"),
        ("actief", "actief"),
        ("geblokkeerd", "geblokkeerd"),
        ("verlopen", "verlopen — niet geactiveerd"),
    ]
    # Only the first three are stored; "verlopen" is read, never written.
    field = LoginAccount._meta.get_field("state")
    assert [value for value, _ in field.choices] == ["wacht", "actief", "geblokkeerd"]
