"""The number of SQL queries of a counter page does not grow with the data it shows: a customer
with many memberships and ledger lines costs what a customer with one of each costs, and a
search with many results what a search with one costs."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bieb.core.dates import period_valid_through
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipStatus,
    PaymentMethod,
)
from bieb.libraries.models import Branch, Discount, SubscriptionType, Tariff
from bieb.staff.models import User

pytestmark = pytest.mark.django_db


def queries(
    client: Client,
    method: str,
    path: str,
    data: dict[str, str] | None = None,
    *,
    status: int = 200,
    shows: str,
) -> int:
    """The queries of one request, after the same request once (so only the page counts).

    The page must be the one meant: its status and a text only it shows, so that a login
    redirect, a 404 or an error page (cheap, and the same with any data) never passes."""
    send = client.get if method == "GET" else client.post
    send(path, _fresh(data))
    with CaptureQueriesContext(connection) as captured:
        response = send(path, _fresh(data))
    assert response.status_code == status, response.content[:300]
    assert shows in response.content.decode()
    return len(captured.captured_queries)


def _fresh(data: dict[str, str] | None) -> dict[str, str]:
    data = dict(data or {})
    if "once" in data:
        data["once"] = str(uuid.uuid4())
    return data


def add_history(customer: Customer, staff: User, *, years: int, payments: int) -> None:
    """Earlier memberships, one a year, each with its fee, and payments at the desk."""
    library = customer.library
    types = list(SubscriptionType.objects.filter(library=library, min_age=18).order_by("code"))
    tariffs = list(Tariff.objects.filter(library=library).order_by("code"))
    discounts = [None, *Discount.objects.filter(library=library).order_by("code")]
    branch = Branch.objects.filter(library=library).order_by("number").first()
    assert branch is not None
    for year in range(years):
        start = dt.date(2010 + year, 3, 1)
        kind = types[year % len(types)]
        through = period_valid_through(start, kind.period_months)
        membership = Membership.objects.create(
            library=library,
            customer=customer,
            subscription_type=kind,
            tariff=tariffs[year % len(tariffs)],
            discount=discounts[year % len(discounts)],
            branch=branch,
            start_date=start,
            expiry_month=through.month,
            valid_through=through,
            status=MembershipStatus.ENDED,
        )
        LedgerLine.objects.create(
            library=library,
            customer=customer,
            membership=membership,
            kind=LedgerKind.FEE,
            amount=kind.price,
            description=kind.label,
            booked_by=staff,
        )
    LedgerLine.objects.bulk_create(
        LedgerLine(
            library=library,
            customer=customer,
            kind=LedgerKind.PAYMENT,
            amount=Decimal("-1.00"),
            method=PaymentMethod.PIN,
            description="Betaling aan de balie",
            booked_by=staff if i % 2 else None,
        )
        for i in range(payments)
    )


# (method, path after the customer's, status, a text only that page shows)
CUSTOMER_PAGES = [
    ("GET", "", 200, "Betaling aan de balie"),
    ("GET", "wijzigen/", 200, "Wijzig persoonsgegevens"),
    ("GET", "ingeschreven/?inlogaccount=nieuw", 200, "Genereren van inlogaccount gelukt"),
    # a refused payment shows the customer page again, with the error
    ("POST", "betaling/", 400, "Vul een bedrag in euro in"),
]


@pytest.mark.parametrize(("method", "tail", "status", "shows"), CUSTOMER_PAGES)
def test_a_customer_page_costs_the_same_queries_with_a_long_history(
    balie_client: Client,
    tester: Customer,
    balie: User,
    method: str,
    tail: str,
    status: int,
    shows: str,
) -> None:
    path = f"/balie/klanten/{tester.number}/{tail}"
    data = {"once": "", "amount": "veel", "method": "pin"} if method == "POST" else None
    few = queries(balie_client, method, path, data, status=status, shows=shows)
    add_history(tester, balie, years=12, payments=40)
    many = queries(balie_client, method, path, data, status=status, shows=shows)
    assert many == few


# What a page costs, whatever the data. The customer page: session, user, desk, customer,
# saldo, ledger, memberships, their periods (one prefetch, for each period's cost build-up),
# the staff member's permissions (two: whether to offer the finance corrections), payments to
# refund, the library's subscription types ('Wijzig abonnement'), login account, branch. It
# was 10 before the membership year (periods, permissions, subscription types: +4). The
# registration's result: +2 (periods, and the saldo for the desk payment), and +2 for the
# permission check of the top bar's Financieel link (on every counter page). The customer
# page's Machtigingen: +1 (the mandates; their history one prefetch more when there are any).
# The registration's result names the mandate made with it: +1 (at a library that collects).
# The library's calls to the KB (bieb.kboutbox): the account's own call on both, +1, and on the
# customer page the other calls staff should see (open or refused), +1. The account's state is
# read from the KB in a savepoint of its own when a transaction is open (kb_sync_call), as here
# in a test's: +2 (SAVEPOINT, RELEASE); a request in production reads it in autocommit.
EXPECTED = {"": 19, "ingeschreven/?inlogaccount=nieuw": 14}


@pytest.mark.parametrize(("tail", "expected"), EXPECTED.items())
def test_what_a_customer_page_costs(
    balie_client: Client, tester: Customer, tail: str, expected: int
) -> None:
    path = f"/balie/klanten/{tester.number}/{tail}"
    shows = "Betaling boeken"
    assert queries(balie_client, "GET", path, shows=shows) == expected


def test_the_long_history_is_all_on_the_page(
    balie_client: Client, tester: Customer, balie: User
) -> None:
    add_history(tester, balie, years=12, payments=40)
    page = balie_client.get(f"/balie/klanten/{tester.number}/").content.decode()
    assert page.count('class="membership"') == 13
    assert page.count("Opbouw abonnementskosten") == 13  # each with its build-up
    assert page.count("Betaling aan de balie") == 40 + 1  # the lines and the form's heading
    # who booked, where known: the registration's fee, the 12 fees, every other payment
    assert page.count(f'<td class="by">{balie.username}</td>') == 1 + 12 + 20


def test_a_search_costs_the_same_queries_for_one_result_as_for_many(
    balie_client: Client, tester: Customer
) -> None:
    path = "/balie/klanten/zoeken/"
    one = queries(balie_client, "GET", path, {"q": "Tester"}, shows=tester.number)
    for i in range(30):
        Customer.objects.create(
            library=tester.library,
            number=f"2528099{i:07d}",
            initials="A.",
            surname="Tester",
            birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=i),
            postcode="9468BG",
            house_number=i + 1,
            registered_branch=tester.registered_branch,
            uses_login_account=False,
        )
    many = queries(balie_client, "GET", path, {"q": "Tester"}, shows="Meer dan 25 klanten gevonden")
    assert many == one
