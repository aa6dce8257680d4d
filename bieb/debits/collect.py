"""Collecting: debits planned for booked periods (or open amounts) of members with an active
mandate, the pain.008 files they go to the bank in, and booking them.

The states a library goes through, on `/balie/financieel/incasso/`:
1. gepland: the renewal run plans a debit for each booked period of a member with an active
   mandate; the renewal mail is its pre-notification (amount, collection date, mandate
   reference, Incassant-ID), sent at least the library's pre-notification days before. Staff
   may also plan the open saldo of members with a mandate (bieb.debits.open_amounts: a debit
   without a period, pre-notified by its own mail). A planned debit lapses (vervallen) when
   its mandate stops, and one whose collection date came without a file is planned once more
   or lapses (bieb.debits.stale, in the daily run).
2. aangemaakt: "Bestanden maken" puts the planned debits into pain.008.001.02 files, one per
   collection date and sequence type (FRST for a mandate's first debit, RCUR after), split at
   the library's maximum per file; each file validates against the schema before it is stored.
3. verstuurd: staff upload the file to the bank and mark it "verstuurd".
4. verwerkt: on the collection date the daily run books each debit of a sent file as a payment
   line in the ledger (tied one-to-one to its end-to-end id) and the rights follow. This is the
   state Bieb trusts: the bank has the file and the date has come. A debit the bank returns
   later is reversed by the import of its return file (bieb.debits.returns).
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Substr
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.bulk import bulk_insert, bulk_set
from bieb.core.money import ZERO, to_cents
from bieb.customers.ledger import ledger_debits_book
from bieb.customers.models import Customer, MembershipPeriod
from bieb.customers.year import customers_saldo_of
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    DebitCancelReason,
    DebitState,
    Mandate,
    MandateState,
    SequenceType,
)
from bieb.debits.pain import Creditor, DebitLine, PainError, pain008_files
from bieb.libraries.models import Library
from bieb.staff.models import User

ONE_DAY = dt.timedelta(days=1)
# A debit the bank may still collect: its period is not overdue.
DEBIT_OPEN = (DebitState.PLANNED, DebitState.IN_FILE)
# Ids named in one statement at most: a file may hold 100,000 debits, more than a statement
# may carry parameters (PostgreSQL 65,535, SQLite 32,766).
IDS_PER_STATEMENT = 5000


def collection_date_for(library: Library, *, today: dt.date, not_before: dt.date) -> dt.date:
    """The library's first collection day on or after both the end of the pre-notification
    and `not_before` (a period is not collected before it starts)."""
    day = max(today + dt.timedelta(days=library.prenotification_days), not_before)
    if day.day <= library.collection_day:
        return day.replace(day=library.collection_day)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, library.collection_day)


def end_to_end_id() -> str:
    """A new end-to-end id: what the bank reports back about this one debit (≤ 35)."""
    return "BIEB" + uuid.uuid4().hex[:28].upper()


def debit_description(library: Library, period: MembershipPeriod) -> str:
    return (
        f"{library.creditor_display_name} abonnement "
        f"{period.start:%d-%m-%Y} t/m {period.end:%d-%m-%Y}"
    )[:140]


def debits_for_periods(
    periods: list[MembershipPeriod], *, library: Library, today: dt.date
) -> dict[int, Debit]:
    """Plan a debit for each of these booked, unpaid periods whose customer has an active
    mandate at the library (the renewal run: one query and one insert for a chunk). Returns
    the debits by period id (for the mails, which are their pre-notification)."""
    if not library.debits_enabled:
        return {}
    costing = [p for p in periods if p.amount > 0]
    if not costing:
        return {}
    mandates = {
        m.customer_id: m
        for m in Mandate.objects.filter(
            library=library,
            state=MandateState.ACTIVE,
            customer_id__in={p.membership.customer_id for p in costing},
        )
    }
    debits = []
    for period in costing:
        mandate = mandates.get(period.membership.customer_id)
        if mandate is None:
            continue
        debits.append(
            Debit(
                library_id=library.pk,
                mandate=mandate,
                customer_id=mandate.customer_id,
                period=period,
                amount=period.amount,
                description=debit_description(library, period),
                collection_date=collection_date_for(library, today=today, not_before=period.start),
                end_to_end_id=end_to_end_id(),
                state=DebitState.PLANNED,
                prenotified_at=timezone.now(),
            )
        )
    bulk_insert(Debit, debits)
    return {d.period_id: d for d in debits if d.period_id is not None}


# --- files -----------------------------------------------------------------------------------


def creditor_of(library: Library) -> Creditor:
    return Creditor(
        name=library.creditor_display_name,
        iban=library.creditor_iban,
        bic=library.creditor_bic,
        creditor_id=library.creditor_id,
    )


def debits_make_files(*, library: Library, actor: User, today: dt.date) -> list[DebitBatch]:
    """Put every planned debit of an active mandate with a collection date after today into
    files, one per collection date and sequence type, at most the library's maximum per file.
    All or nothing: a file that does not validate leaves everything as it was (PainError)."""
    if not library.debits_enabled:
        raise ValidationError("Deze bibliotheek heeft geen Incassant-ID of IBAN ingesteld.")
    name = actor.get_username()
    with transaction.atomic():
        # One maker per library at a time: a second click waits, then finds nothing planned.
        Library.objects.select_for_update().get(pk=library.pk)
        due = Debit.objects.filter(
            library=library,
            state=DebitState.PLANNED,
            collection_date__gt=today,
            mandate__state=MandateState.ACTIVE,
        )
        # Members who paid otherwise since the pre-notification (at the desk, by the payment
        # link): their debit is called off, or the bank would collect it a second time.
        called_off = _call_off_paid(due, now=timezone.now())
        # RCUR, except FRST for a mandate never collected and for one whose account moved to
        # another bank (the EPC's rule for an amendment with "SMNDA"). Decided in the one
        # statement that reads the rows, so a debit the renewal run plans meanwhile is either
        # read whole or left planned for the next files, never half.
        first = Q(mandate__first_collected_on__isnull=True) | (
            ~Q(mandate__original_iban="") & ~Q(old_bank=F("bank"))
        )
        rows = (
            due.select_related("mandate")
            .annotate(
                old_bank=Substr("mandate__original_iban", 5, 4),
                bank=Substr("mandate__iban", 5, 4),
            )
            .annotate(
                sequence=Case(
                    When(first, then=Value(SequenceType.FIRST.value)),
                    default=Value(SequenceType.RECURRING.value),
                )
            )
            .order_by("collection_date", "sequence", "pk")
            .only(
                "pk",
                "amount",
                "description",
                "collection_date",
                "end_to_end_id",
                "mandate__reference",
                "mandate__iban",
                "mandate__bic",
                "mandate__holder_name",
                "mandate__signed_on",
                "mandate__original_iban",
            )
        )
        pending: list[tuple[int, int, str, str]] = []  # debit, mandate, iban, original iban

        def lines() -> Iterator[DebitLine]:
            for debit in rows.iterator(chunk_size=2000):
                mandate = debit.mandate
                pending.append((debit.pk, mandate.pk, mandate.iban, mandate.original_iban))
                yield DebitLine(
                    end_to_end_id=debit.end_to_end_id,
                    amount=debit.amount,
                    debtor_name=mandate.holder_name,
                    iban=mandate.iban,
                    bic=mandate.bic,
                    mandate_reference=mandate.reference,
                    mandate_signed_on=mandate.signed_on,
                    sequence_type=debit.sequence,
                    collection_date=debit.collection_date,
                    description=debit.description,
                    original_iban=mandate.original_iban,
                )

        batches: list[int] = []
        now = timezone.now()
        prefix = f"BIEB-{library.pk}-{now:%Y%m%d%H%M%S}"
        try:
            for made in pain008_files(
                creditor=creditor_of(library),
                debits=lines(),
                max_per_file=library.debits_per_file,
                message_id_prefix=prefix,
                created_at=now,
            ):
                batch = DebitBatch.objects.create(
                    library=library,
                    message_id=made.message_id,
                    collection_date=made.collection_date,
                    sequence_type=made.sequence_type,
                    count=made.count,
                    total=made.total,
                    xml=made.xml.decode("utf-8"),
                    created_by=name,
                )
                mine, pending[:] = pending[: made.count], pending[made.count :]
                _fill_batch(batch, mine)
                batches.append(batch.pk)  # not the file itself: memory stays one file's
        except PainError as error:
            transaction.set_rollback(True)
            raise ValidationError(error.message) from error
        made_files = list(DebitBatch.objects.filter(pk__in=batches).defer("xml").order_by("pk"))
        if made_files or called_off:
            audit_record(
                actor=actor,
                action="debits.files_made",
                library=library,
                target=None,
                data={
                    "files": [b.message_id for b in made_files],
                    "count": sum(b.count for b in made_files),
                    "total": str(sum((b.total for b in made_files), Decimal("0.00"))),
                    "called_off": called_off,
                },
            )
    return made_files


def _call_off_paid(due: QuerySet[Debit], *, now: dt.datetime) -> int:
    """Cancel (vervallen, "anders betaald") each due debit that its customer no longer owes:
    per customer, the saldo less the debits already in a file pays for the due debits in
    date order, and what it does not cover is called off. Under the customers' row locks
    (after the library's, in the order the stale run takes them), so a payment booked at the
    desk meanwhile waits for the files and is then simply an overpayment to refund, never a
    second collection. No mail: the member paid."""
    customer_ids = list(
        Customer.objects.select_for_update()
        .filter(pk__in=due.values("customer_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    paid: list[int] = []
    # A chunk of customers at a time: a large library has more due debits than a statement
    # may carry parameters (PostgreSQL 65,535), and the saldi stay a chunk's worth of memory.
    for start in range(0, len(customer_ids), IDS_PER_STATEMENT):
        chunk = customer_ids[start : start + IDS_PER_STATEMENT]
        left = customers_saldo_of(chunk)
        for customer_id, amount in (
            Debit.objects.filter(customer_id__in=chunk, state=DebitState.IN_FILE)
            .values("customer_id")
            .annotate(amount=Sum("amount"))
            .order_by()
            .values_list("customer_id", "amount")
        ):
            left[customer_id] = left.get(customer_id, ZERO) - to_cents(amount)
        for debit_id, customer_id, amount in (
            due.filter(customer_id__in=chunk)
            .order_by("customer_id", "collection_date", "pk")
            .values_list("pk", "customer_id", "amount")
        ):
            owed = left.get(customer_id, ZERO)
            if owed < amount:
                paid.append(debit_id)
            else:
                left[customer_id] = owed - amount
    for start in range(0, len(paid), IDS_PER_STATEMENT):
        Debit.objects.filter(pk__in=paid[start : start + IDS_PER_STATEMENT]).update(
            state=DebitState.CANCELLED, cancelled_at=now, cancel_reason=DebitCancelReason.PAID
        )
    return len(paid)


def _fill_batch(batch: DebitBatch, rows: list[tuple[int, int, str, str]]) -> None:
    """The debits of a new file: in it, with the account they went out with (copied from
    their mandates in the same statement); the amendments they carry are told to the bank
    now, so the mandates forget them."""
    ids = [debit_id for debit_id, _mandate_id, _iban, _original in rows]
    mandate = Mandate.objects.filter(pk=OuterRef("mandate_id"))
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        Debit.objects.filter(pk__in=ids[start : start + IDS_PER_STATEMENT]).update(
            state=DebitState.IN_FILE,
            batch=batch,
            sequence_type=batch.sequence_type,
            iban=Subquery(mandate.values("iban")[:1]),
            original_iban=Subquery(mandate.values("original_iban")[:1]),
        )
    amended = [mandate_id for _d, mandate_id, _i, original in rows if original]
    for start in range(0, len(amended), IDS_PER_STATEMENT):
        Mandate.objects.filter(pk__in=amended[start : start + IDS_PER_STATEMENT]).update(
            original_iban="", original_bic=""
        )


def batch_mark_sent(*, batch: DebitBatch, actor: User) -> DebitBatch:
    """Staff uploaded the file to the bank. From now its mandates are in use (RCUR next time;
    the 36 months of the lapse count from this collection)."""
    with transaction.atomic():
        batch = DebitBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != BatchState.MADE:
            return batch
        batch.state = BatchState.SENT
        batch.sent_at = timezone.now()
        batch.sent_by = actor.get_username()
        batch.save(update_fields=["state", "sent_at", "sent_by"])
        mandates = Mandate.objects.filter(debits__batch=batch)
        mandates.filter(first_collected_on__isnull=True).update(
            first_collected_on=batch.collection_date
        )
        mandates.update(last_collected_on=batch.collection_date)
        audit_record(
            actor=actor,
            action="debits.file_sent",
            library=batch.library,
            target=None,
            data={"file": batch.message_id, "count": batch.count, "total": str(batch.total)},
        )
    return batch


def batches_process_due(*, library: Library, today: dt.date, actor_name: str) -> int:
    """Book the debits of the sent files whose collection date has come: a payment line each,
    the rights refreshed. Returns how many debits were booked."""
    booked = 0
    for batch_id in DebitBatch.objects.filter(
        library=library, state=BatchState.SENT, collection_date__lte=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            batch = DebitBatch.objects.select_for_update().get(pk=batch_id)
            if batch.state != BatchState.SENT:
                continue
            in_file = Debit.objects.filter(batch=batch, state=DebitState.IN_FILE)
            by_customer: dict[int, list[Debit]] = {}
            for debit in in_file.select_related("period").order_by("customer_id", "pk"):
                by_customer.setdefault(debit.customer_id, []).append(debit)
            customers = list(
                Customer.objects.select_for_update()
                .filter(pk__in=in_file.values("customer_id"))
                .order_by("pk")
            )
            # A chunk of customers at a time (a file may name more than a statement can).
            for start in range(0, len(customers), IDS_PER_STATEMENT):
                chunk = customers[start : start + IDS_PER_STATEMENT]
                debits = [debit for c in chunk for debit in by_customer.get(c.pk, [])]
                lines = ledger_debits_book(
                    debits=debits, customers=chunk, today=today, actor_name=actor_name
                )
                # Each debit tied to its own payment line (one statement per thousand).
                bulk_set(
                    Debit,
                    "payment_line",
                    {debit.pk: line.pk for debit, line in zip(debits, lines, strict=True)},
                )
                booked += len(debits)
            in_file.update(state=DebitState.COLLECTED)
            batch.state = BatchState.PROCESSED
            batch.processed_at = timezone.now()
            batch.save(update_fields=["state", "processed_at"])
    return booked
