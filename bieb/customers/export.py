"""Everything the library holds about one customer, in one dict: the member's "Download mijn
gegevens" (Mijn bibliotheek) and the counter's "Inzage" (a subject access request) use this
same export, as a JSON download and as a readable page.

What is in it: the customer row; each membership with its periods; the ledger with the saldo;
the online payments; the consents (newsletter, electronic mandates); the mandates with their
history; the direct debits with their bank returns; the mails the library sent about them; the
audit rows about them (`bieb.customers.history`). The login account is the login service's:
the library holds only its id, and the member downloads that account's data at the KB.

Values are Python's (dates, aware datetimes, Decimals, UUIDs) so that a page can format them;
`customer_export_json` writes them as JSON (ISO 8601 dates and times in UTC, amounts as
strings in euros). Only rows of the customer's own library are read: a customer number of
another library, another customer of the same library, or another customer who shares an
e-mail address brings nothing along.

Every export made is audited (`customer_export_record`): by a staff member at the counter or
by the member online.
"""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.audit.services import audit_record
from bieb.customers.history import action_label, customer_audit_events
from bieb.customers.models import Customer, LedgerLine, Membership, MembershipPeriod
from bieb.customers.year import customer_saldo_of
from bieb.staff.models import User

FORMAT = "bieb-klantgegevens/1"
# What customer_export_record writes down as the way the data left: a page or a file.
WAYS = ("pagina", "json")


def _customer(customer: Customer) -> dict[str, Any]:
    return {
        "number": customer.number,
        "salutation": customer.salutation,
        "display_name": customer.display_name,
        "initials": customer.initials,
        "prefix": customer.prefix,
        "surname": customer.surname,
        "first_name": customer.first_name,
        "birth_date": customer.birth_date,
        "country": customer.country,
        "postcode": customer.postcode,
        "house_number": customer.house_number,
        "house_letter": customer.house_letter,
        "house_addition": customer.house_addition,
        "iban": customer.iban,
        "bic": customer.bic,
        "identity_checked": customer.identity_checked,
        "identity_document": customer.identity_document,
        "email": customer.email,
        "newsletter": customer.newsletter,
        "newsletter_consent_at": customer.newsletter_consent_at,
        "uses_login_account": customer.uses_login_account,
        "login_account_id": customer.login_account_id,
        "login_account_lapsed": customer.login_account_lapsed,
        "registered_branch": {
            "number": customer.registered_branch.number,
            "name": customer.registered_branch.name,
        },
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _period(period: MembershipPeriod) -> dict[str, Any]:
    return {
        "id": period.pk,
        "start": period.start,
        "end": period.end,
        "subscription": f"{period.subscription_type.code} {period.subscription_type.name}",
        "tariff": f"{period.tariff.code} {period.tariff.name}",
        "discount": f"{period.discount.code} {period.discount.name}" if period.discount else "",
        "fee": period.fee,
        "discount_amount": period.discount_amount,
        "amount": period.amount,
        "state": period.state,
        "booked_at": period.booked_at,
        "mailed_at": period.mailed_at,
        "reminders_sent": period.reminders_sent,
    }


def _membership(membership: Membership) -> dict[str, Any]:
    following = membership.next_subscription_type
    return {
        "id": membership.pk,
        "subscription": {
            "code": membership.subscription_type.code,
            "name": membership.subscription_type.name,
        },
        "tariff": f"{membership.tariff.code} {membership.tariff.name}",
        "discount": (
            f"{membership.discount.code} {membership.discount.name}" if membership.discount else ""
        ),
        "branch": membership.branch.number,
        "start_date": membership.start_date,
        "valid_through": membership.valid_through,
        "expiry_month": membership.expiry_month,
        "status": membership.status,
        "rights_through": membership.rights_through,
        "next_subscription": f"{following.code} {following.name}" if following else "",
        "ends_on": membership.ends_on,
        "cancelled_at": membership.cancelled_at,
        "cancel_reason": membership.cancel_reason,
        "created_at": membership.created_at,
        "periods": [_period(p) for p in membership.periods.all()],
    }


# Who did something, as the member reads it: staff by their role, not their name (a subject
# access request gives the member's data, not the staff's), the member themself in words.
STAFF = "medewerker van de bibliotheek"
YOURSELF = "de klant zelf (online)"


def _who(actor: User | None, actor_name: str) -> str:
    return STAFF if actor is not None else actor_name


def _names_for_member(data: dict[str, Any]) -> None:
    """Replace the names stored as text (mandate events, audit rows without a user) that are
    a staff user's, or the member's own online name ("online:<name>"), by the words above
    (one query)."""
    places: list[tuple[dict[str, Any], str]] = [
        (event, "by") for mandate in data["mandates"] for event in mandate["events"]
    ]
    places += [(row, "by") for row in data["audit"]]
    names = {place[key] for place, key in places if place[key]}
    staff = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    for place, key in places:
        if place[key] in staff:
            place[key] = STAFF
        elif place[key].startswith("online:"):  # only the member acts on their data online
            place[key] = YOURSELF


def _ledger_line(line: LedgerLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "booked_at": line.booked_at,
        "kind": line.kind,
        "amount": line.amount,
        "description": line.description,
        "method": line.method,
        "reason": line.reason,
        "membership": line.membership_id,
        "period": line.period_id,
        "reverses": line.reverses_id,
        "branch": line.branch.number if line.branch else "",
        "booked_by": _who(line.booked_by, ""),
    }


def _audit_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "action": event.action,
        "label": action_label(event.action),
        "by": _who(event.actor, event.actor_name),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
    }


