"""Money is Decimal in euros, always to the cent."""

from decimal import ROUND_HALF_UP, Decimal

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
