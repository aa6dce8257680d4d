"""Open amounts the library chooses to collect: who is listed (an active mandate, a saldo the
open debits do not cover), a debit per chosen customer without a period, its pre-notification
and audit row, once (a second click plans nothing), booked and returned like any debit, and no
payment-link reminder while it is open."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer, LedgerKind, LedgerLine, PaymentMethod
from bieb.customers.year import customer_saldo_of
from bieb.debits.collect import batch_mark_sent, debits_make_files, end_to_end_id
from bieb.debits.models import Debit, DebitState, Mandate, MandateKind
from bieb.debits.open_amounts import debits_plan_all_open_amounts, debits_plan_open_amounts
from bieb.debits.returns import returns_import
from bieb.debits.selectors import (
    OpenToCollectTotals,
    debit_batch_totals,
    open_amounts_to_collect,
)
from bieb.debits.services import mandate_create, mandate_withdraw
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.year import link_in, mails, member, on, pay_saldo, run
from tests.debits.camt_files import Tx, document, return_entries

pytestmark = pytest.mark.django_db

D = dt.date
PLAN_DAY = D(2026, 6, 10)  # + 14 days' notice: 24 June; the collection day is the 1st
COLLECTION = D(2026, 7, 1)


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


def with_mandate(customer: Customer, library: Library, actor: User, day: dt.date) -> Mandate:
    with on(day):
        return mandate_create(
            library=library,
            customer=customer,
            iban="NL91ABNA0417164300",
            holder_name=f"E.B. {customer.surname}",
            signed_on=day,
            kind=MandateKind.COUNTER,
            actor=actor,
        )


def planned_debit(customer: Customer, amount: str, state: str = DebitState.PLANNED) -> Debit:
    mandate = Mandate.objects.filter(customer=customer).latest("pk")
    return Debit.objects.create(
        library=mandate.library,
        mandate=mandate,
        customer=customer,
        amount=Decimal(amount),
        description="Bibliotheken Bind",
        collection_date=D(2026, 7, 1),
        end_to_end_id=end_to_end_id(),
        state=state,
    )


@pytest.fixture
def unpaid(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> dict[str, Customer]:
    """Members registered on 1 June 2026 who have not paid yet, in several states."""
    found = {}
    for name in ("Aap", "Beer", "Cavia", "Das", "Egel", "Fret", "Gans"):
        membership = member(balie, branch_5280, adult, D(2026, 6, 1), pay=name == "Fret")
        customer = membership.customer
        Customer.objects.filter(pk=customer.pk).update(surname=name)
        customer.refresh_from_db()
        found[name] = customer
        if name != "Das":  # Das has no mandate
            with_mandate(customer, bind, balie, D(2026, 6, 1))
    saldo = customer_saldo_of(found["Beer"].pk)
    planned_debit(found["Beer"], str(saldo))  # covered whole by a planned debit
    planned_debit(found["Cavia"], "10.00", DebitState.IN_FILE)  # covered in part
    with on(D(2026, 6, 2)):
        mandate_withdraw(mandate=Mandate.objects.get(customer=found["Egel"]), actor=balie)
    planned_debit(found["Gans"], str(saldo), DebitState.CANCELLED)  # vervallen: covers nothing
    return found


def test_listed_are_customers_with_an_active_mandate_and_a_saldo_not_yet_covered(
    unpaid: dict[str, Customer], bind: Library
) -> None:
    saldo = customer_saldo_of(unpaid["Aap"].pk)
    assert saldo > 0
    rows = open_amounts_to_collect(library=bind)
    assert [(r.customer_id, r.saldo, r.covered, r.amount) for r in rows] == [
        (unpaid["Aap"].pk, saldo, Decimal("0.00"), saldo),
        (unpaid["Cavia"].pk, saldo, Decimal("10.00"), saldo - Decimal("10.00")),
        (unpaid["Gans"].pk, saldo, Decimal("0.00"), saldo),
    ]
    assert rows[0].mandate_reference == f"{unpaid['Aap'].number}-1"


def test_the_chosen_are_planned_once_with_a_prenotification_and_an_audit_row(
    unpaid: dict[str, Customer], bind: Library, manager: User
) -> None:
    aap = unpaid["Aap"]
    amount = customer_saldo_of(aap.pk)
    with on(PLAN_DAY):
        planned = debits_plan_open_amounts(
            library=bind, actor=manager, shown={aap.pk: amount}, today=PLAN_DAY
        )
    assert (planned.count, planned.total, planned.skipped, planned.collection_date) == (
        1,
        amount,
        0,
        COLLECTION,
    )
    debit = Debit.objects.get(customer=aap)
    assert debit.period is None
    assert (debit.amount, debit.collection_date, debit.state) == (
        amount,
        COLLECTION,
        DebitState.PLANNED,
    )
    assert debit.mandate.reference == f"{aap.number}-1"
    assert "openstaand bedrag" in debit.description and debit.prenotified_at is not None

    (mail,) = OutboxMessage.objects.filter(kind="debits.prenotification", to=aap.email)
    text = mail.text_body
    euro = f"€ {amount:.2f}".replace(".", ",")
    assert f"Bedrag: {euro}" in text
    assert "Datum: op of rond 01-07-2026" in text
    assert f"Machtigingskenmerk: {aap.number}-1" in text
    assert "Incassant-ID: NL69ZZZ123456780000" in text
    assert "Incassant: Bibliotheken Bind" in text
    assert "NL91ABNA •••• 4300" in text
    assert mail.subject == "Aankondiging automatische incasso van Bibliotheken Bind"

    (audit,) = AuditEvent.objects.filter(action="debits.open_amounts_planned")
    assert audit.actor == manager
    assert audit.data["count"] == 1 and audit.data["customers"] == [aap.number]

    # The same click again: the amount is covered now, nothing is planned or mailed.
    with on(PLAN_DAY):
        again = debits_plan_open_amounts(
            library=bind, actor=manager, shown={aap.pk: amount}, today=PLAN_DAY
        )
    assert (again.count, again.skipped) == (0, 1)
    assert Debit.objects.filter(customer=aap).count() == 1
    assert OutboxMessage.objects.filter(kind="debits.prenotification").count() == 1


def test_an_amount_that_changed_since_it_was_shown_is_skipped(
    unpaid: dict[str, Customer], bind: Library, manager: User, balie: User, oost: Library
) -> None:
    aap, cavia = unpaid["Aap"], unpaid["Cavia"]
    shown = customer_saldo_of(aap.pk)
    with on(PLAN_DAY):
        pay_saldo(balie, aap)  # paid at the desk meanwhile
        planned = debits_plan_open_amounts(
            library=bind,
            actor=manager,
            # Cavia as if the page had shown the whole saldo; a customer of another library.
            shown={aap.pk: shown, cavia.pk: shown, 999999: Decimal("1.00")},
            today=PLAN_DAY,
        )
    assert (planned.count, planned.skipped) == (0, 3)
    assert not Debit.objects.filter(customer__in=[aap, cavia], state=DebitState.PLANNED).exists()


def test_only_finance_staff_of_the_library_plan_and_they_choose_someone(
    unpaid: dict[str, Customer], bind: Library, balie: User, manager: User
) -> None:
    aap = unpaid["Aap"]
    with pytest.raises(ValidationError) as error:
        debits_plan_open_amounts(
            library=bind, actor=balie, shown={aap.pk: Decimal("1")}, today=PLAN_DAY
        )
    assert "Financieel" in error.value.messages[0]
    with pytest.raises(ValidationError) as nothing:
        debits_plan_open_amounts(library=bind, actor=manager, shown={}, today=PLAN_DAY)
    assert nothing.value.messages == ["Kies minstens één klant."]
    assert not Debit.objects.filter(customer=aap).exists()


def test_everything_open_is_planned_when_the_list_is_as_confirmed(
    unpaid: dict[str, Customer], bind: Library, manager: User
) -> None:
    rows = open_amounts_to_collect(library=bind)
    confirmed = OpenToCollectTotals(count=3, amount=sum((r.amount for r in rows), Decimal(0)))
    wrong = OpenToCollectTotals(count=3, amount=confirmed.amount + 1)
    with on(PLAN_DAY), pytest.raises(ValidationError) as error:
        debits_plan_all_open_amounts(library=bind, actor=manager, today=PLAN_DAY, expected=wrong)
    assert (
        "De lijst is veranderd sinds u hem opende: nu staan er 3 klanten open"
        in (error.value.messages[0])
    )
    assert Debit.objects.filter(period__isnull=True, state=DebitState.PLANNED).count() == 1

    with on(PLAN_DAY):
        planned = debits_plan_all_open_amounts(
            library=bind, actor=manager, today=PLAN_DAY, expected=confirmed
        )
        again = debits_plan_all_open_amounts(
            library=bind, actor=manager, today=PLAN_DAY, expected=confirmed
        )
    assert (planned.count, planned.total) == (3, confirmed.amount)
    assert again.count == 0
    assert open_amounts_to_collect(library=bind) == []


def test_an_open_amount_is_booked_without_a_period_and_its_return_asks_to_contact_the_library(
    unpaid: dict[str, Customer], bind: Library, manager: User
) -> None:
    aap = unpaid["Aap"]
    amount = customer_saldo_of(aap.pk)
    with on(PLAN_DAY):
        debits_plan_open_amounts(
            library=bind, actor=manager, shown={aap.pk: amount}, today=PLAN_DAY
        )
    with on(D(2026, 6, 20)):
        batches = debits_make_files(library=bind, actor=manager, today=D(2026, 6, 20))
        for batch in batches:
            batch_mark_sent(batch=batch, actor=manager)
    run(bind, COLLECTION)
    debit = Debit.objects.get(customer=aap, period__isnull=True)
    assert debit.state == DebitState.COLLECTED
    line = debit.payment_line
    assert (line.kind, line.method, line.amount, line.period_id, line.membership_id) == (
        LedgerKind.PAYMENT,
        PaymentMethod.DEBIT,
        -amount,
        None,
        None,
    )
    assert customer_saldo_of(aap.pk) == 0
    assert all(total.equal for total in debit_batch_totals(library=bind))
    # The customer page's ledger shows it.
    with on(D(2026, 7, 2)):
        client = Client()
        client.force_login(manager)
        page = client.get(f"/balie/klanten/{aap.number}/").content.decode()
    assert f"Automatische incasso € {amount:.2f}".replace(".", ",") in page

    camt = document(return_entries([Tx(debit.end_to_end_id, "AM04", f"{amount:.2f}")]))
    with on(D(2026, 7, 8)):
        returns_import(library=bind, data=camt, filename="camt054.xml", actor=manager)
    debit.refresh_from_db()
    assert debit.state == DebitState.RETURNED
    assert LedgerLine.objects.get(reverses=line).amount == amount
    assert customer_saldo_of(aap.pk) == amount
    text = OutboxMessage.objects.get(kind="debits.returned").text_body
    assert "onvoldoende saldo" in text
    assert "/betalen/" not in text  # no period, so no payment link
    assert "Neem contact op met de bibliotheek over hoe je het betaalt" in text
    assert "voor je abonnement" not in text
    # Returned, it is open again and may be planned anew.
    assert open_amounts_to_collect(library=bind)[0].customer_id == aap.pk


def test_no_payment_link_reminder_while_an_open_amount_is_being_collected(
    bind: Library, balie: User, manager: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """Two members whose renewal of 2 May 2027 is unpaid; one then signs a mandate and the
    library collects the open amount. Only the other is reminded to pay by link."""
    debtor = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Incasso")
    other = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Betaallink")
    run(bind, D(2027, 5, 2))
    with_mandate(debtor.customer, bind, balie, D(2027, 5, 3))
    amount = customer_saldo_of(debtor.customer_id)
    with on(D(2027, 5, 3)):
        debits_plan_open_amounts(
            library=bind, actor=manager, shown={debtor.customer_id: amount}, today=D(2027, 5, 3)
        )
    assert run(bind, D(2027, 5, 16)).reminders == 1
    (reminder,) = OutboxMessage.objects.filter(kind="customers.reminder_automatic")
    assert reminder.to == other.customer.email


def test_a_renewal_whose_saldo_is_being_collected_is_not_collected_twice_online(
    bind: Library, balie: User, manager: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """The member's renewal (booked, unpaid) is in the open amount the library collects; the
    renewal mail's "pay by direct debit" then shows that debit instead of planning another."""
    membership = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Dubbel")
    run(bind, D(2027, 5, 2))
    token = link_in(mails(membership, "renewal_automatic")[0])
    with_mandate(membership.customer, bind, balie, D(2027, 5, 3))
    amount = customer_saldo_of(membership.customer_id)
    with on(D(2027, 5, 3)):
        debits_plan_open_amounts(
            library=bind, actor=manager, shown={membership.customer_id: amount}, today=D(2027, 5, 3)
        )
    url = f"/betalen/verlengen/{token}/incasso/"
    client = Client()
    with on(D(2027, 5, 4)):
        page = client.get(url).content.decode()
        posted = client.post(
            url, {"iban": "NL91ABNA0417164300", "holder_name": "E.B. Dubbel", "consent": "ja"}
        )
    assert "Automatische incasso geregeld" in page
    assert "op of rond 01-06-2027" in page
    assert posted.status_code == 302
    assert Debit.objects.filter(customer=membership.customer).count() == 1
