"""Planned debits that go stale: a mandate that stops takes its planned debits with it (and the
member is back on the payment-link reminders); a collection date that passes without a file
makes the daily run plan the debit once more with a new pre-notification, and the second time
let it lapse (vervallen) with a mail that says how to pay; an amount paid otherwise lapses
without a word. The incasso page counts what the run did."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from bieb.customers.models import Membership
from bieb.debits.collect import debits_make_files, end_to_end_id
from bieb.debits.models import Debit, DebitCancelReason, DebitState, Mandate, MandateKind
from bieb.debits.services import mandate_block, mandate_create, mandate_withdraw
from bieb.debits.stale import debits_settle_stale
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.year import mails, member, on, pay_saldo, run

pytestmark = pytest.mark.django_db

D = dt.date
RENEWAL = D(2027, 5, 2)  # the run books the period from 1 June 2027 and plans its debit
FIRST_DATE = D(2027, 6, 1)


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@pytest.fixture
def renewed(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> tuple[Membership, Debit]:
    """A Doorlopend member with a mandate since June 2026, whose next period the run of 2 May
    2027 booked with a debit planned for 1 June 2027 (the renewal mail announced it)."""
    membership = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Incasso")
    with on(D(2026, 6, 1)):
        mandate_create(
            library=bind,
            customer=membership.customer,
            iban="NL91ABNA0417164300",
            holder_name="E.B. Incasso",
            signed_on=D(2026, 6, 1),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    run(bind, RENEWAL)
    debit = Debit.objects.get()
    assert (debit.collection_date, debit.state) == (FIRST_DATE, DebitState.PLANNED)
    return membership, debit


def debit_mails(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=f"debits.{kind}").order_by("id"))


# --- (a) a mandate that stops ----------------------------------------------------------------


def test_a_withdrawn_mandate_lets_its_planned_debit_lapse_and_the_reminders_take_over(
    renewed: tuple[Membership, Debit], bind: Library, balie: User
) -> None:
    membership, debit = renewed
    with on(D(2027, 5, 10)):
        mandate_withdraw(mandate=debit.mandate, actor=balie, reason="per brief")
    debit.refresh_from_db()
    assert (debit.state, debit.cancel_reason) == (
        DebitState.CANCELLED,
        DebitCancelReason.MANDATE_STOPPED,
    )
    assert debit.cancelled_at is not None
    event = Mandate.objects.get().events.latest("id")
    assert event.description == "Machtiging ingetrokken: per brief; 1 geplande incasso vervallen"
    # 14 days after the renewal mail: the first reminder, with the payment link.
    assert run(bind, D(2027, 5, 16)).reminders == 1
    (reminder,) = mails(membership, "reminder_automatic")
    assert "/betalen/verlengen/" in reminder.text_body
    # Nothing stale is left for the run: no file will hold it.
    with on(D(2027, 5, 20)):
        assert debits_make_files(library=bind, actor=balie, today=D(2027, 5, 20)) == []


def test_a_blocked_mandate_lets_its_planned_debit_lapse(
    renewed: tuple[Membership, Debit],
) -> None:
    _membership, debit = renewed
    with on(D(2027, 5, 10)):
        mandate_block(mandate=debit.mandate, description="MD06", actor_name="incasso")
    debit.refresh_from_db()
    assert debit.state == DebitState.CANCELLED


# --- (b) a collection date that passes without a file ----------------------------------------


def test_a_debit_left_out_of_the_files_is_planned_once_more_with_a_new_prenotification(
    renewed: tuple[Membership, Debit], bind: Library, manager: User
) -> None:
    membership, debit = renewed
    # Nobody made the files in May. The run of 1 June (its collection date) plans it again:
    # 14 days' notice, then the 1st of the month.
    run(bind, FIRST_DATE)
    debit.refresh_from_db()
    assert (debit.state, debit.collection_date, debit.replanned) == (
        DebitState.PLANNED,
        D(2027, 7, 1),
        1,
    )
    (mail,) = debit_mails("new_date")
    assert mail.to == membership.customer.email
    text = mail.text_body
    assert "op of rond 01-06-2027 € 64,50 voor je abonnement (01-06-2027 t/m 31-05-2028)" in text
    assert "Nieuwe datum: op of rond 01-07-2027" in text
    assert f"Machtigingskenmerk: {debit.mandate.reference}" in text
    assert "Incassant-ID: NL69ZZZ123456780000" in text
    assert "Incassant: Bibliotheken Bind" in text
    # Still the bank's to collect: no reminder to pay by link.
    assert run(bind, D(2027, 6, 2)).reminders == 0
    assert Debit.objects.get().collection_date == D(2027, 7, 1)  # the run again: nothing new

    # The page says what the run did.
    with on(D(2027, 6, 15)):
        client = Client()
        client.force_login(manager)
        page = client.get("/balie/financieel/incasso/").content.decode()
    assert "is 1 geplande incasso opnieuw gepland, omdat de incassodatum voorbijging" in page

    # Made on time now, it goes into a file for the new date.
    with on(D(2027, 6, 15)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 6, 15))
    assert batch.collection_date == D(2027, 7, 1)
    debit.refresh_from_db()
    assert debit.state == DebitState.IN_FILE


def test_a_second_miss_lets_it_lapse_and_the_member_is_told_how_to_pay(
    renewed: tuple[Membership, Debit], bind: Library, manager: User
) -> None:
    membership, debit = renewed
    run(bind, FIRST_DATE)
    result = run(bind, D(2027, 7, 1))
    debit.refresh_from_db()
    assert (debit.state, debit.cancel_reason) == (
        DebitState.CANCELLED,
        DebitCancelReason.DATE_PASSED,
    )
    (mail,) = debit_mails("cancelled")
    assert mail.subject == "Je automatische incasso bij Bibliotheken Bind gaat niet door"
    assert "op of rond 01-07-2027 € 64,50" in mail.text_body
    assert "/betalen/verlengen/" in mail.text_body
    # Back on the reminders: the first one goes out in the same run.
    assert result.reminders == 1
    assert mails(membership, "reminder_automatic")

    with on(D(2027, 7, 2)):
        client = Client()
        client.force_login(manager)
        page = client.get("/balie/financieel/incasso/").content.decode()
    # (Planned again on 1 June: more than 30 days ago, so no longer counted.)
    assert (
        "De afgelopen 30 dagen is 1 geplande incasso vervallen (de incassodatum ging voorbij "
        "zonder incassobestand: 1)."
    ) in page


def test_an_amount_paid_otherwise_lapses_without_a_mail(
    renewed: tuple[Membership, Debit], bind: Library, balie: User
) -> None:
    membership, debit = renewed
    with on(D(2027, 5, 20)):
        pay_saldo(balie, membership.customer)
    run(bind, FIRST_DATE)
    debit.refresh_from_db()
    assert (debit.state, debit.cancel_reason) == (DebitState.CANCELLED, DebitCancelReason.PAID)
    assert not debit_mails("new_date") and not debit_mails("cancelled")


def test_an_open_amount_debit_is_planned_again_from_today(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2026, 6, 1), pay=False, surname="Open")
    with on(D(2026, 6, 1)):
        mandate = mandate_create(
            library=bind,
            customer=membership.customer,
            iban="NL91ABNA0417164300",
            holder_name="E.B. Open",
            signed_on=D(2026, 6, 1),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    debit = Debit.objects.create(
        library=bind,
        mandate=mandate,
        customer=membership.customer,
        amount=Decimal("10.00"),
        description="Bibliotheken Bind openstaand bedrag",
        collection_date=D(2026, 7, 1),
        end_to_end_id=end_to_end_id(),
    )
    with on(D(2026, 7, 3)):
        settled = debits_settle_stale(library=bind, today=D(2026, 7, 3), actor_name="test")
    assert (settled.replanned, settled.cancelled) == (1, 0)
    debit.refresh_from_db()
    assert debit.collection_date == D(2026, 8, 1)
    (mail,) = debit_mails("new_date")
    assert "op of rond 01-07-2026 € 10,00 automatisch" in mail.text_body
    assert "voor je abonnement" not in mail.text_body
