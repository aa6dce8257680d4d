"""Fixtures of Mijn bibliotheek: members with a login account and a customer at Bind (and one
at Oost too), signed in through the test client's session or, live, through the KB."""

from collections.abc import Iterator

import pytest

from bieb.customers.models import Customer
from bieb.kb.clients import mijn_client_register
from bieb.kb.models import LoginAccount
from bieb.libraries.models import Branch, Library, SubscriptionType
from tests.mijn.factories import member_customer
from tests.oidc_live import kb_live  # noqa: F401
from tests.signup.factories import active_account


@pytest.fixture
def mijn_live(kb_live: str) -> Iterator[str]:  # noqa: F811
    """The live server with the login service, and Mijn bibliotheek registered as its client."""
    mijn_client_register()
    yield kb_live


@pytest.fixture
def account(demo: None) -> LoginAccount:
    return active_account("e.b.tester")


@pytest.fixture
def member(account: LoginAccount, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    """E.B. Tester, Digital only at Bind, signed up online: € 42,00 still to pay."""
    return member_customer(account, branch=branch_5280, subscription_type=digital_only)


@pytest.fixture
def oost_member(account: LoginAccount, oost: Library) -> Customer:
    """The same login account, a customer of Oost as well (another number, another address)."""
    branch = oost.branches.order_by("number").first()
    assert branch is not None
    return member_customer(
        account,
        branch=branch,
        subscription_type=SubscriptionType.objects.get(library=oost, code="0141"),
        surname="Oosterling",
        postcode="1011AB",
        email="oost@example.nl",
    )


@pytest.fixture
def other_member(demo: None, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    """Another member of Bind, with an account of their own."""
    return member_customer(
        active_account("ander.lid"),
        branch=branch_5280,
        subscription_type=digital_only,
        surname="Anderlid",
        postcode="9468AA",
        email="ander@example.nl",
    )
