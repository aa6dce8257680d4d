"""The KB outbox itself: claims, order, back-off, idempotency after a lost answer, the gauges
and the operators' command."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from bieb.core.metrics import SOURCES
from bieb.core.periodic import JOBS, retry_delay
from bieb.customers.models import Customer
from bieb.customers.services import (
    customer_login_account_resend,
    customer_register,
)
from bieb.kb import interface
from bieb.kb.models import LoginAccount
from bieb.kboutbox.models import KBCall, KBCallKind, KBCallState
from bieb.kboutbox.services import (
    kb_call_claim,
    kb_call_run,
    kb_calls_prune,
    kb_calls_run_due,
)
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.factories import details
from tests.kb_outbox import kb_calls_due_now, kb_down

pytestmark = pytest.mark.django_db


def _register(balie: User, branch: Branch, subscription: SubscriptionType, email: str) -> Customer:
    surname = email.split("@")[0].capitalize()  # another customer each, not a likely duplicate
    return customer_register(
        actor=balie,
        branch=branch,
        details=details(email=email, surname=surname),
        subscription_type=subscription,
    ).customer


def test_the_retry_waits_grow_to_an_hour() -> None:
    waits = [retry_delay(attempts=n) for n in (1, 2, 3, 7, 8, 50)]
    assert waits[:3] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert waits[3:] == [dt.timedelta(hours=1)] * 3  # 64 minutes and more: an hour


@pytest.mark.kb_outbox_manual
def test_an_answer_lost_on_the_way_back_makes_no_second_account_or_mail(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    customer = _register(balie, branch_5280, digital_only, "verloren@example.nl")
    call = KBCall.objects.get(customer=customer, kind=KBCallKind.ACCOUNT_CREATE)
    # A worker claims the call and the KB makes the account; then the worker dies before it
    # hears the answer (its lease runs out, the call still "running").
    assert kb_call_claim(call_id=call.pk)
    interface.create_account(
        email="verloren@example.nl",
        membership=_membership_of(customer),
        actor="balie",
        account_id=customer.login_account_id,
    )
    KBCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now() - dt.timedelta(1))
    kb_calls_run_due()
    call.refresh_from_db()
    assert call.state == KBCallState.DONE and call.attempts == 2
    assert LoginAccount.objects.filter(email="verloren@example.nl").count() == 1
    assert OutboxMessage.objects.filter(kind="kb.activation", to="verloren@example.nl").count() == 1


def _membership_of(customer: Customer) -> interface.MembershipData:
    from bieb.customers.year import membership_data

    return membership_data(customer.memberships.select_related("library").get())


@pytest.mark.kb_outbox_manual
def test_one_customers_calls_run_in_order_and_another_customer_is_not_held_up(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    first = _register(balie, branch_5280, digital_only, "eerste@example.nl")
    _register(balie, branch_5280, digital_only, "tweede@example.nl")
    create = KBCall.objects.get(customer=first, kind=KBCallKind.ACCOUNT_CREATE)
    resend = KBCall.objects.create(
        kind=KBCallKind.ACTIVATION_RESEND,
        library=first.library,
        customer=first,
        ordering_key=f"customer:{first.pk}",
        payload={"account_id": str(first.login_account_id), "deadline_before": ""},
        next_attempt_at=timezone.now(),
    )
    # The first customer's creation waits for a retry: their resend may not overtake it.
    KBCall.objects.filter(pk=create.pk).update(
        attempts=1, next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    assert not kb_call_claim(call_id=resend.pk)
    counts = kb_calls_run_due()
    assert counts["waiting"] == 1 and counts["done"] >= 1  # the second customer's creation
    assert LoginAccount.objects.filter(email="tweede@example.nl").exists()
    resend.refresh_from_db()
    assert resend.state == KBCallState.PENDING and resend.attempts == 0
    # Its turn comes: the creation runs, then the resend behind it, in one go.
    KBCall.objects.filter(pk=create.pk).update(next_attempt_at=timezone.now())
    kb_call_run(call_id=create.pk)
    resend.refresh_from_db()
    assert resend.state == KBCallState.REFUSED  # the KB's cooldown: the mail went a moment ago
    assert "net verstuurd" in resend.last_error


@pytest.mark.kb_outbox_manual
def test_a_retried_resend_whose_first_attempt_got_through_sends_no_second_mail(
    tester_account: Customer, balie: User
) -> None:
    customer = tester_account
    kb_calls_run_due()  # the account is made
    # Long enough after the first mail for the KB's cooldown.
    OutboxMessage.objects.filter(kind="kb.activation").update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )
    call = customer_login_account_resend(actor=balie, customer=customer)
    assert call.payload["deadline_before"]  # as the KB said when staff asked
    with kb_down():
        kb_calls_run_due()  # the first attempt fails ...
    call.refresh_from_db()
    assert call.state == KBCallState.PENDING and call.unavailable and call.attempts == 1
    # ... but the KB had made the resend after all; its answer was lost.
    interface.resend_activation(account_id=customer.login_account_id, actor="balie")
    mails = OutboxMessage.objects.filter(kind="kb.activation").count()
    kb_calls_due_now()
    kb_calls_run_due()
    call.refresh_from_db()
    assert call.state == KBCallState.DONE and call.result == {"earlier_attempt": True}
    assert OutboxMessage.objects.filter(kind="kb.activation").count() == mails


@pytest.fixture
def tester_account(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    return _register(balie, branch_5280, digital_only, "tester@example.nl")


def test_the_gauges_count_pending_retrying_and_refused(
    tester_account: Customer, balie: User
) -> None:
    def read(name: str) -> dict[tuple[str, ...], float]:
        return dict(SOURCES[name].read())

    assert read("bieb_kb_outbox_calls") == {("pending",): 0, ("retrying",): 0, ("refused",): 0}
    with kb_down():
        customer_login_account_resend(actor=balie, customer=tester_account)
    assert read("bieb_kb_outbox_calls")[("pending",)] == 1
    assert read("bieb_kb_outbox_calls")[("retrying",)] == 1
    assert read("bieb_kb_outbox_oldest_pending_seconds")[()] >= 0
    kb_calls_due_now()
    kb_calls_run_due()  # refused: the activation mail went less than a minute ago
    assert read("bieb_kb_outbox_calls") == {("pending",): 0, ("retrying",): 0, ("refused",): 1}
    assert read("bieb_kb_outbox_oldest_pending_seconds") == {(): 0}


def test_the_command_shows_stuck_calls_and_makes_them_on_request(
    tester_account: Customer, balie: User
) -> None:
    with kb_down():
        call = customer_login_account_resend(actor=balie, customer=tester_account)
    KBCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    out = io.StringIO()
    call_command("kboutbox", stdout=out)
    line = next(row for row in out.getvalue().splitlines() if row.startswith(f"{call.pk}\t"))
    assert "activation_resend\tpending\tattempts=1" in line
    assert "Error" in line  # the database's error, as the KB's failure
    out = io.StringIO()
    call_command("kboutbox", "--retry", str(call.pk), "--run", stdout=out)
    call.refresh_from_db()
    assert call.state != KBCallState.PENDING  # made (refused: the cooldown)
    assert f"{call.pk}: due now" in out.getvalue()


def test_the_retry_job_is_registered_and_old_calls_are_pruned(tester_account: Customer) -> None:
    assert "kb_outbox_retry" in JOBS and "kb_outbox_prune" in JOBS
    done = KBCall.objects.filter(state=KBCallState.DONE)
    assert done.exists()
    done.update(finished_at=timezone.now() - dt.timedelta(days=29))
    assert kb_calls_prune() == {"done": 0, "refused": 0}
    done.update(finished_at=timezone.now() - dt.timedelta(days=31))
    assert kb_calls_prune()["done"] >= 1 and not done.exists()
