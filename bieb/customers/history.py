"""The audit rows about one customer: the counter's "Historie", and the audit part of the
customer's export ("Inzage", "Download mijn gegevens").

An audit row names its object by type and id (`AuditEvent.object_type`, `object_id`); a row is
about the customer when its object is the customer, one of its memberships, one of its online
payments, or a bank return of one of its debits (mandate changes and ledger lines are audited
on the customer itself). Only rows of the customer's own library, or of none, are read, so a
row that some other library wrote can never show up here.
"""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet, TextChoices

from bieb.audit.models import AuditEvent
from bieb.core.money import format_euro
from bieb.customers.models import Customer, Membership, MembershipStatus, PaymentMethod

# Audit actions in the words staff and members read (Historie, Inzage); unknown ones as stored.
ACTION_LABELS = {
    "customer.registered": "Ingeschreven",
    "customer.updated": "Persoonsgegevens gewijzigd",
    "customer.contact_updated": "Adres, e-mail of nieuwsbrief gewijzigd (online)",
    "customer.exported": "Gegevens ingezien of gedownload",
    "customer.login_account_generated": "Inlogaccount gegenereerd",
    "customer.login_account_linked": "Inlogaccount gekoppeld",
    "customer.login_account_forgotten": "Inlogaccount vergeten",
    "customer.login_account_resent": "Activeringsmail opnieuw verstuurd",
    "membership.renewed": "Abonnement verlengd",
    "membership.cancelled": "Abonnement opgezegd",
    "membership.changed": "Abonnement gewijzigd",
    "membership.status_changed": "Status abonnement gewijzigd",
    "ledger.payment_booked": "Betaling geboekt",
    "ledger.debit_returned": "Incasso teruggeboekt",
    "ledger.storno": "Storno geboekt",
    "ledger.refund": "Terugbetaling geboekt",
    "ledger.write_off": "Kwijtschelding geboekt",
    "mandate.created": "Machtiging vastgelegd",
    "mandate.amended": "Machtiging gewijzigd (nieuwe IBAN)",
    "mandate.ingetrokken": "Machtiging ingetrokken",
    "mandate.geblokkeerd": "Machtiging geblokkeerd",
    "mandate.vervallen": "Machtiging vervallen",
    "mandate.actief": "Machtiging weer actief",
    "payment.status_changed": "Online betaling: status gewijzigd",
    "payment.problem": "Online betaling: probleem",
    "debits.return_handled": "Terugboeking afgehandeld",
    "customer.login_account_deleted": "Inlogaccount verwijderd door de inlogdienst (KB)",
}


# The keys of an audit row's data in the same words; unknown ones as stored.
DATA_LABELS = {
    "amount": "bedrag",
    "at_once": "per direct",
    "branch": "vestiging",
    "count": "aantal",
    "description": "omschrijving",
    "discount": "korting",
    "email": "e-mail",
    "end_to_end_id": "kenmerk incasso",
    "ends_on": "eindigt op",
    "fee": "bedrag abonnement",
    "fields": "velden",
    "file": "bestand",
    "files": "bestanden",
    "from": "van",
    "iban": "IBAN",
    "line": "boeking",
    "login_account": "inlogaccount",
    "method": "betaalwijze",
    "new_line": "nieuwe boeking",
    "newsletter": "nieuwsbrief",
    "note": "toelichting",
    "number": "klantnummer",
    "on": "op",
    "reason": "reden",
    "reference": "kenmerk",
    "state": "stand",
    "subscription": "abonnement",
    "tariff": "tariefcode",
    "to": "naar",
    "total": "totaal",
    "username": "gebruikersnaam",
    "valid_through": "geldig t/m",
    "way": "hoe",
    "day": "dag",
    "period": "periode",
    "mandate": "machtiging",
    "account_id": "inlogaccount",
    "provider_id": "kenmerk betaaldienst",
    "problem": "probleem",
    "replanned": "opnieuw gepland",
    "cancelled": "vervallen",
}
MONEY_KEYS = {"amount", "fee", "total"}
READ_FIRST = ("from", "to")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def data_label(key: str) -> str:
    return DATA_LABELS.get(key, key)