def _mandates(customer: Customer) -> list[dict[str, Any]]:
    from bieb.debits.models import Mandate, MandateEvent

    mandates = (
        Mandate.objects.filter(customer=customer, library_id=customer.library_id)
        .prefetch_related(Prefetch("events", queryset=MandateEvent.objects.order_by("at", "id")))
        .order_by("created_at", "id")
    )
    return [
        {
            "reference": m.reference,
            "iban": m.iban,
            "bic": m.bic,
            "holder_name": m.holder_name,
            "signed_on": m.signed_on,
            "kind": m.kind,
            "state": m.state,
            "state_changed_at": m.state_changed_at,
            "original_iban": m.original_iban,
            "original_bic": m.original_bic,
            "first_collected_on": m.first_collected_on,
            "last_collected_on": m.last_collected_on,
            "consent_text": m.consent_text,
            "consent_at": m.consent_at,
            "consent_ip": m.consent_ip,
            "consent_user_agent": m.consent_user_agent,
            "created_at": m.created_at,
            "events": [
                {
                    "at": e.at,
                    "action": e.action,
                    "description": e.description,
                    "by": e.actor_name,
                }
                for e in m.events.all()
            ],
        }
        for m in mandates
    ]


def _debits(customer: Customer) -> list[dict[str, Any]]:
    from bieb.debits.models import Debit, ReturnItem

    debits = (
        Debit.objects.filter(customer=customer, library_id=customer.library_id)
        .select_related("mandate")
        .prefetch_related(Prefetch("returns", queryset=ReturnItem.objects.order_by("id")))
        .order_by("collection_date", "id")
    )
    return [
        {
            "end_to_end_id": d.end_to_end_id,
            "mandate": d.mandate.reference,
            "period": d.period_id,
            "amount": d.amount,
            "description": d.description,
            "collection_date": d.collection_date,
            "sequence_type": d.sequence_type,
            "state": d.state,
            "iban": d.iban,
            "original_iban": d.original_iban,
            "prenotified_at": d.prenotified_at,
            "payment_line": d.payment_line_id,
            "return_code": d.return_code,
            "returned_at": d.returned_at,
            "created_at": d.created_at,
            "returns": [
                {
                    "reason_code": r.reason_code,
                    "amount": r.amount,
                    "debtor_name": r.debtor_name,
                    "debtor_iban": r.debtor_iban,
                    "state": r.state,
                    "handled_note": r.handled_note,
                }
                for r in d.returns.all()
            ],
        }
        for d in debits
    ]


def _payments(customer: Customer) -> list[dict[str, Any]]:
    from bieb.payments.models import Payment

    payments = Payment.objects.filter(customer=customer, library_id=customer.library_id)
    return [
        {
            "reference": p.public_id,
            "purpose": p.purpose,
            "amount": p.amount,
            "description": p.description,
            "provider": p.provider,
            "status": p.status,
            "ledger_line": p.ledger_line_id,
            "problem": p.problem,
            "created_at": p.created_at,
            "paid_at": p.paid_at,
        }
        for p in payments.order_by("created_at", "id")
    ]


# The mails the library sends about a customer, by what each names as its reference: the
# customer (the sign-up's welcome), a membership (a cancellation), a period (renewal and
# reminders), a debit's end-to-end id (direct debit). Listed by kind, so that the outbox's
# (kind, reference) index finds them; tests/retention checks that every mail template is here.
MAIL_KINDS_BY_CUSTOMER = ("signup.welcome",)
MAIL_KINDS_BY_MEMBERSHIP = ("customers.cancelled",)
MAIL_KINDS_BY_PERIOD = (
    "customers.renewal_automatic",
    "customers.renewal_fixed",
    "customers.reminder_automatic",
    "customers.reminder_fixed",
)
MAIL_KINDS_BY_DEBIT = (
    "debits.prenotification",
    "debits.open_amount",
    "debits.new_date",
    "debits.cancelled",
    "debits.returned",
)


