"""The counter with the login service (the KB) down for a while: the library commits first and
its calls to the KB wait in the outbox (bieb.kboutbox); nothing is lost or doubled when the KB
is back. The KB is down for real here: its accounts table is gone from the database
(tests.kb_outbox.kb_down), so every call fails in the database, not in a stand-in."""

import re

import pytest
from django.test import Client

from bieb.customers.models import Customer
from bieb.customers.services import customer_login_account_forget, customer_register
from bieb.kb.models import LoginAccount
from bieb.kboutbox.models import KBCall, KBCallKind, KBCallState
from bieb.kboutbox.services import kb_calls_run_due
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.mail.services import mail_enqueue_due
from bieb.staff.models import User
from tests.counter.conftest import new_customer_form, register_at_counter, walk_to_costs
from tests.customers.factories import details
from tests.kb_outbox import kb_calls_due_now, kb_down
from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db


def _page(client: Client, number: str) -> str:
    return client.get(f"/balie/klanten/{number}/").content.decode()


def test_registrations_while_the_kb_is_down_each_get_one_account_and_one_mail(
    balie_client: Client, smtp_server: SmtpServer
) -> None:
    emails = [f"lid{n}@example.nl" for n in range(3)]
    with kb_down():
        for surname, email in zip(("Aap", "Noot", "Mies"), emails, strict=True):
            saved = register_at_counter(balie_client, email=email, surname=surname)
            assert saved.status_code == 302, saved.content.decode()
            # The dialog says what holds: the customer is in, the account is on its way.
            result = balie_client.get(saved["Location"]).content.decode()
            assert "Inlogaccount wordt aangemaakt" in result
            assert "KB niet bereikbaar, wordt opnieuw geprobeerd (laatste poging" in result
            assert "Genereren van inlogaccount gelukt" not in result
        customers = list(Customer.objects.filter(email__in=emails).order_by("pk"))
        assert len(customers) == 3  # committed at the library
        page = _page(balie_client, customers[0].number)
        assert "KB niet bereikbaar, wordt opnieuw geprobeerd (laatste poging" in page
        assert "U hoeft niets te doen" in page
        # The periodic job stops at the first call that finds the KB down: one try, not three
        # timeouts.
        kb_calls_due_now()
        assert kb_calls_run_due()["failed"] == 1
    calls = KBCall.objects.filter(kind=KBCallKind.ACCOUNT_CREATE)
    assert calls.count() == 3 and all(c.unavailable and c.attempts >= 1 for c in calls)
    assert not OutboxMessage.objects.filter(kind="kb.activation").exists()

    # The KB is back; a minute later the periodic job makes the calls.
    kb_calls_due_now()
    assert kb_calls_run_due()["done"] == 3
    kb_calls_due_now()
    assert kb_calls_run_due() == {"done": 0, "refused": 0, "failed": 0, "waiting": 0}
    for customer in customers:
        customer.refresh_from_db()
        assert LoginAccount.objects.filter(username=customer.number).count() == 1
        assert LoginAccount.objects.get(username=customer.number).pk == customer.login_account_id
        page = _page(balie_client, customer.number)
        assert "wacht op activering tot" in page and "KB niet bereikbaar" not in page
    mail_enqueue_due()
    mail_enqueue_due()  # the mail's own retry job finds nothing more to send
    assert sorted(r[0] for r in smtp_server.recipients) == sorted(emails)
    assert all("Activeer je inlogaccount" in str(m["Subject"]) for m in smtp_server.received)


def test_a_double_click_on_opslaan_while_the_kb_is_down_registers_once(
    balie_client: Client,
) -> None:
    data, _ = walk_to_costs(balie_client, new_customer_form(email="dubbel@example.nl"))
    with kb_down():
        first = balie_client.post("/balie/klanten/nieuw/", {**data, "action": "save"})
        second = balie_client.post("/balie/klanten/nieuw/", {**data, "action": "save"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    customer = Customer.objects.get(email="dubbel@example.nl")
    assert KBCall.objects.filter(customer=customer).count() == 1
    kb_calls_due_now()
    kb_calls_run_due()
    assert LoginAccount.objects.filter(email="dubbel@example.nl").count() == 1
    assert OutboxMessage.objects.filter(to="dubbel@example.nl", kind="kb.activation").count() == 1


def test_vergeet_while_the_kb_is_down_does_not_overtake_the_creation(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType, balie_client: Client
) -> None:
    with kb_down():
        customer = customer_register(
            actor=balie,
            branch=branch_5280,
            details=details(email="vergeet@example.nl"),
            subscription_type=digital_only,
        ).customer
        account_id = customer.login_account_id
        # Tried once already (it may have reached the KB): the forget is queued after it.
        customer_login_account_forget(actor=balie, customer=customer)
    customer.refresh_from_db()
    assert customer.login_account_id is None
    assert "Nieuw inlogaccount genereren" in _page(balie_client, customer.number)
    kb_calls_due_now()
    kb_calls_run_due()
    create, forget = KBCall.objects.filter(customer=customer).order_by("pk")
    assert (create.kind, forget.kind) == (KBCallKind.ACCOUNT_CREATE, KBCallKind.ACCOUNT_FORGET)
    assert create.state == forget.state == KBCallState.DONE
    assert create.finished_at is not None and forget.finished_at is not None
    assert create.finished_at <= forget.finished_at
    assert not LoginAccount.objects.filter(pk=account_id).exists()  # made, then forgotten


@pytest.mark.kb_outbox_manual
def test_vergeet_before_the_kb_was_asked_withdraws_the_creation(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    customer = customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(email="nooit@example.nl"),
        subscription_type=digital_only,
    ).customer
    customer_login_account_forget(actor=balie, customer=customer)
    kb_calls_run_due()
    create, forget = KBCall.objects.filter(customer=customer).order_by("pk")
    assert create.state == KBCallState.CANCELLED and forget.state == KBCallState.DONE
    assert not LoginAccount.objects.filter(email="nooit@example.nl").exists()
    assert not OutboxMessage.objects.filter(to="nooit@example.nl").exists()  # never mailed


def test_asking_for_a_link_code_while_the_kb_is_down_says_so_in_dutch(
    balie_client: Client, tester: Customer
) -> None:
    customer_login_account_forget(actor=tester.created_by, customer=tester)  # type: ignore[arg-type]
    with kb_down():
        response = balie_client.post(
            f"/balie/klanten/{tester.number}/inlogaccount/koppelen/",
            {"once": "", "username": "iemand", "action": "code"},
        )
    assert response.status_code == 400
    text = response.content.decode()
    assert "De KB (de landelijke inlogdienst) is nu niet bereikbaar" in text
    assert "Traceback" not in text


def test_a_refused_link_is_shown_with_what_to_do(balie_client: Client, tester: Customer) -> None:
    customer_login_account_forget(actor=tester.created_by, customer=tester)  # type: ignore[arg-type]
    # The KB refuses (the code is wrong by the time it links: say, used up or expired).
    from bieb.customers.services import customer_login_account_link

    customer_login_account_link(
        actor=tester.created_by,  # type: ignore[arg-type]
        customer=tester,
        username="iemand",
        code="000000",
    )
    page = _page(balie_client, tester.number)
    assert re.search(r"geweigerd door de KB\. Deze code klopt niet", page)
    assert "kies opnieuw &#x27;Bestaand inlogaccount gebruiken&#x27;" in page
    assert "Nieuw inlogaccount genereren" in page  # staff can go on
