"""The cost build-up ("Opbouw abonnementskosten") of a subscription for a customer on a day."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ValidationError

from bieb.core.dates import age_on, month_year_nl, period_valid_through
from bieb.core.money import ZERO, format_euro, to_cents
from bieb.libraries.models import Discount, DiscountKind, SubscriptionType, Tariff, TariffKind

ADULT_AGE = 18


class CustomerLike(Protocol):
    """What the build-up needs of a customer: saved or still being typed in at the counter."""

    @property
    def display_name(self) -> str: ...

    @property
    def birth_date(self) -> dt.date: ...


@dataclass(frozen=True)
class CostBuildUp:
    name: str
    age: int
    tariff: Tariff
    discount: Discount | None
    start: dt.date
    valid_through: dt.date
    rights_through: dt.date | None
    fee: Decimal
    discount_amount: Decimal

    @property
    def expiry_month(self) -> int:
        """Vervalmaand: the month number in which the membership runs out."""
        return self.valid_through.month

    @property
    def amount(self) -> Decimal:
        """What this period costs ("Te betalen"): not the customer's saldo, which is the sum
        of the ledger."""
        return self.fee - self.discount_amount

    @property
    def valid_through_label(self) -> str:
        return f"Geldig t/m {month_year_nl(self.valid_through)}"

    def rows(self) -> list[tuple[str, str]]:
        """The lines of the screen, labelled as in Wise."""
        return [
            ("Naam", self.name),
            ("Leeftijd", str(self.age)),
            ("Tariefcode", str(self.tariff)),
            ("Vervalmaand", str(self.expiry_month)),
            (
                "Rechten t/m",
                self.rights_through.strftime("%d-%m-%Y") if self.rights_through else "",
            ),
            ("Abonnement", format_euro(self.fee)),
            ("Korting", format_euro(self.discount_amount)),
            # What this period costs; the customer's saldo is the ledger's, shown apart.
            ("Te betalen", format_euro(self.amount)),
        ]


def subscription_refusal(subscription_type: SubscriptionType, age: int) -> str | None:
    """Why this subscription cannot be taken at this age, in Dutch; None when it can."""
    too_young = age < subscription_type.min_age
    too_old = subscription_type.max_age is not None and age > subscription_type.max_age
    if not (too_young or too_old):
        return None
    advice = "Kies een jeugdabonnement." if too_young else "Kies een abonnement voor volwassenen."
    return (
        f"{subscription_type.name} is voor klanten van {subscription_type.age_band_label()}; "
        f"deze klant is {age} jaar. {advice}"
    )


def default_tariff(tariffs: list[Tariff], *, age: int) -> Tariff:
    """Under 18 the free tariff, otherwise the library's standard one."""
    wanted: list[Tariff]
    if age < ADULT_AGE:
        wanted = [t for t in tariffs if t.kind == TariffKind.FREE]
    else:
        wanted = [t for t in tariffs if t.is_default] or [
            t for t in tariffs if t.kind == TariffKind.STANDARD
        ]
    if not wanted:
        raise ValidationError(
            {"tariff": "Deze bibliotheek heeft geen passende tariefcode; vraag de beheerder."}
        )
    return wanted[0]


def discount_amount(discount: Discount | None, fee: Decimal) -> Decimal:
    if discount is None or fee <= 0:
        return ZERO
    if discount.kind == DiscountKind.PERCENTAGE:
        return to_cents(fee * discount.value / Decimal(100))
    return to_cents(min(discount.value, fee))


def cost_build_up(
    *,
    customer: CustomerLike,
    subscription_type: SubscriptionType,
    tariff: Tariff | None = None,
    discount: Discount | None = None,
    on: dt.date,
    tariffs: list[Tariff] | None = None,
) -> CostBuildUp:
    """The costs of `subscription_type` for `customer` when registered on `on`.

    Raises ValidationError (field `subscription_type`) when the customer's age does not fit the
    subscription, e.g. Digital only for someone under 18. Under 18 the subscription is free by law
    (Wsob): no fee and no discount, whatever tariff was asked for.
    """
    age = age_on(customer.birth_date, on)
    refusal = subscription_refusal(subscription_type, age)
    if refusal:
        raise ValidationError({"subscription_type": refusal})
    library_id = subscription_type.library_id
    for item, field in ((tariff, "tariff"), (discount, "discount")):
        if item is not None and item.library_id != library_id:
            raise ValidationError({field: "Deze code hoort bij een andere bibliotheek."})
    if (age < ADULT_AGE and (tariff is None or tariff.kind != TariffKind.FREE)) or tariff is None:
        if tariffs is None:
            tariffs = list(Tariff.objects.filter(library_id=library_id))
        tariff = default_tariff(tariffs, age=age)
    if age < ADULT_AGE:
        discount = None
    fee = to_cents(tariff.amount_for(subscription_type))
    valid_through = period_valid_through(on, subscription_type.period_months)
    return CostBuildUp(
        name=customer.display_name,
        age=age,
        tariff=tariff,
        discount=discount,
        start=on,
        valid_through=valid_through,
        rights_through=valid_through,
        fee=fee,
        discount_amount=discount_amount(discount, fee),
    )