def data_value(action: str, key: str, value: object) -> str:
    """A value of an audit row's data as staff and members read it: the customer's field
    names, payment methods and states in their Dutch labels, dates as dd-mm-jjjj, ja/nee."""
    from bieb.payments.models import PaymentStatus

    if value is None:  # removed by the retention job (bieb.retention)
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(data_value(action, key, item) for item in value)
    if not isinstance(value, str):
        return str(value)
    labels: dict[str, type[TextChoices]] = {
        "membership.status_changed": MembershipStatus,
        "payment.status_changed": PaymentStatus,
    }
    if key == "fields":
        return _field_label(value)
    if key in MONEY_KEYS:
        try:
            return format_euro(Decimal(value))
        except InvalidOperation:
            return value
    if key == "method":
        return _choice_label(PaymentMethod, value).lower()
    if key in ("from", "to") and action in labels:
        return _choice_label(labels[action], value)
    if date := ISO_DATE.match(value):
        return f"{date[3]}-{date[2]}-{date[1]}"
    return value


def audit_text(action: str, data: object) -> str:
    """An audit row's data as one readable line: `velden: e-mail, nieuwsbrief; hoe: json`."""
    if not isinstance(data, dict) or not data:
        return ""
    # PostgreSQL's jsonb keeps no key order (shorter keys come first), SQLite keeps the
    # written one: read them in one order on both, "van ... naar" before the rest.
    keys = sorted(data, key=lambda key: (READ_FIRST.index(key) if key in READ_FIRST else 99, key))
    return "; ".join(f"{data_label(key)}: {data_value(action, key, data[key])}" for key in keys)


def _field_label(name: str) -> str:
    try:
        field = Customer._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def _choice_label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def customers_audit_filter(
    *,
    customer_ids: list[int],
    membership_ids: list[int],
    payment_ids: list[int],
    return_ids: list[int],
) -> Q:
    """The audit rows about these customers, given their memberships, online payments and bank
    returns (read them with the library condition of `customer_audit_events`)."""
    about = Q(object_type="customers.customer", object_id__any=[str(pk) for pk in customer_ids])
    if membership_ids:
        about |= Q(
            object_type="customers.membership", object_id__any=[str(pk) for pk in membership_ids]
        )
    if payment_ids:
        about |= Q(object_type="payments.payment", object_id__any=[str(pk) for pk in payment_ids])
    if return_ids:
        about |= Q(object_type="debits.returnitem", object_id__any=[str(pk) for pk in return_ids])
    return about


def customer_audit_events(*, customer: Customer) -> QuerySet[AuditEvent]:
    """The audit rows about this customer, newest first (two small id reads, then one query
    on the audit table's (object_type, object_id) index)."""
    # Imported here: payments and debits are built on the customer administration, not the
    # other way round; only this read looks up at them.
    from bieb.debits.models import ReturnItem
    from bieb.payments.models import Payment

    about = customers_audit_filter(
        customer_ids=[customer.pk],
        membership_ids=list(
            Membership.objects.filter(
                customer=customer, library_id=customer.library_id
            ).values_list("pk", flat=True)
        ),
        payment_ids=list(
            Payment.objects.filter(customer=customer, library_id=customer.library_id).values_list(
                "pk", flat=True
            )
        ),
        return_ids=list(
            ReturnItem.objects.filter(
                debit__customer=customer, debit__library_id=customer.library_id
            ).values_list("pk", flat=True)
        ),
    )
    return (
        AuditEvent.objects.filter(about)
        .filter(Q(library_id=customer.library_id) | Q(library__isnull=True))
        .select_related("actor")
        .order_by("-at", "-id")
    )
