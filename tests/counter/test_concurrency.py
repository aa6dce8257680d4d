"""Two submits of the same form at the same moment (a double click that got through, two
tabs), served by two connections at once: PostgreSQL only, where that really happens."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.concurrency import at_once
from tests.counter.conftest import new_customer_form, walk_to_costs
from tests.customers.factories import details

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_oks_at_once_register_one_customer(balie: User) -> None:
    first, second = Client(), Client()
    first.force_login(balie)
    second.force_login(balie)
    data, _ = walk_to_costs(first, new_customer_form())
    save = {**data, "action": "save"}
    responses = at_once(
        [
            lambda: first.post("/balie/klanten/nieuw/", save),
            lambda: second.post("/balie/klanten/nieuw/", save),
        ]
    )
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
    assert Customer.objects.count() == 1


def test_two_payments_of_one_form_at_once_book_once(balie: User, tester: Customer) -> None:
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(balie)
    data = {"once": "8d0b8f1e-2f55-4d7c-9a55-8a5d1a0b6c01", "amount": "42,00", "method": "pin"}
    url = f"/balie/klanten/{tester.number}/betaling/"
    responses = at_once([lambda c=c: c.post(url, data) for c in clients])
    assert [r.status_code for r in responses] == [302, 302]
    assert LedgerLine.objects.filter(customer=tester, kind=LedgerKind.PAYMENT).count() == 1


def test_two_registrations_with_one_new_card_at_once_answer_in_dutch(
    balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """Two desks scan the same new card for two customers at once: one is registered, the
    other hears that the card number is taken (not a server error)."""

    def register(surname: str) -> object:
        try:
            return customer_register(
                actor=balie,
                branch=branch_5280,
                details=details(surname=surname, email=f"{surname}@example.nl"),
                subscription_type=adult,
                card_number="2001234567890",
            ).customer.number
        except ValidationError as error:
            return error.message_dict

    results = at_once([lambda: register("Eerste"), lambda: register("Tweede")])
    assert sorted(map(str, results)) == sorted(
        [
            "2001234567890",
            str(
                {
                    "number": [
                        "Dit pasnummer is al in gebruik; scan een nieuwe pas of laat een nummer "
                        "genereren."
                    ]
                }
            ),
        ]
    ), results
    assert Customer.objects.count() == 1
