"""The import of a return file with many items: chunk by chunk, in a number of statements that
does not grow with the items, and with the same outcome per item as one at a time would have
(a debit reported twice in one file, across chunks, is reversed once; a returned debit of
another library is not touched)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bieb.audit.models import AuditEvent
from bieb.customers.models import LedgerKind, LedgerLine
from bieb.customers.year import customer_saldo_of
from bieb.debits import returns
from bieb.debits.collect import batch_mark_sent, debits_make_files
from bieb.debits.models import Debit, DebitState, MandateKind, ReturnFile, ReturnItemState
from bieb.debits.returns import Imported, returns_import
from bieb.debits.services import mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.year import fresh, member, on, run
from tests.debits.camt_files import Tx, document, return_entries

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


def _collected(
    count: int, bind: Library, balie: User, branch: Branch, adult: SubscriptionType
) -> list[Debit]:
    """`count` members with a mandate whose renewal was collected on 1 June 2027."""
    memberships = []
    for n in range(count):
        membership = member(balie, branch, adult, D(2026, 6, 1), surname=f"Retour{n}")
        with on(D(2026, 6, 1)):
            mandate_create(
                library=bind,
                customer=membership.customer,
                iban="NL91ABNA0417164300",
                holder_name=f"Retour {n}",
                signed_on=D(2026, 6, 1),
                kind=MandateKind.COUNTER,
                actor=balie,
            )
        memberships.append(membership)
    run(bind, D(2027, 5, 2))
    manager = User.objects.get(username="manager")
    with on(D(2027, 5, 20)):
        for batch in debits_make_files(library=bind, actor=manager, today=D(2027, 5, 20)):
            batch_mark_sent(batch=batch, actor=manager)
    run(bind, D(2027, 6, 1))
    debits = list(Debit.objects.order_by("pk"))
    assert [d.state for d in debits] == [DebitState.COLLECTED] * count
    return debits


RETURNED_ON = D(2027, 6, 8)


def _import(bind: Library, manager: User, txs: list[Tx]) -> Imported:
    with on(RETURNED_ON):
        return returns_import(
            library=bind, data=document(return_entries(txs)), filename="camt054.xml", actor=manager
        )


def test_many_items_in_chunks_each_as_one_at_a_time(
    bind: Library,
    balie: User,
    manager: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, third = _collected(3, bind, balie, branch_5280, adult)
    monkeypatch.setattr(returns, "CHUNK", 3)
    imported = _import(
        bind,
        manager,
        [
            Tx(first.end_to_end_id, "AM04", "64.50"),
            Tx("ONBEKEND-1", "MS02", "10.00"),
            Tx(second.end_to_end_id, "AC04", "64.50"),
            Tx(first.end_to_end_id, "AM04", "64.50"),  # reported twice, in another chunk
            Tx(third.end_to_end_id, None, "64.50"),  # no reason given
            Tx(third.end_to_end_id, None, "64.50"),  # reported twice in the same chunk
        ],
    )
    assert (imported.file.items, imported.file.matched, imported.file.unmatched) == (6, 5, 1)
    assert list(imported.file.lines.order_by("pk").values_list("end_to_end_id", "state")) == [
        (first.end_to_end_id, ReturnItemState.PROCESSED),
        ("ONBEKEND-1", ReturnItemState.UNMATCHED),
        (second.end_to_end_id, ReturnItemState.PROCESSED),
        (first.end_to_end_id, ReturnItemState.ALREADY),
        (third.end_to_end_id, ReturnItemState.PROCESSED),
        (third.end_to_end_id, ReturnItemState.ALREADY),
    ]
    # One storno per debit, with the bank's reason in Dutch; each member owes the fee again.
    stornos = LedgerLine.objects.filter(kind=LedgerKind.STORNO).order_by("pk")
    assert [(s.reverses_id, s.reason) for s in stornos] == [
        (first.payment_line_id, "Terugboeking incasso: AM04 onvoldoende saldo"),
        (second.payment_line_id, "Terugboeking incasso: AC04 rekening opgeheven"),
        (third.payment_line_id, "Terugboeking incasso: geen reden opgegeven"),
    ]
    for debit in (first, second, third):
        assert customer_saldo_of(debit.customer_id) == Decimal("64.50")
        debit.refresh_from_db()
        assert debit.state == DebitState.RETURNED
        assert fresh(debit.period.membership).rights_through == D(2027, 5, 31)  # type: ignore[union-attr]
    assert [d.return_code for d in (first, second, third)] == ["AM04", "AC04", ""]
    # A mail each, with the link that pays the year; an audit row per storno.
    mails = OutboxMessage.objects.filter(kind="debits.returned").order_by("pk")
    assert [m.reference for m in mails] == [d.end_to_end_id for d in (first, second, third)]
    assert all("/betalen/verlengen/" in m.text_body for m in mails)
    assert "rekening opgeheven" in mails[1].text_body
    assert AuditEvent.objects.filter(action="ledger.debit_returned").count() == 3


def test_the_statements_do_not_grow_with_the_items(
    bind: Library,
    balie: User,
    manager: User,
    branch_5280: Branch,
    adult: SubscriptionType,
) -> None:
    debits = _collected(6, bind, balie, branch_5280, adult)
    with CaptureQueriesContext(connection) as two:
        _import(bind, manager, [Tx(d.end_to_end_id, "AM04", "64.50") for d in debits[:2]])
    with CaptureQueriesContext(connection) as four:
        _import(bind, manager, [Tx(d.end_to_end_id, "AM04", "64.50") for d in debits[2:]])
    assert LedgerLine.objects.filter(kind=LedgerKind.STORNO).count() == 6
    assert len(four.captured_queries) == len(two.captured_queries), [
        q["sql"][:120] for q in four.captured_queries
    ]


def test_a_debit_of_another_library_is_not_touched(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
) -> None:
    (debit,) = _collected(1, bind, balie, branch_5280, adult)
    other = Library.objects.exclude(pk=bind.pk).first()
    outsider = User.objects.filter(library=other).first()
    assert other is not None and outsider is not None
    imported = _import(other, outsider, [Tx(debit.end_to_end_id, "AM04", "64.50")])
    assert (imported.file.matched, imported.file.unmatched) == (0, 1)
    debit.refresh_from_db()
    assert debit.state == DebitState.COLLECTED
    assert not LedgerLine.objects.filter(kind=LedgerKind.STORNO).exists()
    assert not OutboxMessage.objects.filter(kind="debits.returned").exists()


def test_a_file_over_the_limit_is_refused_by_the_service_too(
    bind: Library, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(returns, "RETURN_FILE_MAX", 100)
    with pytest.raises(ValidationError) as error:
        returns_import(library=bind, data=b"x" * 101, filename="groot.xml", actor=manager)
    assert "groter dan" in error.value.messages[0]
    assert not ReturnFile.objects.exists()
