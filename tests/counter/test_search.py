"""Customer search at the counter: by number, name, postcode + house number or e-mail, only
within the staff member's library; the results alone for the search-as-you-type fetch.

Every kind of search reads the start of what is stored (so an index serves it at millions of
customers): a number's start, not a part in the middle; an e-mail address's start, not its
domain alone."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bieb.customers.models import Customer
from bieb.customers.selectors import customer_search
from bieb.libraries.models import Branch, Library

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def numbers(library: Library, query: str, **kwargs: int) -> list[str]:
    found, _ = customer_search(library=library, query=query, **kwargs)
    return [c.number for c in found]


def add(library: Library, **values: object) -> Customer:
    """A customer as the counter stores one (prefix apart, lower case; postcode `9468BG`)."""
    fields: dict[str, object] = {
        "initials": "A.",
        "surname": "Jansen",
        "birth_date": dt.date(1980, 5, 17),
        "postcode": "1234AB",
        "house_number": 1,
        "number": f"9{next(_numbers):013d}",
        "registered_branch": Branch.objects.filter(library=library).first(),
    }
    fields.update(values)
    return Customer.objects.create(library=library, **fields)


@pytest.mark.parametrize(
    "query",
    [
        "Tester",
        "tester",
        "tes",
        "E.B. Tester",
        "e.b. tester",
        "Tester E.B.",
        "tester e",
        "Tester, E.B.",
        "9468 BG 41",
        "9468bg41",
        "9468 BG",
        "9468 B",
        "e.b.tester@example.nl",
        "E.B.Tester@Example.NL",
        "e.b.tester@",
    ],
)
def test_finds_the_customer_by_what_staff_type(
    query: str, bind: Library, tester: Customer, oost_customer: Customer
) -> None:
    found, more = customer_search(library=bind, query=query)
    assert [c.number for c in found] == [tester.number] and not more


def test_finds_by_customer_number_whole_or_its_start(bind: Library, tester: Customer) -> None:
    number = tester.number
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    for query in (number, number[:6], number[:10], spaced):
        assert numbers(bind, query) == [number], query
    # A part from the middle or the end is no customer number anyone types.
    assert numbers(bind, number[-5:]) == []


def test_a_result_shows_what_the_list_needs(bind: Library, tester: Customer) -> None:
    (row,), _ = customer_search(library=bind, query=tester.number)
    assert row.display_name == "Mw. E.B. Tester"
    assert row.birth_date == dt.date(1991, 1, 4)
    assert f"{row.postcode_display} {row.house}" == "9468 BG 41"
    assert row.email == "e.b.tester@example.nl"


def test_names_with_a_prefix_as_staff_type_them(bind: Library) -> None:
    de_jong = add(bind, prefix="de", surname="Jong", initials="P.")
    de_jonge = add(bind, prefix="de", surname="Jonge", initials="K.")
    jong = add(bind, surname="Jong", initials="M.")
    berg = add(bind, prefix="van der", surname="Berg", initials="E.B.")
    van_den_berg = add(bind, prefix="van den", surname="Berg", initials="J.")
    assert numbers(bind, "de jong") == [de_jong.number, de_jonge.number]
    assert numbers(bind, "De Jong") == [de_jong.number, de_jonge.number]
    assert numbers(bind, "Jong, de") == [de_jong.number, de_jonge.number]
    assert numbers(bind, "de jong p") == [de_jong.number]
    # the surname alone finds them with and without a prefix, listed by surname, initials
    assert numbers(bind, "jong") == [jong.number, de_jong.number, de_jonge.number]
    assert numbers(bind, "berg") == [berg.number, van_den_berg.number]
    assert numbers(bind, "van der berg") == [berg.number]
    assert numbers(bind, "Berg, van der") == [berg.number]
    assert numbers(bind, "van der Berg, E.B.") == [berg.number]
    assert numbers(bind, "van der b") == [berg.number]  # still typing
    assert numbers(bind, "van de") == [berg.number, van_den_berg.number]  # prefix alone
    assert numbers(bind, "j van den berg") == [van_den_berg.number]


def test_a_first_name_or_its_initial(bind: Library) -> None:
    piet = add(bind, initials="P.J.", first_name="Piet")
    no_first_name = add(bind, initials="P.")
    add(bind, initials="K.", first_name="Karel")
    paul = add(bind, initials="P.", first_name="Paul")
    assert numbers(bind, "piet jansen") == [no_first_name.number, piet.number]
    assert numbers(bind, "Jansen Piet") == [no_first_name.number, piet.number]  # either order
    assert numbers(bind, "p jansen") == [no_first_name.number, paul.number, piet.number]


def test_a_surname_of_several_words(bind: Library) -> None:
    double = add(bind, surname="Jansen-de Vries")
    # entered before the prefix had a field of its own
    prefix_in_surname = add(bind, surname="De Vries")
    assert numbers(bind, "jansen-de vries") == [double.number]
    assert numbers(bind, "de vries") == [prefix_in_surname.number]


def test_a_surname_with_a_letter_beyond_ascii(bind: Library) -> None:
    ozturk = add(bind, surname="Öztürk")
    assert numbers(bind, "Öztürk") == [ozturk.number]
    assert numbers(bind, "Özt") == [ozturk.number]
    assert numbers(bind, "ÖZTÜRK") == ([ozturk.number] if connection.vendor != "sqlite" else [])


def test_lists_the_first_and_says_there_are_more(bind: Library) -> None:
    made = [add(bind, surname="Visser", initials=f"{letter}.") for letter in "CAB"]
    by_initials = [made[1].number, made[2].number, made[0].number]
    found, more = customer_search(library=bind, query="visser", limit=2)
    assert [c.number for c in found] == by_initials[:2] and more
    assert numbers(bind, "visser", limit=3) == by_initials


def test_postcode_search_lists_by_address(bind: Library) -> None:
    second = add(bind, postcode="9468BH", house_number=2, surname="Aalders")
    first = add(bind, postcode="9468BG", house_number=7, surname="Zwart")
    assert numbers(bind, "9468 B") == [first.number, second.number]
    assert numbers(bind, "9468 bh 2") == [second.number]


def test_finds_a_part_of_an_e_mail_address(
    bind: Library, tester: Customer, oost_customer: Customer
) -> None:
    """ "example" found nothing: staff type a part of an address they half remember."""
    other = add(bind, surname="Anders", email="post@anders.nl")
    for query in ("example", "Example.NL", "b.tester", "tester@example", "@example.nl"):
        assert numbers(bind, query) == [tester.number], query
    assert numbers(bind, "anders.n") == [other.number]
    assert numbers(bind, "verhuizer") == []  # another library's customer
    # names first: a surname that is also in an address finds the name
    add(bind, surname="Example")
    assert [c.surname for c in customer_search(library=bind, query="example")[0]] == ["Example"]
    # two letters are the start of something, not a part of every address
    assert numbers(bind, "xa") == []


def test_search_text_is_not_a_pattern(bind: Library) -> None:
    add(bind, email="jan_jansen@example.nl")
    other = add(bind, email="janXjansen@example.nl")
    assert numbers(bind, "jan_jansen@") != [other.number]
    assert len(numbers(bind, "jan_jansen@")) == 1
    assert numbers(bind, "jan%@") == []


def test_finds_nothing_for_too_short_or_other_librarys_customers(
    bind: Library, tester: Customer, oost_customer: Customer
) -> None:
    assert customer_search(library=bind, query="T")[0] == []
    for query in (
        oost_customer.number,
        oost_customer.number[:8],
        "Verhuizer",
        "verhuizer@example.nl",
        "9468 BG 42",
    ):
        assert numbers(bind, query) == [], query


def test_one_query_a_search(bind: Library, tester: Customer) -> None:
    for query in ("Tester", tester.number, "9468 BG 41", "e.b.tester@"):
        with CaptureQueriesContext(connection) as queries:
            found, _ = customer_search(library=bind, query=query)
        assert len(queries) == 1, query
        assert [c.number for c in found] == [tester.number], query  # the one query that finds


@pytest.mark.postgres
def test_every_kind_of_search_can_use_its_index(bind: Library, tester: Customer) -> None:
    """If the query and the index drift apart, PostgreSQL reads the whole library at 4 million
    customers. With a few thousand customers and sequential scans priced out, the plan shows
    the search's condition served by the index."""
    branch = Branch.objects.filter(library=bind).first()
    Customer.objects.bulk_create(
        Customer(
            library=bind,
            number=f"8{i:013d}",
            initials="A.",
            surname=f"Naam{i}",
            birth_date=dt.date(1980, 1, 1),
            postcode=f"{1000 + i % 900}AB",
            house_number=i % 50 + 1,
            email=f"klant{i}@example.nl",
            registered_branch=branch,
        )
        for i in range(3000)
    )
    # the index, and whether it also gives the order (no sorting of every match)
    expected = {
        tester.number[:8]: ("customer_search_number", True),
        "de tes": ("customer_search_name", True),
        "9468 BG 41": ("customer_address", False),
        "9468 B": ("customer_address", False),
        # an address's matches are few (its whole local part is typed): sorting them is fine
        "e.b.tester@": ("customer_search_email", False),
        # a part of an address: the trigram index (GIN), library and part in one condition
        "b.tester": ("customer_search_email_part", False),
    }
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
        # what autovacuum does after a bulk insert: move the new rows out of the GIN index's
        # pending list (read row by row, which the planner rightly prices high)
        cursor.execute("SELECT gin_clean_pending_list('customer_search_email_part')")
        cursor.execute("SET LOCAL enable_seqscan = off")
    for query, (index, ordered) in expected.items():
        with CaptureQueriesContext(connection) as queries:
            customer_search(library=bind, query=query)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + queries[-1]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert re.search(rf"(Index Scan using|Bitmap Index Scan on) {index}\b", plan), plan
        if index == "customer_search_email_part":
            # the typed part is looked up in the index, not filtered row by row (with one
            # library in the table the planner leaves the library to the row check)
            assert re.search(r"Index Cond: .*lower\(\(email\)::text\) ~~ '%b\.tester%'", plan)
            continue
        # the index narrows by what was typed, not by the library alone
        assert re.search(r"Index Cond: \(\(library_id = \d+\) AND ", plan), plan
        if ordered:  # at most ties sorted (Incremental Sort)
            assert "->  Sort " not in plan, plan


def test_the_page_and_the_partial(balie_client: Client, tester: Customer) -> None:
    page = balie_client.get("/balie/klanten/", {"q": "Tester"})
    content = page.content.decode()
    assert 'id="id_q"' in content and "autofocus" in content
    assert 'for="id_q"' in content
    assert f'href="/balie/klanten/{tester.number}/"' in content
    assert "Mw. E.B. Tester" in content and "04-01-1991" in content and "9468 BG 41" in content
    partial = balie_client.get("/balie/klanten/zoeken/", {"q": "9468 BG 41"}).content.decode()
    assert "<html" not in partial and tester.number in partial
    empty = balie_client.get("/balie/klanten/zoeken/", {"q": "Niemand"}).content.decode()
    assert "Geen klant gevonden bij Bibliotheken Bind" in empty
