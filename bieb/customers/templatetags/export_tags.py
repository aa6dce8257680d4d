"""Filters for the customer's export as a page (`customers/_export.html`), shared by the
counter's "Inzage" and Mijn bibliotheek's "Download mijn gegevens"."""

from decimal import Decimal
from typing import Any

from django import template

from bieb.core.money import format_euro
from bieb.customers.history import audit_text as history_audit_text
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
def audit_text(event: Any) -> str:
    """An audit row (an AuditEvent, or the export's row of one) as one readable line in
    Dutch: `velden: e-mail, nieuwsbrief; hoe: json`."""
    if isinstance(event, dict):
        return history_audit_text(str(event.get("action", "")), event.get("data"))
    return history_audit_text(event.action, event.data)
