"""The login service keeps a copy of each library's name and contact details (for the Online
Bibliotheek, which reads no library table): a change in the library reaches it at once."""

import pytest

from bieb.demo.loader import demo_load
from bieb.kb.models import LibraryContact
from bieb.libraries.models import Library
from tests.kb_outbox import kb_calls_flush

pytestmark = pytest.mark.django_db


def copy(code: str) -> tuple[str, ...]:
    c = LibraryContact.objects.get(library_code=code)
    return (c.name, c.contact_address, c.contact_phone, c.contact_email, c.website)


def test_a_new_library_and_each_change_reach_the_login_service() -> None:
    library = Library.objects.create(
        code="west", name="Bibliotheek West", customer_number_prefix="27000"
    )
    kb_calls_flush()  # saved (committed): the KB is told after the commit
    assert copy("west") == ("Bibliotheek West", "", "", "", "")
    library.contact_phone = "010 123 45 67"
    library.website = "https://www.west.example/"
    library.save()
    kb_calls_flush()
    assert copy("west") == (
        "Bibliotheek West",
        "",
        "010 123 45 67",
        "",
        "https://www.west.example/",
    )
    assert LibraryContact.objects.get(library_code="west").contact_tel == "tel:0101234567"
    assert LibraryContact.objects.get(library_code="west").contact_lines == [
        "Bibliotheek West",
        "010 123 45 67",
        "https://www.west.example/",
    ]


def test_the_demo_libraries_are_known_to_the_login_service(demo: None) -> None:
    assert copy("bind") == (
        "Bibliotheken Bind",
        "Stationsstraat 1, 9401 KX Assen",
        "0592 123 456",
        "info@bind.example",
        "https://www.bind.example/",
    )
    LibraryContact.objects.all().delete()  # a database from before the copy existed
    demo_load()
    assert LibraryContact.objects.count() == 2
