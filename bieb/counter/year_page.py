"""What the customer page shows of the membership year: per membership the forms of
'Verlengen', 'Opzeggen' and 'Wijzig abonnement'; per ledger line whether this staff member may
reverse it ('Storno'); and, for staff with the finance permission, 'Terugbetaling' and
'Kwijtschelden'. A form sent back with an error (`action`, from bieb.counter.year) opens again
with what was typed.

Who may do what is the ledger's rule (`line_storno_allowed`, `User.has_finance`): the page asks
it and offers nothing else; the services refuse a forged request all the same.
"""

from typing import Any

from bieb.core.dates import local_today
from bieb.core.money import ZERO
from bieb.counter.access import Desk
from bieb.customers.ledger import line_storno_allowed
from bieb.customers.models import CancelReason, Customer, LedgerLine, PaymentMethod

CANCEL_AT_PERIOD_END = "einde"
CANCEL_AT_ONCE = "direct"
# 'Bank' is a transfer: no desk method (PaymentMethod.NONE) in the ledger.
REFUND_METHODS = [
    (PaymentMethod.CASH.value, "Contant"),
    (PaymentMethod.PIN.value, "Pin"),
    ("bank", "Bank"),
]


def refund_method(value: str) -> str:
    """The ledger's method of a refund as the form names it ('bank': none)."""
    return PaymentMethod.NONE if value == "bank" else value


def _form(action: dict[str, Any] | None, form: str, target: int | None, **values: str) -> Any:
    """A form's state: what was typed and its errors when `action` is this form, else its
    defaults."""
    if action and action["form"] == form and action.get("target") == target:
        return {**action, "values": {**values, **action["values"]}, "open": True}
    return {"values": values, "errors": {}, "general": [], "open": False}


def year_membership_rows(
    rows: list[dict[str, Any]], action: dict[str, Any] | None
) -> list[dict[str, Any]]:
    for row in rows:
        pk = row["membership"].pk
        row["renew"] = _form(action, "renew", pk)
        row["cancel"] = _form(action, "cancel", pk, reason="", per=CANCEL_AT_PERIOD_END)
        row["change"] = _form(action, "change", pk, subscription_type="")
    return rows


def year_ledger_rows(
    desk: Desk, lines: list[LedgerLine], action: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The ledger's lines, each with whether it was reversed and whether this staff member may
    reverse it now (and that form's state)."""
    reversed_ids = {line.reverses_id for line in lines if line.reverses_id}
    today = local_today()
    return [
        {
            "line": line,
            "reversed": line.pk in reversed_ids,
            "storno_allowed": line.pk not in reversed_ids
            and line_storno_allowed(actor=desk.user, line=line, today=today),
            "storno": _form(action, "storno", line.pk, reason=""),
        }
        for line in lines
    ]


def year_page_context(
    desk: Desk, customer: Customer, *, saldo: Any, action: dict[str, Any] | None
) -> dict[str, Any]:
    finance = desk.user.has_finance
    return {
        "finance": finance,
        "cancel_reasons": CancelReason.choices,
        "subscription_types": list(
            desk.library.subscription_types.filter(active=True).order_by("code")
        ),
        "can_refund": finance and saldo < ZERO,
        "can_write_off": finance and saldo > ZERO,
        "refund": _form(action, "refund", None, amount=_amount_text(-saldo), method="", reason=""),
        "write_off": _form(action, "write_off", None, amount=_amount_text(saldo), reason=""),
        "refund_methods": REFUND_METHODS,
        "year_action": action,
    }


def _amount_text(amount: Any) -> str:
    return f"{amount:.2f}".replace(".", ",") if amount > 0 else ""
