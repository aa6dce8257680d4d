"""The counter's "Inzage" (the customer's export for a subject access request) and "Historie"
(the audit rows about the customer): for the desk's own library only, each look audited."""

import json

import pytest
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.audit.services import audit_record
from bieb.counter.inzage import HISTORY_PER_PAGE
from bieb.customers.models import Customer
from bieb.staff.models import User

pytestmark = pytest.mark.django_db


def test_inzage_shows_everything_and_is_audited(
    balie_client: Client, balie: User, tester: Customer, oost_customer: Customer
) -> None:
    response = balie_client.get(f"/balie/klanten/{tester.number}/inzage/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Inzage" in text and "Mw. E.B. Tester" in text and "04-01-1991" in text
    assert "0141 Digital only" in text and "Boekingen" in text and "Historie" in text
    assert "Ingeschreven" in text  # the registration's audit row
    assert oost_customer.number not in text and "Verhuizer" not in text
    assert f'href="/balie/klanten/{tester.number}/inzage/json/"' in text

    download = balie_client.get(f"/balie/klanten/{tester.number}/inzage/json/")
    assert download["Content-Disposition"] == (
        f'attachment; filename="inzage-bind-{tester.number}.json"'
    )
    data = json.loads(download.content)
    assert data["customer"]["number"] == tester.number
    assert oost_customer.number not in download.content.decode()

    rows = AuditEvent.objects.filter(action="customer.exported").order_by("id")
    assert [(r.actor_id, r.data["way"], r.object_id) for r in rows] == [
        (balie.pk, "pagina", str(tester.pk)),
        (balie.pk, "json", str(tester.pk)),
    ]


def test_another_librarys_customer_is_not_found_and_nothing_is_audited(
    balie_client: Client, oost_customer: Customer
) -> None:
    for path in ["inzage/", "inzage/json/", "historie/"]:
        response = balie_client.get(f"/balie/klanten/{oost_customer.number}/{path}")
        assert response.status_code == 404, path
        assert "Verhuizer" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_not_logged_in_is_sent_to_the_counters_login(client: Client, tester: Customer) -> None:
    response = client.get(f"/balie/klanten/{tester.number}/historie/")
    assert response.status_code == 302 and "/balie/inloggen/" in response["Location"]


def test_historie_lists_the_customers_rows_newest_first_a_page_at_a_time(
    balie_client: Client, balie: User, tester: Customer, oost_customer: Customer
) -> None:
    for i in range(HISTORY_PER_PAGE + 5):
        audit_record(
            actor=balie,
            action="customer.updated",
            library=tester.library,
            target=tester,
            data={"fields": [f"veld{i}"]},
        )
    membership = tester.memberships.get()
    audit_record(
        actor=None,
        actor_name="online:e.b.tester",
        action="membership.cancelled",
        library=tester.library,
        target=membership,
        data={"reason": "prijs"},
    )
    first = balie_client.get(f"/balie/klanten/{tester.number}/historie/")
    text = first.content.decode()
    assert first.status_code == 200
    assert text.index("Abonnement opgezegd") < text.index("Persoonsgegevens gewijzigd")
    assert "online:e.b.tester" in text and "reden: prijs" in text
    assert f"veld{HISTORY_PER_PAGE + 4}" in text and "veld0<" not in text
    assert "Pagina 1 van 2" in text
    second = balie_client.get(f"/balie/klanten/{tester.number}/historie/?pagina=2")
    rest = second.content.decode()
    assert "velden: veld0<" in rest and "Ingeschreven" in rest
    assert "Verhuizer" not in text + rest and oost_customer.number not in text + rest


def test_the_customer_page_leads_to_inzage_and_historie(
    balie_client: Client, tester: Customer
) -> None:
    text = balie_client.get(f"/balie/klanten/{tester.number}/").content.decode()
    assert f'href="/balie/klanten/{tester.number}/inzage/">Inzage</a>' in text
    assert f'href="/balie/klanten/{tester.number}/historie/">Historie</a>' in text


def test_historie_shows_the_values_in_the_words_staff_use(
    balie_client: Client, balie: User, tester: Customer
) -> None:
    """Field names, payment methods and states, dates and yes/no as staff read them, not as
    the code stores them (house_number, pin, awaiting_payment, 2027-05-31, True)."""
    membership = tester.memberships.get()
    for action, target, data in [
        ("customer.updated", tester, {"fields": ["house_number", "email"]}),
        ("ledger.payment_booked", tester, {"amount": "42.00", "method": "pin"}),
        (
            "membership.status_changed",
            membership,
            {"from": "actief", "to": "wacht_op_betaling", "on": "2027-05-31"},
        ),
        ("membership.cancelled", membership, {"at_once": True}),
    ]:
        audit_record(actor=balie, action=action, library=tester.library, target=target, data=data)
    text = balie_client.get(f"/balie/klanten/{tester.number}/historie/").content.decode()
    assert "velden: huisnummer, e-mail" in text
    assert "bedrag: € 42,00; betaalwijze: pin" in text
    assert "van: actief; naar: wacht op betaling; op: 31-05-2027" in text
    assert "per direct: ja" in text
    inzage = balie_client.get(f"/balie/klanten/{tester.number}/inzage/").content.decode()
    assert "velden: huisnummer, e-mail" in inzage and "op: 31-05-2027" in inzage
