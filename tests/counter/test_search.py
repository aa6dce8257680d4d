"""Customer search at the counter: by number, name, postcode + house number or e-mail, only
within the staff member's library; the results alone for the search-as-you-type fetch."""

import pytest
from django.test import Client

from bieb.customers.models import Customer
from bieb.customers.selectors import customer_search
from bieb.libraries.models import Library

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    ["Tester", "tester", "E.B. Tester", "9468 BG 41", "9468bg41", "9468 BG", "9468 B", "@example"],
)
def test_finds_the_customer_by_what_staff_type(
    query: str, bind: Library, tester: Customer, oost_customer: Customer
) -> None:
    found, more = customer_search(library=bind, query=query)
    assert found == [tester] and not more


def test_finds_by_customer_number_start_middle_or_whole(bind: Library, tester: Customer) -> None:
    for query in (tester.number, tester.number[:6], tester.number[-5:]):
        assert customer_search(library=bind, query=query)[0] == [tester]


def test_finds_nothing_for_too_short_or_other_librarys_customers(
    bind: Library, tester: Customer, oost_customer: Customer
) -> None:
    assert customer_search(library=bind, query="T")[0] == []
    assert customer_search(library=bind, query=oost_customer.number)[0] == []
    assert customer_search(library=bind, query="Verhuizer")[0] == []
    assert customer_search(library=bind, query="9468 BG 42")[0] == []


def test_the_page_and_the_partial(balie_client: Client, tester: Customer) -> None:
    page = balie_client.get("/balie/klanten/", {"q": "Tester"})
    content = page.content.decode()
    assert 'id="id_q"' in content and "autofocus" in content
    assert 'for="id_q"' in content
    assert f'href="/balie/klanten/{tester.number}/"' in content
    partial = balie_client.get("/balie/klanten/zoeken/", {"q": "9468 BG 41"}).content.decode()
    assert "<html" not in partial and tester.number in partial
    empty = balie_client.get("/balie/klanten/zoeken/", {"q": "Niemand"}).content.decode()
    assert "Geen klant gevonden bij Bibliotheken Bind" in empty
