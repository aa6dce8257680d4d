"""The customer's export (Inzage, "Download mijn gegevens"): everything the library holds about
one customer, and nothing about anyone else, in a bounded number of queries; its audit."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from bieb.audit.models import AuditEvent
from bieb.customers.export import (
    STAFF,
    YOURSELF,
    customer_export,
    customer_export_json,
    customer_export_record,
)
from bieb.customers.history import customer_audit_events
from bieb.customers.member import contact_clean, customer_contact_update
from bieb.customers.memberships import membership_cancel
from bieb.customers.models import Customer, Membership
from bieb.debits.models import Debit, MandateKind, ReturnFile, ReturnItem, ReturnItemState
from bieb.debits.services import Consent, mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.payments.models import Payment, PaymentStatus
from bieb.staff.models import User
from tests.customers.year import AMSTERDAM, member, on

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def _everything(customer: Customer, library: Library, membership: Membership) -> None:
    """A customer with one of each: newsletter, electronic mandate, debit with a bank return,
    an online payment, a cancellation (and its mail)."""
    period = membership.periods.get()
    with on(DAY + dt.timedelta(days=1)):
        contact = contact_clean(
            {
                "country": "NL",
                "postcode": "9468BG",
                "house_number": "41",
                "email": customer.email,
                "newsletter": "ja",
            },
            email_required=True,
        )
        customer_contact_update(customer=customer, details=contact, actor_name="online:lid")
        mandate = mandate_create(
            library=library,
            customer=customer,
            iban="NL91ABNA0417164300",
            holder_name="E.B. Tester",
            signed_on=DAY + dt.timedelta(days=1),
            kind=MandateKind.ONLINE,
            actor=None,
            actor_name="online:lid",
            consent=Consent(
                text="Ik geef toestemming aan Bibliotheken Bind.",
                at=dt.datetime(2026, 6, 2, 10, 0, tzinfo=AMSTERDAM),
                ip="192.0.2.7",
                user_agent="Telefoonbrowser",
            ),
        )
        debit = Debit.objects.create(
            library=library,
            mandate=mandate,
            customer=customer,
            period=period,
            amount=Decimal("42.00"),
            description="Bibliotheken Bind abonnement",
            collection_date=DAY + dt.timedelta(days=20),
            end_to_end_id=f"E2E-{customer.surname.upper()}-1",
            state="teruggeboekt",
            return_code="MD06",
        )
        returned = ReturnFile.objects.create(
            library=library,
            sha256=customer.number.ljust(64, "a"),
            filename="camt.xml",
            message_type="camt.054",
            imported_by="balie",
        )
        ReturnItem.objects.create(
            file=returned,
            end_to_end_id=debit.end_to_end_id,
            amount=Decimal("42.00"),
            reason_code="MD06",
            debtor_name="E.B. TESTER",
            debtor_iban="NL91ABNA0417164300",
            debit=debit,
            state=ReturnItemState.PROCESSED,
        )
        Payment.objects.create(
            library=library,
            customer=customer,
            membership=membership,
            purpose="periode",
            reference=str(period.pk),
            amount=Decimal("42.00"),
            description="Bibliotheken Bind 0110",
            provider="demo",
            idempotency_key=f"periode:{period.pk}:1",
            status=PaymentStatus.FAILED,
        )
        membership_cancel(membership=membership, reason="verhuisd", actor=None, actor_name="x")


@pytest.fixture
def rich(bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType) -> Customer:
    membership = member(balie, branch_5280, adult, DAY, surname="Tester", email="gezin@example.nl")
    _everything(membership.customer, bind, membership)
    return membership.customer


@pytest.fixture
def housemate(bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType) -> Customer:
    """Another customer of Bind at the same e-mail address, with the same kinds of data."""
    membership = member(
        balie, branch_5280, adult, DAY, surname="Huisgenoot", email="gezin@example.nl"
    )
    _everything(membership.customer, bind, membership)
    return membership.customer


def test_the_export_holds_every_kind_of_data_the_library_keeps(
    rich: Customer, housemate: Customer
) -> None:
    data = customer_export(rich)
    assert data["format"] == "bieb-klantgegevens/1"
    assert data["library"] == {"code": "bind", "name": "Bibliotheken Bind"}
    person = data["customer"]
    assert (person["number"], person["surname"], person["birth_date"]) == (
        rich.number,
        "Tester",
        dt.date(1991, 1, 4),
    )
    assert person["email"] == "gezin@example.nl" and person["login_account_id"] is not None
    assert person["newsletter"] and person["newsletter_consent_at"] is not None

    [membership] = data["memberships"]
    assert membership["subscription"]["code"] == "0110"
    assert membership["cancel_reason"] == "verhuisd" and membership["cancelled_at"] is not None
    assert [p["amount"] for p in membership["periods"]] and membership["periods"][0]["state"]

    kinds = [line["kind"] for line in data["ledger"]["lines"]]
    assert "abonnementskosten" in kinds and "betaling" in kinds
    assert data["ledger"]["saldo"] == Decimal("0.00")
    # Staff by their role, never by their user name (the export goes to the member).
    assert {line["booked_by"] for line in data["ledger"]["lines"]} <= {STAFF, ""}
    by = {row["by"] for row in data["audit"]}
    by |= {e["by"] for m in data["mandates"] for e in m["events"]}
    assert STAFF in by and YOURSELF in by
    assert not by & set(User.objects.values_list("username", flat=True))

    [payment] = data["payments"]
    assert payment["status"] == "failed" and payment["amount"] == Decimal("42.00")

    consents = {c["what"]: c for c in data["consents"]}
    assert consents["nieuwsbrief"]["given"] is True
    assert consents["machtiging"]["ip"] == "192.0.2.7"
    assert consents["machtiging"]["text"] == "Ik geef toestemming aan Bibliotheken Bind."

    [mandate] = data["mandates"]
    assert mandate["iban"] == "NL91ABNA0417164300" and mandate["kind"] == "online"
    assert [e["action"] for e in mandate["events"]] == ["aangemaakt"]

    [debit] = data["debits"]
    assert debit["end_to_end_id"] == "E2E-TESTER-1" and debit["return_code"] == "MD06"
    assert debit["returns"][0]["debtor_name"] == "E.B. TESTER"

    subjects = [m["subject"] for m in data["mails"]]
    assert subjects == ["Je abonnement bij Bibliotheken Bind is opgezegd"]

    actions = {row["action"] for row in data["audit"]}
    assert {
        "customer.registered",
        "ledger.payment_booked",
        "customer.contact_updated",
        "mandate.created",
        "membership.cancelled",
    } <= actions


def test_nothing_of_another_customer_not_even_at_the_same_address(
    rich: Customer, housemate: Customer
) -> None:
    text = customer_export_json(customer_export(rich))
    assert housemate.number not in text and "Huisgenoot" not in text
    data = json.loads(text)
    assert len(data["mails"]) == 1  # the housemate's mail went to the same address: not here
    assert len(data["mandates"]) == 1 and len(data["debits"]) == 1 and len(data["payments"]) == 1
    mine = {str(rich.pk)} | {str(m["id"]) for m in data["memberships"]}
    mine |= {str(p) for p in Payment.objects.filter(customer=rich).values_list("pk", flat=True)}
    mine |= {
        str(r) for r in ReturnItem.objects.filter(debit__customer=rich).values_list("pk", flat=True)
    }
    assert {row["object_id"] for row in data["audit"]} <= mine


def test_the_json_is_plain_json_with_iso_dates_and_amounts_as_text(rich: Customer) -> None:
    data = json.loads(customer_export_json(customer_export(rich)))
    assert data["customer"]["birth_date"] == "1991-01-04"
    assert data["ledger"]["saldo"] == "0.00"
    assert data["made_at"].endswith("Z")


def test_the_export_takes_a_bounded_number_of_queries(
    rich: Customer,
    django_assert_max_num_queries: Any,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
) -> None:
    with django_assert_max_num_queries(18):
        customer_export(rich)


def test_an_export_is_audited_by_whom_and_how(
    rich: Customer, balie: User, balie_oost: User
) -> None:
    customer_export_record(customer=rich, way="json", actor=balie)
    customer_export_record(customer=rich, way="pagina", actor=None, actor_name="online:lid")
    rows = AuditEvent.objects.filter(action="customer.exported").order_by("id")
    assert [(r.actor_name, r.data["way"]) for r in rows] == [
        ("balie", "json"),
        ("online:lid", "pagina"),
    ]
    with pytest.raises(ValidationError):
        customer_export_record(customer=rich, way="json", actor=balie_oost)
    assert customer_audit_events(customer=rich).filter(action="customer.exported").count() == 2
