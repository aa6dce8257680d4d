"""/balie/financieel/incasso/, "Openstaande bedragen incasseren": the list with its amounts
and collection date, paged; choosing some or all, once also on a double POST (and on
PostgreSQL at the same moment); a refused choice in Dutch; another library's customer never
planned."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from bieb.customers.models import Customer
from bieb.customers.year import customer_saldo_of
from bieb.debits.models import Debit, DebitState, MandateKind
from bieb.debits.services import mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.concurrency import at_once
from tests.counter.test_incasso import PAGE, desk, flash, text
from tests.customers.year import member, on

pytestmark = pytest.mark.django_db

D = dt.date
PLAN = f"{PAGE}openstaand/"
DAY = D(2026, 6, 10)  # + 14 days: 24 June, so the 1 July collection day


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


def unpaid_with_mandate(
    balie: User, branch: Branch, subscription: SubscriptionType, surname: str
) -> Customer:
    customer = member(balie, branch, subscription, D(2026, 6, 1), pay=False, surname=surname)
    with on(D(2026, 6, 1)):
        mandate_create(
            library=branch.library,
            customer=customer.customer,
            iban="NL91ABNA0417164300",
            holder_name=f"E.B. {surname}",
            signed_on=D(2026, 6, 1),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    return customer.customer


@pytest.fixture
def open_customers(balie: User, branch_5280: Branch, adult: SubscriptionType) -> list[Customer]:
    return [
        unpaid_with_mandate(balie, branch_5280, adult, surname)
        for surname in ("Aap", "Beer", "Cavia")
    ]


def choice(customer: Customer) -> str:
    return f"{customer.pk}:{customer_saldo_of(customer.pk):.2f}"


def section(page: str) -> str:
    found = re.search(r'<h2 id="h-open-debits">.*?<h2 id="h-totals">', page, re.S)
    assert found, page
    return found.group(0)


def test_the_list_shows_each_customer_with_the_amount_and_the_date(
    open_customers: list[Customer], manager: User
) -> None:
    saldo = customer_saldo_of(open_customers[0].pk)
    euro = f"€ {saldo:.2f}".replace(".", ",")
    total = f"€ {3 * saldo:.2f}".replace(".", ",")
    with desk(manager, DAY) as client:
        response = client.get(PAGE)
    assert response.status_code == 200
    part = section(text(response))
    assert "3 klanten met een actieve machtiging hebben een openstaand saldo" in part
    assert f"samen <strong>{total}</strong>" in part
    assert "de incassodatum wordt 01-07-2026" in part
    for customer in open_customers:
        assert f'value="{choice(customer)}"' in part
        assert f'href="/balie/klanten/{customer.number}/"' in part
        assert f"{customer.number}-1" in part  # the mandate reference
    assert part.count(f'<td class="amount">{euro}</td>') == 6  # saldo and amount, each row
    assert f">Alles incasseren (3 klanten, {total})</button>" in part
    assert 'data-confirm="De openstaande bedragen van alle 3 klanten' in part


def test_the_list_is_paged(
    open_customers: list[Customer], manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bieb.counter import incasso

    monkeypatch.setattr(incasso, "OPEN_PER_PAGE", 2)
    first, second, third = sorted(open_customers, key=lambda c: c.number)
    with desk(manager, DAY) as client:
        one = section(text(client.get(PAGE)))
        two = section(text(client.get(f"{PAGE}?openstaand=2")))
        beyond = section(text(client.get(f"{PAGE}?openstaand=9&pagina=1")))
    assert choice(first) in one and choice(second) in one and choice(third) not in one
    assert "Klanten 1\u20132 van 3 (pagina 1 van 2)" in one  # an en dash, as the page has
    assert f'<a href="{PAGE}?openstaand=2#h-open-debits">Volgende</a>' in one
    assert choice(third) in two and choice(first) not in two
    assert f'<a href="{PAGE}#h-open-debits">Vorige</a>' in two
    assert choice(third) in beyond  # past the end: the last page
    assert f'<a href="{PAGE}?pagina=1#h-open-debits">Vorige</a>' in beyond


def test_the_chosen_are_planned_once_also_on_a_double_post(
    open_customers: list[Customer], manager: User
) -> None:
    aap, beer, cavia = open_customers
    saldo = customer_saldo_of(aap.pk)
    data = {"klant": [choice(aap), choice(beer)], "openstaand": "1"}
    with desk(manager, DAY) as client:
        first = client.post(PLAN, data, follow=True)
        second = client.post(PLAN, data, follow=True)
    total = f"€ {2 * saldo:.2f}".replace(".", ",")
    assert flash(first) == [
        f"2 incasso's gepland op 01-07-2026, samen {total}. De klanten krijgen een "
        "vooraankondiging per e-mail. Maak de bestanden vóór de incassodatum."
    ]
    assert flash(second) == [
        "Er is niets gepland: de gekozen bedragen worden al geïncasseerd of zijn veranderd. "
        "Bekijk de lijst opnieuw."
    ]
    planned = Debit.objects.filter(period__isnull=True)
    assert sorted(planned.values_list("customer_id", flat=True)) == sorted([aap.pk, beer.pk])
    assert set(planned.values_list("state", flat=True)) == {DebitState.PLANNED}
    page = text(second)
    assert choice(cavia) in section(page) and choice(aap) not in section(page)
    planned_table = re.search(r'<table class="planned".*?</table>', page, re.S)
    assert planned_table and "01-07-2026" in planned_table.group(0)


def test_all_is_planned_when_the_list_is_as_confirmed(
    open_customers: list[Customer], manager: User
) -> None:
    total = sum((customer_saldo_of(c.pk) for c in open_customers), Decimal(0))
    with desk(manager, DAY) as client:
        changed = client.post(PLAN, {"alles": "ja", "aantal": "2", "totaal": f"{total:.2f}"})
        done = client.post(
            PLAN, {"alles": "ja", "aantal": "3", "totaal": f"{total:.2f}"}, follow=True
        )
    assert changed.status_code == 400
    assert "De lijst is veranderd sinds u hem opende: nu staan er 3 klanten open" in text(changed)
    assert "3 incasso's gepland op 01-07-2026" in flash(done)[0]
    assert Debit.objects.filter(period__isnull=True).count() == 3
    assert "Er zijn geen klanten met een actieve machtiging en een openstaand saldo" in text(done)


def test_nothing_chosen_or_an_unreadable_choice_is_refused_in_dutch(
    open_customers: list[Customer], manager: User
) -> None:
    with desk(manager, DAY) as client:
        empty = client.post(PLAN, {"openstaand": "1"})
        tampered = client.post(PLAN, {"klant": ["1:abc"], "openstaand": "1"})
        get = client.get(PLAN)
    assert empty.status_code == 400
    error = '<div class="error-box" role="alert" id="open-debits-error"><p>Kies minstens één'
    assert error in text(empty)
    assert tampered.status_code == 400
    assert "Deze keuze is niet te lezen. Kies de klanten opnieuw." in text(tampered)
    assert get.status_code == 302 and get["Location"] == PAGE
    assert not Debit.objects.exists()


def test_another_librarys_customer_is_never_planned(
    open_customers: list[Customer], manager: User, balie_oost: User, oost: Library
) -> None:
    branch = oost.branches.get()
    subscription = oost.subscription_types.filter(price__gt=0).first()
    assert subscription is not None
    stranger = member(balie_oost, branch, subscription, D(2026, 6, 1), pay=False).customer
    with desk(manager, DAY) as client:
        response = client.post(PLAN, {"klant": [f"{stranger.pk}:1.00"]}, follow=True)
    assert "Er is niets gepland" in flash(response)[0]
    assert not Debit.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_posts_at_the_same_moment_plan_once(
    balie: User, branch_5280: Branch, adult: SubscriptionType, manager: User
) -> None:
    aap = unpaid_with_mandate(balie, branch_5280, adult, "Aap")
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(manager)
    data = {"klant": [choice(aap)]}
    responses = at_once([lambda c=c: c.post(PLAN, data) for c in clients])
    assert [r.status_code for r in responses] == [302, 302]
    assert Debit.objects.filter(customer=aap).count() == 1
