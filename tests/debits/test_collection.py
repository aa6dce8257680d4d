"""Direct debit over two renewals: the renewal mail as pre-notification, the pain.008 file
(FRST, then RCUR; an amendment after an IBAN change), booking on the collection date, and the
bank's returns (storno, mail, rights; the same file twice; unknown items; a malformed file)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from bieb.audit.models import AuditEvent
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import (
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipStatus,
    PaymentMethod,
)
from bieb.customers.year import customer_saldo_of
from bieb.debits.collect import batch_mark_sent, debits_make_files
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitState,
    Mandate,
    MandateKind,
    MandateState,
    ReturnFile,
    ReturnItemState,
)
from bieb.debits.pain import schema
from bieb.debits.returns import returns_import
from bieb.debits.services import mandate_amend, mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.year import fresh, mails, member, on, pay_saldo, run
from tests.debits.camt_files import Tx, document, return_entries

pytestmark = pytest.mark.django_db

D = dt.date
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


def _xml(batch: object) -> etree._Element:
    root = etree.fromstring(batch.xml.encode())  # type: ignore[attr-defined]
    assert schema().validate(root), schema().error_log
    return root


def _text(root: etree._Element, path: str) -> list[str]:
    return [e.text for e in root.iterfind(path, NS)]


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@pytest.fixture
def setup(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> tuple[object, Mandate]:
    """A Doorlopend member registered and paid on 1 June 2026 (through May 2027), with a
    mandate signed at the counter that day."""
    membership = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Incasso")
    with on(D(2026, 6, 1)):
        mandate = mandate_create(
            library=bind,
            customer=membership.customer,
            iban="NL91ABNA0417164300",
            holder_name="E.B. Incasso",
            signed_on=D(2026, 6, 1),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    return membership, mandate


def second_member(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> Membership:
    """Another Doorlopend member, also with a counter mandate signed on 1 June 2026 (at
    another bank), for tests that need two debits in one file."""
    other = member(balie, branch_5280, adult, D(2026, 6, 1), surname="Ander")
    with on(D(2026, 6, 1)):
        mandate_create(
            library=bind,
            customer=other.customer,
            iban="NL20INGB0001234567",
            holder_name="E.B. Ander",
            signed_on=D(2026, 6, 1),
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    return other


def test_two_years_of_direct_debit(
    setup: tuple[object, Mandate], bind: Library, manager: User, balie: User
) -> None:
    membership, mandate = setup

    # 2 May 2027: the period from 1 June is booked and a debit planned for the first
    # collection day after the 14 days' notice and not before the period: 1 June.
    result = run(bind, D(2027, 5, 2))
    assert result.booked == 1
    (debit,) = Debit.objects.all()
    assert (debit.collection_date, debit.amount, debit.state) == (
        D(2027, 6, 1),
        Decimal("64.50"),
        DebitState.PLANNED,
    )
    (mail,) = mails(membership, "renewal_automatic")
    text = mail.text_body
    assert "automatische incasso" in text and "01-06-2027" in text and "€ 64,50" in text
    assert f"Machtigingskenmerk: {mandate.reference}" in text
    assert "Incassant-ID: NL69ZZZ123456780000" in text
    assert "NL91ABNA •••• 4300" in text
    assert "/betalen/verlengen/" not in text  # nothing to pay by hand
    # No reminder while the bank is to collect it.
    assert run(bind, D(2027, 5, 16)).reminders == 0

    # The file: FRST, valid, the debit in it; a second click makes nothing.
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
        assert debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20)) == []
    root = _xml(batch)
    assert _text(root, ".//p:SeqTp") == ["FRST"]
    assert _text(root, ".//p:EndToEndId") == [debit.end_to_end_id]
    assert _text(root, ".//p:MndtId") == [mandate.reference]
    assert _text(root, ".//p:ReqdColltnDt") == ["2027-06-01"]
    assert _text(root, ".//p:CdtrSchmeId//p:Othr/p:Id") == ["NL69ZZZ123456780000"]
    assert (batch.count, batch.total, batch.state) == (1, Decimal("64.50"), BatchState.MADE)

    # Marked sent; on 1 June the run books it and the rights go on without a gap.
    with on(D(2027, 5, 21)):
        batch = batch_mark_sent(batch=batch, actor=manager)
    assert batch.state == BatchState.SENT
    run(bind, D(2027, 6, 1))
    debit.refresh_from_db()
    batch.refresh_from_db()
    assert (debit.state, batch.state) == (DebitState.COLLECTED, BatchState.PROCESSED)
    line = debit.payment_line
    assert (line.kind, line.method, line.amount) == (
        LedgerKind.PAYMENT,
        PaymentMethod.DEBIT,
        Decimal("-64.50"),
    )
    assert customer_saldo_of(membership.customer_id) == 0  # type: ignore[attr-defined]
    assert (fresh(membership).status, fresh(membership).rights_through) == (  # type: ignore[arg-type]
        MembershipStatus.ACTIVE,
        D(2028, 5, 31),
    )
    # Totals equal the ledger.
    paid = LedgerLine.objects.filter(method=PaymentMethod.DEBIT)
    assert -sum(p.amount for p in paid) == batch.total

    # September: a new IBAN at the same bank is an amendment, carried by the next debit,
    # which is RCUR.
    with on(D(2027, 9, 1)):
        mandate_amend(mandate=mandate, iban="NL02ABNA0123456789", actor=balie)
    run(bind, D(2028, 5, 2))
    with on(D(2028, 5, 20)):
        (second,) = debits_make_files(library=bind, actor=manager, today=D(2028, 5, 20))
    root = _xml(second)
    assert _text(root, ".//p:SeqTp") == ["RCUR"]
    assert _text(root, ".//p:AmdmntInd") == ["true"]
    assert _text(root, ".//p:OrgnlDbtrAcct/p:Id/p:IBAN") == ["NL91ABNA0417164300"]
    assert _text(root, ".//p:DbtrAcct/p:Id/p:IBAN") == ["NL02ABNA0123456789"]
    mandate.refresh_from_db()
    assert not mandate.amended  # told to the bank now
    with on(D(2028, 5, 21)):
        batch_mark_sent(batch=second, actor=manager)
    run(bind, D(2028, 6, 1))
    debit2 = Debit.objects.get(batch=second)
    assert debit2.state == DebitState.COLLECTED

    # 8 June: the bank returns it (AM04). Storno, mail with a payment link; the rights end
    # again (the period is unpaid) until paid.
    camt = document(
        return_entries(
            [
                Tx(debit2.end_to_end_id, "AM04", "64.50", "E.B. Incasso", "NL02ABNA0123456789"),
                Tx("ONBEKEND-1", "MS02", "10.00", "Iemand Anders", "NL20INGB0001234567"),
            ]
        )
    )
    with on(D(2028, 6, 8)):
        imported = returns_import(library=bind, data=camt, filename="camt054.xml", actor=manager)
    assert not imported.again
    assert (imported.file.items, imported.file.matched, imported.file.unmatched) == (2, 1, 1)
    states = dict(imported.file.lines.values_list("end_to_end_id", "state"))
    assert states == {
        debit2.end_to_end_id: ReturnItemState.PROCESSED,
        "ONBEKEND-1": ReturnItemState.UNMATCHED,
    }
    debit2.refresh_from_db()
    assert (debit2.state, debit2.return_code) == (DebitState.RETURNED, "AM04")
    storno = LedgerLine.objects.get(reverses=debit2.payment_line)
    assert storno.amount == Decimal("64.50") and "AM04 onvoldoende saldo" in storno.reason
    assert customer_saldo_of(membership.customer_id) == Decimal("64.50")  # type: ignore[attr-defined]
    returned = OutboxMessage.objects.get(kind="debits.returned")
    assert "onvoldoende saldo" in returned.text_body
    assert "/betalen/verlengen/" in returned.text_body
    assert fresh(membership).rights_through == D(2028, 5, 31)  # type: ignore[arg-type]

    # The same file again changes nothing.
    lines_before = LedgerLine.objects.count()
    with on(D(2028, 6, 9)):
        again = returns_import(library=bind, data=camt, filename="camt054.xml", actor=manager)
    assert again.again and again.file.pk == imported.file.pk
    assert LedgerLine.objects.count() == lines_before
    assert OutboxMessage.objects.filter(kind="debits.returned").count() == 1


def test_an_iban_at_another_bank_goes_as_frst_with_smnda(
    setup: tuple[object, Mandate], bind: Library, manager: User, balie: User
) -> None:
    _membership, mandate = setup
    Mandate.objects.filter(pk=mandate.pk).update(
        first_collected_on=D(2026, 7, 1), last_collected_on=D(2026, 7, 1)
    )
    with on(D(2026, 9, 1)):
        mandate_amend(mandate=mandate, iban="NL20INGB0001234567", actor=balie)
    run(bind, D(2027, 5, 2))
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
    root = _xml(batch)
    assert _text(root, ".//p:SeqTp") == ["FRST"]
    assert _text(root, ".//p:OrgnlDbtrAgt//p:Othr/p:Id") == ["SMNDA"]
    # The debit keeps the sequence it went out with (the member's export shows it).
    assert Debit.objects.get().sequence_type == "FRST"


def test_a_claimed_refund_blocks_the_mandate_and_the_next_year_is_paid_by_hand(
    setup: tuple[object, Mandate], bind: Library, manager: User, balie: User
) -> None:
    membership, mandate = setup
    run(bind, D(2027, 5, 2))
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
        batch_mark_sent(batch=batch, actor=manager)
    run(bind, D(2027, 6, 1))
    (debit,) = Debit.objects.all()
    camt = document(return_entries([Tx(debit.end_to_end_id, "MD06", "64.50")]), kind="053")
    with on(D(2027, 7, 1)):
        returns_import(library=bind, data=camt, filename="afschrift.xml", actor=manager)
    mandate.refresh_from_db()
    assert mandate.state == MandateState.BLOCKED
    assert "niet meer" in OutboxMessage.objects.get(kind="debits.returned").text_body
    with on(D(2027, 7, 2)):  # paid at the desk instead
        pay_saldo(balie, membership.customer)  # type: ignore[attr-defined]

    assert run(bind, D(2028, 5, 2)).booked == 1
    assert Debit.objects.count() == 1  # no new debit under a blocked mandate
    last = mails(membership, "renewal_automatic")[-1]  # type: ignore[arg-type]
    assert "/betalen/verlengen/" in last.text_body


def test_a_malformed_file_is_refused_whole(bind: Library, manager: User) -> None:
    with pytest.raises(ValidationError) as error:
        returns_import(library=bind, data=b"<Document><niet", filename="x.xml", actor=manager)
    assert "niet ingelezen" in error.value.messages[0]
    assert not ReturnFile.objects.exists()


def test_a_debit_paid_otherwise_before_the_file_is_called_off_not_collected_twice(
    setup: tuple[object, Mandate],
    bind: Library,
    manager: User,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
) -> None:
    """The member pays the announced renewal at the desk before staff make the files: the
    debit must not go to the bank (it would be collected a second time); it is vervallen,
    anders betaald, and the audit row of "Bestanden maken" counts it."""
    membership, _mandate = setup
    run(bind, D(2027, 5, 2))
    (debit,) = Debit.objects.all()
    other = second_member(bind, balie, branch_5280, adult)
    run(bind, D(2027, 5, 3))
    kept = Debit.objects.get(customer=other.customer)
    with on(D(2027, 5, 10)):
        assert pay_saldo(balie, membership.customer) == Decimal("64.50")
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
    assert _text(_xml(batch), ".//p:EndToEndId") == [kept.end_to_end_id]
    debit.refresh_from_db()
    assert (debit.state, debit.cancel_reason, debit.batch_id) == (
        DebitState.CANCELLED,
        "betaald",
        None,
    )
    assert customer_saldo_of(membership.customer.pk) == Decimal("0.00")
    made = AuditEvent.objects.get(action="debits.files_made")
    assert made.data["called_off"] == 1 and made.data["count"] == 1


def test_a_part_payment_calls_the_debit_off_rather_than_collect_more_than_is_owed(
    setup: tuple[object, Mandate], bind: Library, manager: User, balie: User
) -> None:
    membership, _mandate = setup
    run(bind, D(2027, 5, 2))
    with on(D(2027, 5, 10)):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("0.50"), method="pin"
        )
    with on(D(2027, 5, 20)):
        assert debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20)) == []
    (debit,) = Debit.objects.all()
    assert debit.state == DebitState.CANCELLED
    # the rest goes by the ordinary reminders with the payment link again
    assert customer_saldo_of(membership.customer.pk) == Decimal("64.00")


def test_calling_off_works_a_chunk_of_customers_at_a_time(
    setup: tuple[object, Mandate],
    bind: Library,
    manager: User,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large library has more due debits than one statement may name (PostgreSQL: 65,535
    parameters; the bench's 100,000 failed): the paid ones are found a chunk at a time, here
    one customer per chunk, and the one who paid is the later customer."""
    monkeypatch.setattr("bieb.debits.collect.IDS_PER_STATEMENT", 1)
    membership, _mandate = setup
    other = second_member(bind, balie, branch_5280, adult)
    run(bind, D(2027, 5, 2))
    kept = Debit.objects.get(customer=membership.customer)  # type: ignore[attr-defined]
    with on(D(2027, 5, 10)):
        pay_saldo(balie, other.customer)
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
    assert _text(_xml(batch), ".//p:EndToEndId") == [kept.end_to_end_id]
    assert Debit.objects.get(customer=other.customer).state == DebitState.CANCELLED


def test_a_file_is_made_and_booked_a_chunk_of_debits_at_a_time(
    setup: tuple[object, Mandate],
    bind: Library,
    manager: User,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file may hold up to 100,000 debits, more than one statement may name: the debits go
    into their file and are booked on the collection date a chunk at a time, each with its
    own payment line, and every member's saldo is settled."""
    monkeypatch.setattr("bieb.debits.collect.IDS_PER_STATEMENT", 1)
    membership, _mandate = setup
    other = second_member(bind, balie, branch_5280, adult)
    run(bind, D(2027, 5, 2))
    with on(D(2027, 5, 20)):
        (batch,) = debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20))
        batch_mark_sent(batch=batch, actor=manager)
    assert batch.count == 2
    assert set(Debit.objects.values_list("batch_id", flat=True)) == {batch.pk}
    run(bind, D(2027, 6, 1))
    debits = list(Debit.objects.select_related("payment_line"))
    assert [d.state for d in debits] == [DebitState.COLLECTED] * 2
    assert all(d.payment_line.amount == -d.amount for d in debits)  # type: ignore[union-attr]
    for customer in (membership.customer, other.customer):  # type: ignore[attr-defined]
        assert customer_saldo_of(customer.pk) == Decimal("0.00")
