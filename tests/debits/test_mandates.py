"""Mandates: made with a stable reference, amended on a new IBAN, withdrawn, lapsed after 36
months unused, blocked and renewed; each change in the history and the audit."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bieb.audit.models import AuditEvent
from bieb.debits.models import Debit, DebitState, Mandate, MandateKind, MandateState
from bieb.debits.services import (
    Consent,
    mandate_amend,
    mandate_block,
    mandate_consent_text,
    mandate_create,
    mandate_reactivate,
    mandate_withdraw,
    mandates_lapse,
)
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.year import member, on

pytestmark = pytest.mark.django_db

IBAN = "NL91ABNA0417164300"
NEW_IBAN = "NL20INGB0001234567"


def _mandate(balie: User, customer: object, library: Library, **changes: object) -> Mandate:
    values: dict[str, object] = {
        "library": library,
        "customer": customer,
        "iban": "nl91 abna 0417 1643 00",
        "holder_name": "E.B. Tester",
        "signed_on": dt.date(2026, 6, 1),
        "kind": MandateKind.COUNTER,
        "actor": balie,
    }
    values.update(changes)
    return mandate_create(**values)  # type: ignore[arg-type]


@pytest.fixture
def customer(balie: User, branch_5280: Branch, adult: SubscriptionType) -> object:
    return member(balie, branch_5280, adult, dt.date(2026, 6, 1)).customer


def test_a_counter_mandate_gets_a_stable_reference_and_a_double_click_makes_one(
    bind: Library, balie: User, customer: object
) -> None:
    with on(dt.date(2026, 6, 2)):
        first = _mandate(balie, customer, bind)
        again = _mandate(balie, customer, bind)

    assert first.pk == again.pk
    assert first.reference == f"{customer.number}-1"  # type: ignore[attr-defined]
    assert (first.iban, first.bic, first.state) == (IBAN, "ABNANL2A", MandateState.ACTIVE)
    assert [e.action for e in first.events.all()] == ["aangemaakt"]
    assert AuditEvent.objects.filter(action="mandate.created").count() == 1


def test_what_is_wrong_is_said_per_field_in_dutch(
    bind: Library, balie: User, customer: object
) -> None:
    with on(dt.date(2026, 6, 2)), pytest.raises(ValidationError) as error:
        _mandate(
            balie,
            customer,
            bind,
            iban="NL91ABNA0417164301",
            holder_name=" ",
            signed_on=dt.date(2026, 6, 3),
        )
    messages = error.value.message_dict
    assert "controlegetal" in messages["iban"][0]
    assert messages["holder_name"] == ["Vul de naam van de rekeninghouder in."]
    assert "toekomst" in messages["signed_on"][0]
    assert not Mandate.objects.exists()


def test_a_library_without_an_incassant_id_takes_no_mandates(
    oost: Library, balie_oost: User, customer: object
) -> None:
    with pytest.raises(ValidationError, match="Incassant-ID"):
        _mandate(balie_oost, customer, oost)


def test_an_online_mandate_keeps_its_consent_as_evidence(bind: Library, customer: object) -> None:
    reference = f"{customer.number}-1"  # type: ignore[attr-defined]
    text = mandate_consent_text(library=bind, reference=reference)
    assert "NL69ZZZ123456780000" in text and reference in text and bind.name in text
    with on(dt.date(2026, 6, 2)) as clock:
        at = dt.datetime.now(dt.UTC)
        mandate = mandate_create(
            library=bind,
            customer=customer,  # type: ignore[arg-type]
            iban=IBAN,
            holder_name="E.B. Tester",
            signed_on=dt.date(2026, 6, 2),
            kind=MandateKind.ONLINE,
            actor=None,
            actor_name="online",
            consent=Consent(text=text, at=at, ip="192.0.2.7", user_agent="Mobile Safari"),
        )
        assert clock
    assert mandate.reference == reference
    assert (mandate.consent_text, mandate.consent_ip) == (text, "192.0.2.7")
    with pytest.raises(ValidationError, match="toestemming"):
        mandate_create(
            library=bind,
            customer=customer,  # type: ignore[arg-type]
            iban=IBAN,
            holder_name="E.B. Tester",
            signed_on=dt.date(2026, 6, 2),
            kind=MandateKind.ONLINE,
            actor=None,
            consent=None,
        )


def test_a_new_iban_is_an_amendment_that_keeps_the_original_until_a_debit_carries_it(
    bind: Library, balie: User, customer: object
) -> None:
    with on(dt.date(2026, 6, 2)):
        mandate = _mandate(balie, customer, bind)
        mandate = mandate_amend(mandate=mandate, iban=NEW_IBAN, actor=balie)
        mandate = mandate_amend(mandate=mandate, iban="NL44RABO0123456789", actor=balie)

    assert (mandate.iban, mandate.original_iban, mandate.reference) == (
        "NL44RABO0123456789",
        IBAN,  # the account the bank knows: the first one
        f"{customer.number}-1",  # type: ignore[attr-defined]
    )
    assert mandate.amended
    assert [e.action for e in mandate.events.all()] == ["aangemaakt", "gewijzigd", "gewijzigd"]
    # Changed back before any debit: nothing to tell the bank.
    mandate = mandate_amend(mandate=mandate, iban=IBAN, actor=balie)
    assert not mandate.amended


def test_withdrawn_blocked_and_renewed(bind: Library, balie: User, customer: object) -> None:
    with on(dt.date(2026, 6, 2)):
        mandate = _mandate(balie, customer, bind)
        blocked = mandate_block(mandate=mandate, description="MD06", actor_name="incasso")
        assert blocked.state == MandateState.BLOCKED
        with pytest.raises(ValidationError):
            mandate_amend(mandate=blocked, iban=NEW_IBAN, actor=balie)
        renewed = mandate_reactivate(mandate=blocked, actor=balie)
        assert renewed.state == MandateState.ACTIVE
        withdrawn = mandate_withdraw(mandate=renewed, actor=balie, reason="per brief")
    assert withdrawn.state == MandateState.WITHDRAWN
    assert [e.action for e in withdrawn.events.all()] == [
        "aangemaakt",
        "geblokkeerd",
        "actief",
        "ingetrokken",
    ]
    # A new mandate after the withdrawn one gets the next reference.
    with on(dt.date(2026, 7, 1)):
        second = _mandate(balie, customer, bind, signed_on=dt.date(2026, 7, 1))
    assert second.reference == f"{customer.number}-2"  # type: ignore[attr-defined]


def test_a_mandate_unused_for_36_months_lapses_and_its_planned_debits_with_it(
    bind: Library, balie: User, customer: object
) -> None:
    with on(dt.date(2026, 6, 2)):
        used = _mandate(balie, customer, bind)
    Mandate.objects.filter(pk=used.pk).update(last_collected_on=dt.date(2027, 2, 1))
    planned = Debit.objects.create(
        library=bind,
        mandate=used,
        customer=used.customer,
        amount="64.50",
        description="Abonnement",
        collection_date=dt.date(2030, 3, 1),
        end_to_end_id="BIEBTEST1",
    )

    assert mandates_lapse(today=dt.date(2030, 2, 1)) == 0  # 36 months to the day: not yet
    assert mandates_lapse(today=dt.date(2030, 2, 2)) == 1
    used.refresh_from_db()
    planned.refresh_from_db()
    assert used.state == MandateState.LAPSED
    assert planned.state == DebitState.CANCELLED
    assert mandates_lapse(today=dt.date(2030, 2, 3)) == 0
