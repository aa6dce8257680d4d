"""The cost build-up ("Opbouw abonnementskosten") on the seed's example and its edges."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bieb.customers.costs import cost_build_up
from bieb.customers.details import CustomerDetails
from bieb.libraries.models import Discount, SubscriptionType, Tariff

pytestmark = pytest.mark.django_db


def person(birth_date: dt.date, salutation: str = "mw") -> CustomerDetails:
    return CustomerDetails(
        initials="T.", surname="Tester", birth_date=birth_date, salutation=salutation
    )


def test_digital_only_registered_in_june_2024(digital_only: SubscriptionType) -> None:
    costs = cost_build_up(
        customer=person(dt.date(1991, 1, 4)),
        subscription_type=digital_only,
        on=dt.date(2024, 6, 12),
    )
    assert costs.valid_through_label == "Geldig t/m mei 2025"
    assert costs.expiry_month == 5
    assert dict(costs.rows()) == {
        "Naam": "Mw. T. Tester",
        "Leeftijd": "33",
        "Tariefcode": "0002 - standaard",
        "Vervalmaand": "5",
        "Rechten t/m": "31-05-2025",
        "Abonnement": "€ 42,00",
        "Korting": "€ 0,00",
        "Te betalen": "€ 42,00",
    }


def test_the_seeds_free_tariff_gives_zero(digital_only: SubscriptionType, gratis: Tariff) -> None:
    costs = cost_build_up(
        customer=person(dt.date(2000, 3, 3)),
        subscription_type=digital_only,
        tariff=gratis,
        on=dt.date(2024, 6, 1),
    )
    rows = dict(costs.rows())
    assert rows["Tariefcode"] == "0001 - gratis"
    assert (rows["Leeftijd"], rows["Abonnement"], rows["Te betalen"]) == ("24", "€ 0,00", "€ 0,00")
    assert costs.valid_through_label == "Geldig t/m mei 2025"


def test_digital_only_is_refused_under_18_with_the_reason(digital_only: SubscriptionType) -> None:
    with pytest.raises(ValidationError) as refused:
        cost_build_up(
            customer=person(dt.date(2008, 1, 4)),
            subscription_type=digital_only,
            on=dt.date(2024, 6, 12),
        )
    message = refused.value.message_dict["subscription_type"][0]
    assert "Digital only" in message
    assert "18 jaar en ouder" in message
    assert "16 jaar" in message


def test_turning_18_on_the_registration_day_is_old_enough(digital_only: SubscriptionType) -> None:
    costs = cost_build_up(
        customer=person(dt.date(2006, 6, 12)),
        subscription_type=digital_only,
        on=dt.date(2024, 6, 12),
    )
    assert costs.age == 18
    assert costs.fee == Decimal("42.00")
    with pytest.raises(ValidationError):
        cost_build_up(
            customer=person(dt.date(2006, 6, 13)),
            subscription_type=digital_only,
            on=dt.date(2024, 6, 12),
        )


def test_born_on_29_february_turns_18_on_1_march(digital_only: SubscriptionType) -> None:
    born = dt.date(2008, 2, 29)
    with pytest.raises(ValidationError):
        cost_build_up(
            customer=person(born), subscription_type=digital_only, on=dt.date(2026, 2, 28)
        )
    costs = cost_build_up(
        customer=person(born), subscription_type=digital_only, on=dt.date(2026, 3, 1)
    )
    assert costs.age == 18
    assert costs.valid_through == dt.date(2027, 2, 28)


def test_under_18_is_free_whatever_tariff_or_discount(
    youth: SubscriptionType, bind: object
) -> None:
    standard = Tariff.objects.get(library=youth.library, code="0002")
    discount = Discount.objects.get(library=youth.library, code="PAS")
    costs = cost_build_up(
        customer=person(dt.date(2014, 5, 5)),
        subscription_type=youth,
        tariff=standard,
        discount=discount,
        on=dt.date(2024, 6, 12),
    )
    assert costs.tariff.code == "0001"
    assert (costs.fee, costs.discount_amount, costs.amount) == (Decimal(0), Decimal(0), Decimal(0))


def test_discounts_are_taken_off_to_the_cent(adult: SubscriptionType) -> None:
    cjp = Discount.objects.get(library=adult.library, code="CJP")  # 25 %
    costs = cost_build_up(
        customer=person(dt.date(1990, 1, 1)),
        subscription_type=adult,
        discount=cjp,
        on=dt.date(2024, 6, 12),
    )
    assert costs.fee == Decimal("64.50")
    assert costs.discount_amount == Decimal("16.13")
    assert dict(costs.rows())["Te betalen"] == "€ 48,37"


def test_a_tariff_of_another_library_is_refused(
    digital_only: SubscriptionType, oost: object
) -> None:
    other = Tariff.objects.get(library=oost, code="0001")
    with pytest.raises(ValidationError) as refused:
        cost_build_up(
            customer=person(dt.date(1990, 1, 1)),
            subscription_type=digital_only,
            tariff=other,
            on=dt.date(2024, 6, 12),
        )
    assert "tariff" in refused.value.message_dict
