"""The login service's own page for the member (/kb/): the linked memberships with their state in
Dutch, and the library's payment link when paying gives the rights (back)."""

import datetime as dt

import pytest
from django.test import Client

from bieb.kb.models import LinkedMembership
from tests.signup.factories import PASSWORD, active_account

pytestmark = pytest.mark.django_db


def linked(account, number: str, state: str, valid_through: dt.date | None, pay_url: str = ""):  # type: ignore[no-untyped-def]
    return LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number=number,
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=valid_through,
        state=state,
        pay_url=pay_url,
    )


def test_the_memberships_show_their_state_and_how_to_pay(client: Client) -> None:
    account = active_account("e.b.tester")
    pay = "http://testserver/betalen/verlengen/abc/"
    linked(account, "25280000000017", "wacht_op_betaling", None, pay)
    linked(account, "25280000000025", "actief", dt.date(2026, 5, 31))
    linked(account, "25280000000033", "beeindigd", dt.date(2025, 5, 31), pay)
    linked(account, "25280000000041", "opgezegd", dt.date(2025, 5, 31))
    assert client.post("/kb/inloggen/", {"username": "e.b.tester", "password": PASSWORD})
    html = client.get("/kb/").content.decode()
    assert (
        f'(25280000000017), wacht op betaling: <a href="{pay}">betalen</a> (of aan de balie)'
        in (html)
    )
    assert "(25280000000025), geldig t/m 31-05-2026</li>" in html
    assert (
        f'(25280000000033), geldig t/m 31-05-2025, niet verlengd: <a href="{pay}">'
        "verlengen en betalen</a>" in html
    )
    assert "(25280000000041), geldig t/m 31-05-2025, opgezegd</li>" in html
