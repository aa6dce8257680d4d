"""The renewal mail's link paid by direct debit: an electronic mandate with its consent kept as
evidence, a debit on the next collection day, a pre-notification mail; once, in Dutch."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from bieb.customers.models import MembershipPeriod, PeriodState
from bieb.debits.models import Debit, DebitState, Mandate, MandateKind
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.payments.year import at, member_registered, renewal_link

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 5, 3)


@pytest.fixture
def member(balie: User, branch_5280: Branch, digital_only: SubscriptionType):  # type: ignore[no-untyped-def]
    return member_registered(balie, branch_5280, digital_only)


@pytest.fixture
def debit_url(member) -> str:  # type: ignore[no-untyped-def]
    return renewal_link(member) + "incasso/"


def _post(client: Client, url: str, **data: str) -> object:
    values = {"iban": "NL91 ABNA 0417 1643 00", "holder_name": "E.B. Tester", "consent": "ja"}
    values.update(data)
    with time_machine.travel(at(DAY)):
        return client.post(url, values, REMOTE_ADDR="192.0.2.8", HTTP_USER_AGENT="Telefoon")


def test_the_pay_page_offers_direct_debit_and_the_form_names_creditor_and_reference(
    client: Client, member, debit_url: str
) -> None:
    with time_machine.travel(at(DAY)):
        pay = client.get(debit_url.removesuffix("incasso/"))
        page = client.get(debit_url).content.decode()
    assert "Betaal met automatische incasso" in pay.content.decode()
    assert "Betalen met automatische incasso" in page and "€ 42,00" in page
    assert "NL69ZZZ123456780000" in page and f"{member.number}-1" in page
    assert "Bibliotheken Bind" in page


def test_a_vast_offer_renewed_with_a_mandate_and_a_debit_once(
    client: Client, member, debit_url: str
) -> None:
    first = _post(client, debit_url)
    again = _post(client, debit_url)  # a double click

    assert first.status_code == again.status_code == 302  # type: ignore[attr-defined]
    (mandate,) = Mandate.objects.all()
    assert (mandate.kind, mandate.iban, mandate.holder_name) == (
        MandateKind.ONLINE,
        "NL91ABNA0417164300",
        "E.B. Tester",
    )
    assert mandate.consent_ip == "192.0.2.8" and mandate.consent_user_agent == "Telefoon"
    assert "NL69ZZZ123456780000" in mandate.consent_text and mandate.reference in (
        mandate.consent_text
    )
    (debit,) = Debit.objects.all()
    period = MembershipPeriod.objects.get(pk=debit.period_id)
    assert period.state == PeriodState.BOOKED  # renewed by choosing the debit
    assert (debit.amount, debit.state, debit.collection_date) == (
        Decimal("42.00"),
        DebitState.PLANNED,
        dt.date(2025, 6, 1),  # the collection day after 14 days' notice, from 1 June
    )
    (mail,) = OutboxMessage.objects.filter(kind="debits.prenotification")
    assert "€ 42,00" in mail.text_body and "01-06-2025" in mail.text_body
    assert mandate.reference in mail.text_body and "NL91ABNA •••• 4300" in mail.text_body
    with time_machine.travel(at(DAY)):
        done = client.get(debit_url).content.decode()
    assert "Automatische incasso geregeld" in done and "01-06-2025" in done


def test_what_is_wrong_is_said_and_what_was_typed_is_kept(
    client: Client, member, debit_url: str
) -> None:
    response = _post(client, debit_url, iban="NL91 ABNA 0417 1643 01", consent="")
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Geef toestemming voor de automatische incasso." in page
    assert 'value="NL91 ABNA 0417 1643 01"' in page
    assert not Mandate.objects.exists() and not Debit.objects.exists()

    response = _post(client, debit_url, iban="NL91 ABNA 0417 1643 01")
    assert "controlegetal" in response.content.decode()  # type: ignore[attr-defined]
    assert not Mandate.objects.exists()
    period = MembershipPeriod.objects.get(membership__customer=member, start=dt.date(2025, 6, 1))
    assert period.state == PeriodState.OFFERED  # nothing renewed on an error


def test_a_library_without_direct_debit_says_so(
    client: Client, bind: Library, member, debit_url: str
) -> None:
    Library.objects.filter(pk=bind.pk).update(creditor_id="", creditor_iban="")
    with time_machine.travel(at(DAY)):
        page = client.get(debit_url).content.decode()
        pay = client.get(debit_url.removesuffix("incasso/")).content.decode()
    assert "Automatische incasso kan bij deze bibliotheek (nog) niet" in page
    assert "Betaal met automatische incasso" not in pay
