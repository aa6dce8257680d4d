"""Fixtures of the counter tests: customers of both demo libraries, and logged-in clients."""

import html
import re
import uuid
from typing import Any

import pytest
from django.test import Client

from bieb.customers.models import Customer
from bieb.customers.services import customer_register
from bieb.customers.validators import HouseNumber
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details
from tests.oidc_live import kb_live  # noqa: F401


def hidden(response: Any, name: str) -> str:
    """The value of the hidden input `name` in a rendered page."""
    content = response.content.decode()
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', content)
    assert match, f"no hidden input {name}"
    return html.unescape(match.group(1))


def focused(response: Any) -> str:
    """The id of the element the page puts the focus on (its autofocus)."""
    content = response.content.decode()
    ids = re.findall(r"<(?:input|select|button|a)\b[^>]*\bautofocus\b[^>]*>", content)
    ids = [re.search(r'\bid="([^"]+)"', tag) for tag in ids]
    found = [m.group(1) for m in ids if m]
    # The new-customer page holds the "v" dialog's Ja as well: autofocus within a dialog
    # only counts when the dialog opens.
    found = [i for i in found if i]
    assert len(found) <= 1, found
    return found[0] if found else ""


NEW_CUSTOMER = {
    "number": "v",
    "salutation": "mw",
    "initials": "E.B.",
    "prefix": "",
    "surname": "Tester",
    "first_name": "",
    "birth_date": "04-01-1991",
    "country": "NL",
    "postcode": "9468 BG",
    "house_number": "41",
    "iban": "",
    "bic": "",
    "identity_checked": "ja",
    "identity_document": "",
    "use_login_account": "ja",
    "email": "e.b.tester@example.nl",
}


def new_customer_form(**overrides: str) -> dict[str, str]:
    data = {
        **NEW_CUSTOMER,
        "registration_key": str(uuid.uuid4()),
        "reached": "1",
        "account": "",
        "existing_username": "",
        "subscription_type": "0141",
        "tariff": "",
        "discount": "",
        "action": "next",
    }
    data.update(overrides)
    return data


def walk_to_costs(client: Client, data: dict[str, str]) -> tuple[dict[str, str], Any]:
    """Submit the new-customer form section by section, as staff do, up to the cost build-up.
    Returns the form data as it then stands and the page."""
    url = "/balie/klanten/nieuw/"
    data = dict(data)
    response = client.post(url, data)
    for _ in range(4):
        assert response.status_code == 200, response.content.decode()
        data["reached"] = hidden(response, "reached")
        if data["reached"] == "4":
            data["shown"] = hidden(response, "shown")
            return data, response
        if data["reached"] == "2" and not data["account"]:
            response = client.post(url, {**data, "choose_account": "nieuw"})
            data["account"] = "nieuw"
            continue
        response = client.post(url, data)
    raise AssertionError("the cost build-up never came")


def register_at_counter(client: Client, **overrides: str) -> Any:
    data, _ = walk_to_costs(client, new_customer_form(**overrides))
    return client.post("/balie/klanten/nieuw/", {**data, "action": "save"})


@pytest.fixture
def balie_client(client: Client, balie: User) -> Client:
    client.force_login(balie)
    return client


@pytest.fixture
def branch_6100(demo: None) -> Branch:
    return Branch.objects.get(number="6100")


@pytest.fixture
def tester(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    """The seed's customer at Bind, Digital only, with a login account waiting for activation."""
    return customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(house=HouseNumber(41)),
        subscription_type=digital_only,
    ).customer


@pytest.fixture
def oost_customer(balie_oost: User, branch_6100: Branch, oost: Library) -> Customer:
    """A customer of the other library, Digital only, with a login account."""
    subscription = SubscriptionType.objects.get(library=oost, code="0141")
    return customer_register(
        actor=balie_oost,
        branch=branch_6100,
        details=details(surname="Verhuizer", email="verhuizer@example.nl", house=HouseNumber(41)),
        subscription_type=subscription,
    ).customer
