"""Money is Decimal in euros, always to the cent.

`format_euro` shows an amount (`€ 1.234,50`); `money_parse` reads one that staff typed, in the
same notation. Every place where an amount is typed reads it with `money_parse`, so what one
screen accepts the others accept too."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_euro(amount: Decimal) -> str:
    """`Decimal("42")` → `€ 42,00`; `Decimal("1234.5")` → `€ 1.234,50` (Dutch notation)."""
    value = to_cents(amount)
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"€ {sign}{'.'.join(groups)},{cents}"


# re.ASCII: `\d` and `\s` would otherwise take every script's digits and spaces (Arabic-Indic,
# full-width, Devanagari ...), and Decimal() reads those as numbers too. Longer input is no
# amount anyone types.
_MAX_TYPED = 30
_AMOUNT_RE = re.compile(
    r"""
    (?:€\s*)?
    (?:
        (?P<whole>\d{1,3}(?:\.\d{3})+|\d+)            # 1.234 or 1234
        (?:,(?P<cents>\d+|-{1,2}))?                    # ,50  ,5  ,-
      |
        (?P<keypad_whole>\d+)\.(?P<keypad_cents>\d{1,2})  # 42.50: the numeric keypad's point
    )
    """,
    re.ASCII | re.VERBOSE,
)
_DIGITS_RE = re.compile(r"\d")  # any script's digits (no re.ASCII)

EXAMPLE = "Vul een bedrag in euro in, bijvoorbeeld 42,00."


def money_parse(text: str, *, maximum: Decimal | None = None, allow_zero: bool = False) -> Decimal:
    """An amount typed in Dutch notation: `34`, `34,50`, `€ 34,50`, `1.234,50`, `34,-` (and
    `42.50`, as the numeric keypad types it). Above zero, at most two decimals, at most
    `maximum` (zero too with `allow_zero`). Raises ValidationError with a Dutch message (no
    field: the caller names it)."""
    typed = (text or "").strip()
    if not typed:
        raise ValidationError("Vul een bedrag in.", code="required")
    match = _AMOUNT_RE.fullmatch(typed) if len(typed) <= _MAX_TYPED else None
    if not match:
        if any(not c.isascii() for c in _DIGITS_RE.findall(typed)):
            raise ValidationError(
                "Typ het bedrag met de cijfers 0 tot en met 9, bijvoorbeeld 42,00.",
                code="digits",
            )
        raise ValidationError(EXAMPLE, code="invalid")
    whole = match["whole"] or match["keypad_whole"]
    cents = match["cents"] or match["keypad_cents"] or ""
    if cents.startswith("-"):
        cents = ""
    if len(cents) > 2:
        raise ValidationError(
            "Een bedrag heeft hoogstens twee cijfers achter de komma.", code="decimals"
        )
    amount = Decimal(f"{whole.replace('.', '')}.{cents.ljust(2, '0')}")
    return money_check(amount, maximum=maximum, allow_zero=allow_zero)


def money_check(
    amount: Decimal, *, maximum: Decimal | None = None, allow_zero: bool = False
) -> Decimal:
    """`amount` to the cent when it is above zero (or zero, with `allow_zero`) and at most
    `maximum`; else ValidationError."""
    amount = to_cents(amount)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError("Vul een bedrag groter dan € 0,00 in.", code="min_value")
    if maximum is not None and amount > maximum:
        raise ValidationError(
            f"Het bedrag is te hoog: hoogstens {format_euro(maximum)}.", code="max_value"
        )
    return amount


class MoneyFormField(forms.DecimalField):
    """An amount in a Django form (the admin's prices, tariffs and discounts), read by
    `money_parse`: Decimal() alone would take Arabic-Indic "42" as 42. Zero is an amount here
    (a free tariff); the model field's own validators still apply."""

    def to_python(self, value: object) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        try:
            return money_parse(str(value), allow_zero=True)
        except ValidationError as error:
            raise ValidationError(error.messages, code="invalid") from None
