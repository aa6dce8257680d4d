"""The Financieel pages cost a fixed number of queries, however many customers, payments or
periods they show: one set-based query for the open amounts (and one for their totals), two for
the kasopmaak, a page of runs or periods by the paginator."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from bieb.core.dates import local_today
from bieb.customers.ledger import ledger_payment_book, ledger_storno
from bieb.customers.models import PaymentMethod, RenewalRun
from bieb.customers.renewals import renewals_run
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.counter.test_queries import queries
from tests.customers.test_reports import member

pytestmark = pytest.mark.django_db

# The budget of a page: the session and staff user, the desk, the permission check, the page's
# own queries. A page that loops per row fails this long before it fails the equality.
BUDGET = 10


@pytest.fixture
def manager_client(client: Client, demo: None) -> Client:
    client.force_login(User.objects.get(username="manager"))
    return client


def customers(balie: User, branch: Branch, kind: SubscriptionType, n: int, *, pay: bool) -> None:
    for i in range(n):
        customer = member(balie, branch, kind, surname=f"Klant{i}", on=local_today())
        if pay:
            line = ledger_payment_book(
                actor=balie,
                customer=customer,
                amount=Decimal("10"),
                method=PaymentMethod.PIN if i % 2 else PaymentMethod.CASH,
            )
            if i % 3 == 0:
                ledger_storno(actor=balie, line=line, reason="Verkeerd bedrag")


def test_the_open_amounts_and_the_kasopmaak_do_not_grow_with_the_rows(
    manager_client: Client,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    customers(balie, branch_5280, digital_only, 1, pay=True)
    filters = {"vestiging": "5280", "abonnement": "0141", "ouder_dan": "0"}
    few = {
        "open": queries(manager_client, "GET", "/balie/financieel/", shows="Klant0"),
        "filtered": queries(
            manager_client, "GET", "/balie/financieel/", filters, shows="Openstaande bedragen"
        ),
        "cash": queries(manager_client, "GET", "/balie/financieel/kasopmaak/", shows="Controle"),
    }
    customers(balie, branch_5280, digital_only, 12, pay=True)
    many = {
        "open": queries(manager_client, "GET", "/balie/financieel/", shows="Klant11"),
        "filtered": queries(
            manager_client, "GET", "/balie/financieel/", filters, shows="Openstaande bedragen"
        ),
        "cash": queries(manager_client, "GET", "/balie/financieel/kasopmaak/", shows="Controle"),
    }
    assert many == few
    assert max(few.values()) <= BUDGET, few


def test_the_renewal_runs_do_not_grow_with_the_runs_or_periods(
    manager_client: Client,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    bind: Library,
) -> None:
    member(balie, branch_5280, adult, surname="Eerste", on=dt.date(2024, 6, 12), paid=True)
    first = renewals_run(library=bind, day=dt.date(2025, 5, 15), started_by="test")
    few = {
        "runs": queries(manager_client, "GET", "/balie/financieel/verlengruns/", shows="test"),
        "run": queries(
            manager_client, "GET", f"/balie/financieel/verlengruns/{first.pk}/", shows="Eerste"
        ),
    }
    for i in range(8):
        member(balie, branch_5280, adult, surname=f"Later{i}", on=dt.date(2024, 7, 3), paid=True)
    second = renewals_run(library=bind, day=dt.date(2025, 6, 15), started_by="test")
    assert second.booked == 8
    for day in range(5):
        RenewalRun.objects.create(library=bind, day=dt.date(2025, 7, 1 + day), started_by="x")
    many = {
        "runs": queries(manager_client, "GET", "/balie/financieel/verlengruns/", shows="test"),
        "run": queries(
            manager_client, "GET", f"/balie/financieel/verlengruns/{second.pk}/", shows="Later7"
        ),
    }
    assert many == few
    assert max(few.values()) <= BUDGET, few