def customer_mails_filter(
    *,
    customer_ids: list[int],
    membership_ids: list[int],
    period_ids: list[int],
    debit_ids: list[str],
) -> Q:
    """The outbox rows about these customers (never found by address: two customers may share
    one), given their memberships, periods and debits' end-to-end ids. Used by the export and
    by the retention job, which removes them."""
    about = Q(kind__in=MAIL_KINDS_BY_CUSTOMER, reference__any=[str(pk) for pk in customer_ids])
    if membership_ids:
        about |= Q(
            kind__in=MAIL_KINDS_BY_MEMBERSHIP, reference__any=[str(pk) for pk in membership_ids]
        )
    if period_ids:
        about |= Q(kind__in=MAIL_KINDS_BY_PERIOD, reference__any=[str(pk) for pk in period_ids])
    if debit_ids:
        about |= Q(kind__in=MAIL_KINDS_BY_DEBIT, reference__any=debit_ids)
    return about


def _mails(
    customer: Customer, memberships: list[Membership], debits: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The mails the library sent about this customer (`customer_mails_filter`)."""
    from bieb.mail.models import OutboxMessage

    about = customer_mails_filter(
        customer_ids=[customer.pk],
        membership_ids=[m.pk for m in memberships],
        period_ids=[p.pk for m in memberships for p in m.periods.all()],
        debit_ids=[d["end_to_end_id"] for d in debits],
    )
    return [
        {
            "at": m.created_at,
            "sent_at": m.sent_at,
            "to": m.to,
            "subject": m.subject,
            "kind": m.kind,
            "status": m.status,
            "text": m.text_body,
        }
        for m in OutboxMessage.objects.filter(about).order_by("created_at", "id")
    ]


def _consents(customer: Customer, mandates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    consents: list[dict[str, Any]] = [
        {
            "what": "nieuwsbrief",
            "given": customer.newsletter,
            "at": customer.newsletter_consent_at,
        }
    ]
    consents += [
        {
            "what": "machtiging",
            "reference": m["reference"],
            "given": True,
            "at": m["consent_at"],
            "text": m["consent_text"],
            "ip": m["consent_ip"],
            "user_agent": m["consent_user_agent"],
        }
        for m in mandates
        if m["consent_at"] is not None
    ]
    return consents


def customer_export(customer: Customer) -> dict[str, Any]:
    """Everything the library holds about `customer` (see the module's docstring). A bounded
    number of queries, whatever the customer's history."""
    customer = Customer.objects.select_related("library", "registered_branch").get(pk=customer.pk)
    periods = MembershipPeriod.objects.select_related(
        "subscription_type", "tariff", "discount"
    ).order_by("start", "id")
    memberships = list(
        Membership.objects.filter(customer=customer, library_id=customer.library_id)
        .select_related(
            "subscription_type", "tariff", "discount", "branch", "next_subscription_type"
        )
        .prefetch_related(Prefetch("periods", queryset=periods))
        .order_by("start_date", "id")
    )
    lines = (
        LedgerLine.objects.filter(customer=customer, library_id=customer.library_id)
        .select_related("branch", "booked_by")
        .order_by("booked_at", "id")
    )
    mandates = _mandates(customer)
    debits = _debits(customer)
    data = {
        "format": FORMAT,
        "made_at": timezone.now(),
        "library": {"code": customer.library.code, "name": customer.library.name},
        "customer": _customer(customer),
        "memberships": [_membership(m) for m in memberships],
        "ledger": {
            "saldo": customer_saldo_of(customer.pk),
            "lines": [_ledger_line(line) for line in lines],
        },
        "payments": _payments(customer),
        "consents": _consents(customer, mandates),
        "mandates": mandates,
        "debits": debits,
        "mails": _mails(customer, memberships, debits),
        "audit": [_audit_row(e) for e in customer_audit_events(customer=customer)],
    }
    _names_for_member(data)
    return data


def customer_export_json(data: dict[str, Any]) -> str:
    """The export as a JSON document (UTF-8 text, indented for reading)."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def customer_export_record(
    *, customer: Customer, way: str, actor: User | None, actor_name: str = ""
) -> AuditEvent:
    """The audit row of an export: who took the data out (a staff member, or the member
    online by `actor_name`), and how (`way`: "pagina" or "json")."""
    if way not in WAYS:
        raise ValueError(f"unknown way of export: {way}")
    if actor is not None and actor.library_id != customer.library_id:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")
    return audit_record(
        actor=actor,
        actor_name=actor_name,
        action="customer.exported",
        library=customer.library,
        target=customer,
        data={"way": way},
    )
