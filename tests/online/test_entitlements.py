"""The entitlement endpoint other services ask (bearer token), and the access rules."""

import datetime as dt

import pytest
from django.test import Client

from bieb.core.dates import local_today
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Customer
from bieb.customers.selectors import customer_saldo
from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, SubscriptionType
from bieb.online.selectors import access_from_claims
from bieb.staff.models import User
from tests.customers.factories import details, link_code_for
from tests.signup.factories import active_account

TOKEN = "ent-" + "s3cr3t" * 8
URL = "/online/api/entitlements/{}/"


@pytest.fixture
def token(settings: object) -> str:
    settings.BIEB_ENTITLEMENTS_TOKEN = TOKEN  # type: ignore[attr-defined]
    return TOKEN


def ask(client: Client, username: str, token: str | None = TOKEN) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(URL.format(username), headers=headers)


def register(
    balie: User, branch: Branch, subscription: SubscriptionType, surname: str, *, pay: bool = True
) -> Customer:
    registration = customer_register(
        actor=balie,
        branch=branch,
        details=details(surname=surname),
        subscription_type=subscription,
        existing_username="e.b.tester",
        link_code=link_code_for("e.b.tester", library=branch.library, actor=balie),
    )
    if pay:
        pay_saldo(balie, registration.customer)
    return registration.customer


def pay_saldo(balie: User, customer: Customer) -> None:
    ledger_payment_book(
        actor=balie, customer=customer, amount=customer_saldo(customer=customer), method="pin"
    )


@pytest.mark.django_db
def test_the_endpoint_refuses_without_the_right_token(
    client: Client, token: str, demo: None
) -> None:
    for answer in [
        ask(client, "e.b.tester", token=None),
        ask(client, "e.b.tester", token="wrong"),
        client.get(URL.format("e.b.tester"), headers={"Authorization": f"Basic {TOKEN}"}),
        client.get(URL.format("e.b.tester"), QUERY_STRING=f"token={TOKEN}"),
    ]:
        assert answer.status_code == 401  # type: ignore[attr-defined]
        assert answer["WWW-Authenticate"].startswith("Bearer")  # type: ignore[index]
    assert (
        client.post(URL.format("x"), headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 405
    )


@pytest.mark.django_db
def test_no_token_configured_refuses_everything(client: Client, settings: object) -> None:
    settings.BIEB_ENTITLEMENTS_TOKEN = ""  # type: ignore[attr-defined]
    assert ask(client, "e.b.tester", token="").status_code == 401  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_digital_only_says_no_to_physical_loans(
    client: Client,
    token: str,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    adult: SubscriptionType,
) -> None:
    active_account("e.b.tester")
    customer = register(balie, branch_5280, digital_only, "Tester", pay=False)
    waiting = ask(client, "e.b.tester").json()  # type: ignore[attr-defined]
    assert (waiting["ebooks"], waiting["reason"]) == (False, "wacht_op_betaling")
    assert waiting["memberships"][0]["status"] == "wacht_op_betaling"
    pay_saldo(balie, customer)
    answer = ask(client, "E.B.Tester").json()  # type: ignore[attr-defined]
    assert answer["reason"] is None
    assert answer["username"] == "e.b.tester"
    assert (answer["ebooks"], answer["audiobooks"], answer["physical_loans"]) == (True, True, False)
    assert answer["memberships"][0]["subscription"] == "0141"
    assert answer["valid_through"] == answer["memberships"][0]["rights_through"]

    register(balie, branch_5280, adult, "Tester-Volwassen")
    answer = ask(client, "e.b.tester").json()  # type: ignore[attr-defined]
    assert (answer["ebooks"], answer["physical_loans"]) == (True, True)

    nobody = ask(client, "niemand").json()  # type: ignore[attr-defined]
    assert (nobody["ebooks"], nobody["physical_loans"], nobody["memberships"]) == (False, False, [])


def test_access_runs_through_the_valid_through_date() -> None:
    today = dt.date(2025, 5, 31)
    claim = {"library": "bind", "library_name": "Bind", "digital_rights": "compleet"}
    on_the_day = access_from_claims([{**claim, "valid_through": "2025-05-31"}], today=today)
    assert on_the_day.ebooks and on_the_day.until_label == "31-05-2025"
    after = access_from_claims(
        [{**claim, "valid_through": "2025-05-31"}], today=today + dt.timedelta(1)
    )
    assert not after.ebooks and after.reasons == [
        "Je abonnement bij Bind was geldig t/m 31-05-2025."
    ]
    both = access_from_claims(
        [{**claim, "valid_through": "2025-01-31"}, {**claim, "valid_through": "2026-05-31"}],
        today=today,
    )
    assert both.until == dt.date(2026, 5, 31)
    assert not access_from_claims([], today=local_today()).ebooks
