"""Filters for the customer's export as a page (`customers/_export.html`), shared by the
counter's "Inzage" and Mijn bibliotheek's "Download mijn gegevens"."""

from decimal import Decimal
from typing import Any

from django import template

from bieb.core.money import format_euro
from bieb.customers.history import data_label
from bieb.customers.models import MembershipStatus
from bieb.customers.validators import format_iban

register = template.Library()


@register.filter
def euro(amount: Decimal | None) -> str:
    """`Decimal("42")` → `€ 42,00`; nothing for None."""
    return format_euro(amount) if amount is not None else ""


@register.filter
def iban_spaced(value: str) -> str:
    """`NL91ABNA0417164300` → `NL91 ABNA 0417 1643 00`."""
    return format_iban(value) if value else ""


@register.filter
def membership_status(value: str) -> str:
    """A membership's stored status in words: `wacht_op_betaling` → `wacht op betaling`."""
    try:
        return str(MembershipStatus(value).label)
    except ValueError:
        return value


@register.filter
def ja_nee(value: object) -> str:
    return "ja" if value else "nee"


@register.filter
def audit_data(data: Any) -> str:
    """An audit row's data as one readable line, its keys in Dutch:
    `velden: email, newsletter; hoe: json`."""
    if not isinstance(data, dict) or not data:
        return ""
    parts = []
    for key, value in data.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{data_label(key)}: {shown}")
    return "; ".join(parts)
