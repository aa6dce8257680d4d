"""'Betaling aan de balie' on the customer page: the amount as staff type it (core.money's one
parser: ASCII digits, Dutch notation, a maximum), and a second step before taking more than
the open saldo. Nothing typed is lost on an error or on "Nee"."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from bieb.customers.models import Customer, LedgerKind, LedgerLine
from bieb.customers.selectors import customer_saldo
from bieb.payments.models import Payment
from bieb.payments.services import payment_desk_receive
from bieb.staff.models import User
from tests.counter.conftest import focused

pytestmark = pytest.mark.django_db


def url(customer: Customer, tail: str = "") -> str:
    return f"/balie/klanten/{customer.number}/{tail}"


def once(page: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', page)
    assert match
    return match.group(1)


def pay(client: Client, customer: Customer, amount: str, **extra: str) -> tuple[str, object]:
    page = client.get(url(customer)).content.decode()
    data = {"once": once(page), "amount": amount, "method": "contant", **extra}
    return data["once"], client.post(url(customer, "betaling/"), data)


def payments(customer: Customer) -> list[Decimal]:
    lines = LedgerLine.objects.filter(customer=customer, kind=LedgerKind.PAYMENT)
    return [-line.amount for line in lines.order_by("id")]


@pytest.mark.parametrize(
    "typed", ["\u0663\u0664", "\uff11\uff12\uff13", "\u0969\u096a", "\u0664\u0662,\u0660\u0660"]
)
def test_digits_beyond_ascii_are_no_amount(
    balie_client: Client, tester: Customer, typed: str
) -> None:
    _, response = pay(balie_client, tester, typed)
    assert response.status_code == 400  # type: ignore[attr-defined]
    content = response.content.decode()  # type: ignore[attr-defined]
    assert "cijfers 0 tot en met 9" in content
    assert f'value="{typed}"' in content  # kept as typed
    assert focused(response) == "id_amount"
    assert payments(tester) == []


@pytest.mark.parametrize("typed", ["€ 999.999,99", "1.000,01", "5000"])
def test_a_desk_payment_has_a_maximum(balie_client: Client, tester: Customer, typed: str) -> None:
    _, response = pay(balie_client, tester, typed, confirm_overpayment="ja")
    assert response.status_code == 400  # type: ignore[attr-defined]
    content = response.content.decode()  # type: ignore[attr-defined]
    assert "Het bedrag is te hoog: hoogstens € 1.000,00." in content
    assert payments(tester) == []


@override_settings(BIEB_DESK_PAYMENT_MAXIMUM=Decimal("20.00"))
def test_the_maximum_is_configurable(balie_client: Client, tester: Customer) -> None:
    _, response = pay(balie_client, tester, "20,01")
    assert "hoogstens € 20,00" in response.content.decode()  # type: ignore[attr-defined]
    _, response = pay(balie_client, tester, "20,00")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert payments(tester) == [Decimal("20.00")]


def test_dutch_notation_with_thousands_is_an_amount(balie_client: Client, tester: Customer) -> None:
    _, response = pay(balie_client, tester, "€ 1.000,00", confirm_overpayment="ja")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert payments(tester) == [Decimal("1000.00")]


def test_more_than_the_saldo_asks_first_and_keeps_what_was_typed(
    balie_client: Client, tester: Customer
) -> None:
    assert customer_saldo(customer=tester) == Decimal("42.00")
    key, response = pay(balie_client, tester, "50")
    assert response.status_code == 200  # type: ignore[attr-defined]
    content = response.content.decode()  # type: ignore[attr-defined]
    assert "Meer dan het saldo (€ 42,00): toch € 50,00 boeken?" in content
    assert payments(tester) == []
    # the question's Nee has the focus; the form behind it still holds what was typed
    assert focused(response) == "id_overpayment_nee"
    assert 'name="amount" id="id_amount" value="50"' in content
    assert 'value="contant" checked' in content
    # Ja sends the same form again, with the same one-time key, confirmed
    confirm = re.search(r'<dialog id="overpayment-dialog".*?</dialog>', content, re.S)
    assert confirm
    assert f'name="once" value="{key}"' in confirm.group(0)
    assert 'name="amount" value="50"' in confirm.group(0)
    data = {"once": key, "amount": "50", "method": "contant", "confirm_overpayment": "ja"}
    done = balie_client.post(url(tester, "betaling/"), data)
    again = balie_client.post(url(tester, "betaling/"), data)  # a double click on Ja
    assert done.status_code == again.status_code == 302
    assert payments(tester) == [Decimal("50.00")]
    assert customer_saldo(customer=tester) == Decimal("-8.00")


def test_the_saldo_or_less_needs_no_second_step(balie_client: Client, tester: Customer) -> None:
    _, response = pay(balie_client, tester, "42,00")
    assert response.status_code == 302  # type: ignore[attr-defined]
    _, response = pay(balie_client, tester, "0,01")  # nothing open any more: asks
    assert "Meer dan het saldo (€ 0,00)" in response.content.decode()  # type: ignore[attr-defined]
    assert payments(tester) == [Decimal("42.00")]


def test_the_services_keep_the_same_rules(balie: User, tester: Customer) -> None:
    """payment_desk_receive (and the ledger booking under it) refuse what the page refuses."""
    with pytest.raises(ValidationError) as error:
        payment_desk_receive(actor=balie, customer=tester, amount=Decimal("50"), method="pin")
    assert error.value.code == "overpayment"
    with pytest.raises(ValidationError) as error:
        payment_desk_receive(
            actor=balie,
            customer=tester,
            amount=Decimal("999999.99"),
            method="pin",
            allow_overpayment=True,
        )
    assert "hoogstens € 1.000,00" in error.value.messages[0]
    paid = payment_desk_receive(
        actor=balie, customer=tester, amount=Decimal("50"), method="pin", allow_overpayment=True
    )
    assert paid.amount == Decimal("50.00")
    assert Payment.objects.count() == 1
