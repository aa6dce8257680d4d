from decimal import Decimal

from django import template

from bieb.core.money import format_euro
from bieb.customers.validators import format_iban

register = template.Library()


@register.filter
def euro(amount: Decimal | None) -> str:
    """`Decimal("42")` → `€ 42,00`."""
    return format_euro(amount) if amount is not None else ""


@register.filter
def iban(value: str) -> str:
    """`NL91ABNA0417164300` → `NL91 ABNA 0417 1643 00`."""
    return format_iban(value) if value else ""
