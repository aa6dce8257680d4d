"""Direct debit for the following years, chosen in the online sign-up: offered only where the
library collects and the subscription renews by itself; the electronic mandate (with the
consent's evidence) is made with the customer once the first year is paid, once; the done page
and the welcome mail say so; the next renewal run plans a debit under it."""

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from lxml import etree

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer, MembershipStatus
from bieb.debits.collect import debits_make_files
from bieb.debits.models import Debit, DebitState, Mandate, MandateKind, SequenceType
from bieb.debits.pain import schema
from bieb.libraries.models import Library
from bieb.mail.models import OutboxMessage
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from bieb.signup.models import Signup
from bieb.staff.models import User
from tests.customers.year import on, run
from tests.signup.factories import active_account, raw_details
from tests.signup.test_steps import local, text, with_account

pytestmark = pytest.mark.django_db

D = dt.date
DAY = D(2026, 6, 10)
CHOICE = "Ja, betaal de volgende jaren met automatische incasso"
IBAN = "NL91 ABNA 0417 1643 00"


@pytest.fixture
def member(demo: None) -> str:
    return active_account("e.b.tester").username


def key_of(client: Client) -> uuid.UUID:
    return uuid.UUID(client.session["signup:bind"]["key"])


def at_payment_step(client: Client, subscription: str = "0110") -> None:
    """Steps 1-3 done: Volwassen Compleet (renews by itself) unless told otherwise."""
    with_account(client, subscription=subscription)
    response = client.post("/word-lid/bind/gegevens/", raw_details())
    assert response["Location"] == "/word-lid/bind/betalen/"


def betalen(client: Client, **data: str) -> Any:
    values = {"incasso": "ja", "iban": IBAN, "holder_name": "E.B. Tester", "consent": "ja"}
    values.update(data)
    return client.post(
        "/word-lid/bind/betalen/",
        {k: v for k, v in values.items() if v is not None},
        REMOTE_ADDR="192.0.2.8",
        HTTP_USER_AGENT="Telefoon/1.0",
    )


def pay(client: Client, checkout_url: str) -> None:
    """'Betaald' on the demo payment page, and back at the library."""
    back = local(client.post(local(checkout_url), {"uitkomst": "betaald"})["Location"])
    assert client.get(back)["Location"] == "/word-lid/bind/klaar/"


