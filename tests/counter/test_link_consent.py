"""'Bestaand inlogaccount gebruiken' needs the holder's consent: the login service mails a
one-time code to the account's own address, and staff type it at the desk. Until then
nothing tells staff whether the account exists, is activated, or what its e-mail is."""

import pytest
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer
from bieb.kb.models import (
    AccountEvent,
    AccountState,
    LinkCode,
    LinkedMembership,
    LoginAccount,
)
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.counter.conftest import focused, hidden, new_customer_form, walk_to_costs
from tests.counter.test_customer import once, url
from tests.customers.factories import mailed_link_code

pytestmark = pytest.mark.django_db

SENT = "Als dit inlogaccount bestaat, is er een code naar het e-mailadres van het account gestuurd"
NEW = "/balie/klanten/nieuw/"


@pytest.fixture
def mover(oost_customer: Customer) -> Customer:
    """A member of the other library with an activated account, moving to Bind."""
    LoginAccount.objects.filter(username=oost_customer.number).update(state=AccountState.ACTIVE)
    return oost_customer


def without_account(client: Client, customer: Customer) -> str:
    page = client.get(url(customer)).content.decode()
    client.post(url(customer, "inlogaccount/vergeten/"), {"once": once(page)})
    return client.get(url(customer)).content.decode()


def test_the_customer_page_reveals_nothing_and_links_only_with_the_mailed_code(
    balie_client: Client, tester: Customer, mover: Customer
) -> None:
    page = without_account(balie_client, tester)
    answers = {}
    for name in [mover.number, "bestaat-niet", tester.number + "9"]:
        response = balie_client.post(
            url(tester, "inlogaccount/koppelen/"), {"once": once(page), "username": name}
        )
        assert response.status_code == 200
        content = response.content.decode()
        assert SENT in content
        assert "verhuizer@example.nl" not in content and "geactiveerd" not in content
        assert focused(response) == "id_link_code"
        answers[name] = content.replace(name, "NAAM")
    # the answer is the same page whether or not the account exists
    assert answers["bestaat-niet"].count(SENT) == answers[mover.number].count(SENT)
    assert OutboxMessage.objects.filter(kind="kb.link_code").count() == 1
    mail = OutboxMessage.objects.get(kind="kb.link_code")
    assert mail.to == "verhuizer@example.nl" and "Bibliotheken Bind" in mail.text_body

    wrong = balie_client.post(
        url(tester, "inlogaccount/koppelen/"),
        {"once": once(page), "username": mover.number, "code": "000000", "code_sent": "1"},
    )
    assert wrong.status_code == 400
    assert "code klopt niet" in wrong.content.decode()
    assert not LinkedMembership.objects.filter(customer_number=tester.number).exists()

    code = mailed_link_code("verhuizer@example.nl")
    linked = balie_client.post(
        url(tester, "inlogaccount/koppelen/"),
        {"once": once(page), "username": mover.number, "code": code, "code_sent": "1"},
    )
    assert linked.status_code == 302
    tester.refresh_from_db()
    assert tester.login_account_id == mover.login_account_id
    content = balie_client.get(url(tester)).content.decode()
    assert "Koppelen van inlogaccount gelukt" in content
    assert AuditEvent.objects.filter(action="login_account.link_code_requested").count() == 3
    assert AccountEvent.objects.filter(event="link_code.requested").count() == 3
    assert AccountEvent.objects.filter(event="link_code.failed").count() == 1

    # the code works once
    page = without_account(balie_client, tester)
    again = balie_client.post(
        url(tester, "inlogaccount/koppelen/"),
        {"once": once(page), "username": mover.number, "code": code, "code_sent": "1"},
    )
    assert again.status_code == 400 and "code klopt niet" in again.content.decode()


def test_a_code_dies_after_five_wrong_tries_and_requests_are_limited(
    balie_client: Client, tester: Customer, mover: Customer, balie: User
) -> None:
    page = without_account(balie_client, tester)
    link = url(tester, "inlogaccount/koppelen/")
    balie_client.post(link, {"once": once(page), "username": mover.number})
    code = mailed_link_code("verhuizer@example.nl")
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    for _ in range(5):
        data = {"once": once(page), "username": mover.number, "code": wrong, "code_sent": "1"}
        assert balie_client.post(link, data).status_code == 400
    late = balie_client.post(
        link, {"once": once(page), "username": mover.number, "code": code, "code_sent": "1"}
    )
    assert late.status_code == 400 and "code klopt niet" in late.content.decode()
    # per account: a few codes an hour, then a Dutch refusal, for known and unknown names alike
    for name in [mover.number, "bestaat-niet"]:
        answers = [
            balie_client.post(link, {"once": once(page), "username": name}).content.decode()
            for _ in range(4)
        ]
        assert "te veel codes" in answers[-1]
    assert OutboxMessage.objects.filter(kind="kb.link_code").count() == 3


def test_the_new_customer_flow_asks_the_code_and_registers_only_with_it(
    balie_client: Client, mover: Customer
) -> None:
    form = new_customer_form(surname="Verhuizer", email="nieuw@example.nl", reached="2")
    asked = balie_client.post(NEW, {**form, "choose_account": "bestaand"})
    assert focused(asked) == "id_existing_username"
    for name in ["bestaat-niet", mover.number]:
        sent = balie_client.post(NEW, {**form, "account": "bestaand", "existing_username": name})
        assert sent.status_code == 200
        assert SENT in sent.content.decode() and "verhuizer@example.nl" not in sent.content.decode()
        assert focused(sent) == "id_link_code"
        assert hidden(sent, "code_sent_to") == name
    assert OutboxMessage.objects.filter(kind="kb.link_code").count() == 1

    filled = {**form, "account": "bestaand", "existing_username": mover.number}
    filled["code_sent_to"] = mover.number
    data, _ = walk_to_costs(balie_client, {**filled, "link_code": "123456"})
    assert OutboxMessage.objects.filter(kind="kb.link_code").count() == 1  # not sent again
    wrong = balie_client.post(NEW, {**data, "action": "save"})
    assert wrong.status_code == 400 and "code klopt niet" in wrong.content.decode()
    assert focused(wrong) == "id_link_code"
    assert not Customer.objects.filter(library__code="bind").exists()
    # the wrong try counts, although the registration it was part of was not saved
    assert LinkCode.objects.get().failures == 1

    code = mailed_link_code("verhuizer@example.nl")
    saved = balie_client.post(NEW, {**data, "link_code": code, "action": "save"})
    assert saved.status_code == 302 and saved["Location"].endswith("?inlogaccount=bestaand")
    customer = Customer.objects.get(library__code="bind")
    assert customer.login_account_id == mover.login_account_id
    done = balie_client.get(saved["Location"]).content.decode()
    assert "Koppelen van inlogaccount gelukt" in done
