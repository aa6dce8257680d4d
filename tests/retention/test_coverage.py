"""What the retention job must know of the rest of the code, checked so that a new mail or a
new table that refers to a customer cannot slip past it unnoticed."""

from pathlib import Path

from django.apps import apps

import bieb
from bieb.customers.export import (
    MAIL_KINDS_BY_CUSTOMER,
    MAIL_KINDS_BY_DEBIT,
    MAIL_KINDS_BY_MEMBERSHIP,
    MAIL_KINDS_BY_PERIOD,
)

ROOT = Path(bieb.__file__).parent


def test_every_mail_about_a_customer_is_found_by_kind() -> None:
    """The outbox rows the export lists and the retention job removes are found by kind and
    reference: every mail template of the library side must be one of those kinds."""
    kinds = {
        *MAIL_KINDS_BY_CUSTOMER,
        *MAIL_KINDS_BY_MEMBERSHIP,
        *MAIL_KINDS_BY_PERIOD,
        *MAIL_KINDS_BY_DEBIT,
    }
    templates = {
        f"{app}.{path.stem}"
        for app in ("customers", "debits", "signup")
        for path in (ROOT / app / "templates" / app / "mail").glob("*.txt")
        if not path.stem.startswith("_")
    }
    assert templates == kinds


# Every table that refers to these, and how bieb.retention.services deals with it when it
# deletes a customer after the financial retention.
DELETED_WITH_THE_CUSTOMER = {
    "customers.customer": {
        "customers.membership",
        "customers.ledgerline",
        "debits.mandate",
        "debits.debit",
        "payments.payment",
        "signup.signup",
        "kboutbox.kbcall",  # kept, without its customer and payload
    },
    "customers.membership": {
        "customers.membershipperiod",
        "customers.ledgerline",
        "payments.payment",
        "signup.signup",
    },
    "customers.membershipperiod": {"customers.ledgerline", "debits.debit"},
    "customers.ledgerline": {"customers.ledgerline", "debits.debit", "payments.payment"},
    "debits.mandate": {"debits.mandateevent", "debits.debit"},
    "debits.debit": {"debits.returnitem"},  # kept, without its debit
}


def test_the_deletion_knows_every_table_that_refers_to_a_customer() -> None:
    for label, expected in DELETED_WITH_THE_CUSTOMER.items():
        model = apps.get_model(label)
        referring = {
            field.related_model._meta.label_lower
            for field in model._meta.get_fields(include_hidden=True)
            if field.auto_created and not field.concrete and field.related_model is not None
        }
        assert referring == expected, label