def plain(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def test_the_choice_names_creditor_incassant_id_and_the_mandates_reference(
    client: Client, member: str
) -> None:
    at_payment_step(client)
    page = text(client.get("/word-lid/bind/betalen/"))
    reference = f"W{key_of(client).hex.upper()}"
    assert CHOICE in page
    # not chosen by default, and no consent ticked
    assert re.search(r'<input type="checkbox" id="id_incasso"[^>]*checked', page) is None
    assert re.search(r'<input type="checkbox" id="id_consent"[^>]*checked', page) is None
    consent = plain(page)
    assert "toestemming aan Bibliotheken Bind (Incassant-ID NL69ZZZ123456780000)" in consent
    assert f"Machtigingskenmerk: {reference}." in consent
    # the account holder is prefilled with the member's own name
    assert 'name="holder_name" value="E.B. Tester"' in page
    assert ">Betalen</button>" in page


def test_the_mandate_is_made_with_the_customer_and_keeps_the_consents_evidence(
    client: Client, member: str
) -> None:
    at_payment_step(client)
    reference = f"W{key_of(client).hex.upper()}"
    checkout = betalen(client)
    assert "/betalen/demo/demo_" in checkout["Location"]
    # chosen, but nothing is made before the payment succeeds
    assert not Mandate.objects.exists() and not Customer.objects.exists()
    assert Signup.objects.get().mandate["iban"] == "NL91ABNA0417164300"

    pay(client, checkout["Location"])
    customer = Customer.objects.get()
    mandate = Mandate.objects.get()
    assert (mandate.customer, mandate.kind, mandate.reference) == (
        customer,
        MandateKind.ONLINE,
        reference,
    )
    assert (mandate.iban, mandate.bic, mandate.holder_name) == (
        "NL91ABNA0417164300",
        "ABNANL2A",  # derived from the Dutch IBAN
        "E.B. Tester",
    )
    assert mandate.consent_ip == "192.0.2.8" and mandate.consent_user_agent == "Telefoon/1.0"
    assert mandate.consent_at is not None and mandate.signed_on == mandate.consent_at.date()
    assert "Bibliotheken Bind (Incassant-ID NL69ZZZ123456780000)" in mandate.consent_text
    assert f"Machtigingskenmerk: {reference}." in mandate.consent_text
    assert list(mandate.events.values_list("action", flat=True)) == ["aangemaakt"]
    audit = AuditEvent.objects.get(action="mandate.created")
    assert audit.actor_name == f"online:{customer.number}" and audit.data["mandate"] == reference
    assert customer.memberships.get().status == MembershipStatus.ACTIVE
    assert Signup.objects.get().mandate == {}  # the mandate row holds it now

    done = plain(text(client.get("/word-lid/bind/klaar/")))
    assert "De volgende jaren betaal je met automatische incasso" in done
    assert reference in done and "NL91ABNA •••• 4300" in done and "NL69ZZZ123456780000" in done
    welcome = OutboxMessage.objects.get(kind="signup.welcome").text_body
    assert "De volgende jaren betaal je je abonnement met automatische incasso" in welcome
    assert f"Machtigingskenmerk: {reference}" in welcome
    assert "Incassant-ID:       NL69ZZZ123456780000" in welcome
    assert "NL91ABNA •••• 4300 (E.B. Tester)" in welcome
    assert "NL91ABNA0417164300" not in welcome  # never the whole account number in a mail


def test_a_member_who_declines_sees_nothing_more_of_it(client: Client, member: str) -> None:
    at_payment_step(client)
    # IBAN and consent as the form sends them, but "Ja, ... automatische incasso" not ticked
    pay(client, betalen(client, incasso=None)["Location"])
    assert Customer.objects.exists() and not Mandate.objects.exists()
    assert Signup.objects.get().mandate == {}
    assert "incasso" not in text(client.get("/word-lid/bind/klaar/")).lower()
    assert "incasso" not in OutboxMessage.objects.get(kind="signup.welcome").text_body.lower()


def test_not_offered_when_the_library_does_not_collect(
    client: Client, member: str, bind: Library
) -> None:
    bind.creditor_id = ""  # no Incassant-ID: the library does not collect
    bind.save()
    at_payment_step(client)
    page = text(client.get("/word-lid/bind/betalen/"))
    assert "incasso" not in page.lower() and ">Betalen</button>" in page
    # a page from before the library stopped: said, and nothing started
    response = betalen(client)
    assert response.status_code == 200
    assert "Automatische incasso kan bij Bibliotheken Bind voor Volwassen Compleet niet" in text(
        response
    )
    assert not Payment.objects.exists()
    pay(client, client.post("/word-lid/bind/betalen/")["Location"])
    assert Customer.objects.exists() and not Mandate.objects.exists()


def test_not_offered_for_a_subscription_that_runs_out(client: Client, member: str) -> None:
    # Digital only is Vast: it ends unless renewed, so nothing is collected "the next years"
    at_payment_step(client, subscription="0141")
    assert "incasso" not in text(client.get("/word-lid/bind/betalen/")).lower()


def test_an_invalid_iban_is_told_in_dutch_and_what_was_typed_stays(
    client: Client, member: str
) -> None:
    at_payment_step(client)
    response = betalen(client, iban="NL91 ABNA 0417 1643 01", holder_name="J. de Rekening")
    page = text(response)
    assert response.status_code == 200
    assert "Het controlegetal van deze IBAN klopt niet; controleer de tekens." in page
    assert 'value="NL91 ABNA 0417 1643 01"' in page and 'value="J. de Rekening"' in page
    assert re.search(r'<input type="checkbox" id="id_incasso"[^>]*checked', page)
    assert re.search(r'<input type="checkbox" id="id_consent"[^>]*checked', page)
    iban = re.search(r'<input type="text" id="id_iban"[^>]*>', page)
    assert iban is not None and 'aria-invalid="true"' in iban.group(0)
    assert "autofocus" in iban.group(0) and 'aria-describedby="id_iban_error"' in iban.group(0)
    assert page.count("autofocus") == 1  # not on "Betalen" as well
    assert not Signup.objects.exists() and not Payment.objects.exists()
    # and the page, opened again, still has it
    again = text(client.get("/word-lid/bind/betalen/"))
    assert 'value="NL91 ABNA 0417 1643 01"' in again and 'value="J. de Rekening"' in again


def test_an_empty_iban_and_holder_are_asked_for(client: Client, member: str) -> None:
    at_payment_step(client)
    page = text(betalen(client, iban="", holder_name=""))
    assert "Vul de IBAN in waarvan afgeschreven wordt." in page
    assert "Vul de naam van de rekeninghouder in." in page
    assert not Payment.objects.exists()


def test_without_consent_ticked_it_is_asked_for(client: Client, member: str) -> None:
    at_payment_step(client)
    response = betalen(client, consent=None)
    page = text(response)
    assert "Geef toestemming voor de automatische incasso." in page
    assert f'value="{IBAN}"' in page
    consent = re.search(r'<input type="checkbox" id="id_consent"[^>]*>', page)
    assert consent is not None and 'aria-invalid="true"' in consent.group(0)
    assert "checked" not in consent.group(0) and "autofocus" in consent.group(0)
    assert not Signup.objects.exists() and not Payment.objects.exists()


def test_a_double_submit_makes_one_payment_and_one_mandate(client: Client, member: str) -> None:
    at_payment_step(client)
    first = betalen(client)
    second = betalen(client)  # double click, or a refresh of the POST
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1 and Signup.objects.count() == 1
    payment = Payment.objects.get()
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    for _ in range(2):  # the provider's webhook, delivered twice
        assert client.post("/betalen/webhook/demo/", {"id": payment.provider_id}).status_code == 200
    assert client.get("/word-lid/bind/")["Location"] == "/word-lid/bind/klaar/"
    assert Customer.objects.count() == 1 and Mandate.objects.count() == 1
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_the_last_betalen_decides_after_a_failed_payment(client: Client, member: str) -> None:
    at_payment_step(client)
    checkout = local(betalen(client)["Location"])
    back = local(client.post(checkout, {"uitkomst": "mislukt"})["Location"])
    assert client.get(back)["Location"] == "/word-lid/bind/betalen/"
    page = text(client.get("/word-lid/bind/betalen/"))
    assert "De betaling is mislukt." in page and f'value="{IBAN}"' in page
    # the member changes their mind: no automatische incasso after all
    pay(client, client.post("/word-lid/bind/betalen/")["Location"])
    assert Customer.objects.exists() and not Mandate.objects.exists()


def test_a_mandate_that_cannot_be_made_leaves_no_customer_either(
    client: Client, member: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_payment_step(client)
    checkout = betalen(client)["Location"]

    def refused(**kwargs: Any) -> None:
        raise ValidationError("Deze machtiging is net al vastgelegd; kijk op de klantpagina.")

    monkeypatch.setattr("bieb.signup.services.mandate_create", refused)
    back = local(client.post(local(checkout), {"uitkomst": "betaald"})["Location"])
    client.get(back)
    # paid, and the problem noted for staff; nothing half: no customer, membership or mandate
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID and "machtiging" in payment.problem
    assert not Customer.objects.exists() and not Mandate.objects.exists()


def test_a_library_that_stopped_collecting_before_the_payment_registers_without(
    client: Client, member: str, bind: Library
) -> None:
    at_payment_step(client)
    checkout = betalen(client)["Location"]
    Library.objects.filter(pk=bind.pk).update(creditor_id="")
    pay(client, checkout)  # paid: registering wins
    assert Customer.objects.exists() and not Mandate.objects.exists()
    assert "incasso" not in text(client.get("/word-lid/bind/klaar/")).lower()


def test_the_next_renewal_run_plans_a_debit_under_the_sign_ups_mandate(
    client: Client, member: str, bind: Library
) -> None:
    with on(DAY):
        at_payment_step(client)
        pay(client, betalen(client)["Location"])
    customer = Customer.objects.get()
    membership = customer.memberships.get()
    assert membership.valid_through == D(2027, 5, 31)
    mandate = Mandate.objects.get()

    # the lead time before "Rechten t/m": the next period is booked and its debit planned
    result = run(bind, D(2027, 5, 2))
    assert result.booked == 1
    debit = Debit.objects.get()
    assert (debit.customer_id, debit.mandate_id, debit.state) == (
        customer.pk,
        mandate.pk,
        DebitState.PLANNED,
    )
    assert (debit.collection_date, debit.amount) == (D(2027, 6, 1), Decimal("64.50"))
    renewal = OutboxMessage.objects.get(to=customer.email, kind="customers.renewal_automatic")
    assert f"Machtigingskenmerk: {mandate.reference}" in renewal.text_body
    assert "/betalen/verlengen/" not in renewal.text_body  # nothing to pay by hand

    # ... and it goes to the bank as a first debit under the sign-up's mandate
    manager = User.objects.get(username="manager")
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
    root = etree.fromstring(batch.xml.encode())
    assert schema().validate(root), schema().error_log
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    assert [e.text for e in root.iterfind(".//p:MndtId", ns)] == [mandate.reference]
    assert [e.text for e in root.iterfind(".//p:SeqTp", ns)] == [SequenceType.FIRST.value]
    assert [e.text for e in root.iterfind(".//p:DtOfSgntr", ns)] == ["2026-06-10"]


def test_behind_a_proxy_the_evidence_has_the_members_own_address(
    client: Client, member: str, settings: Any
) -> None:
    settings.BIEB_TRUSTED_PROXIES = 1
    at_payment_step(client)
    client.post(
        "/word-lid/bind/betalen/",
        {"incasso": "ja", "iban": IBAN, "holder_name": "E.B. Tester", "consent": "ja"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert Signup.objects.get().mandate["consent_ip"] == "198.51.100.7"
