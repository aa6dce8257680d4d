"""Reads of direct debit for the counter: a customer's mandates, and for the "Automatische
incasso" page (/balie/financieel/incasso/) the planned debits not in a file yet, the files
(batches) with their totals per state and what the ledger holds for them, and the imported
return files. Every read takes `library=`."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from bieb.customers.models import Customer
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    DebitState,
    Mandate,
    MandateEvent,
    MandateState,
    ReturnFile,
    ReturnItem,
)
from bieb.libraries.models import Library

ZERO = Decimal("0.00")


def customer_mandates(*, library: Library, customer: Customer) -> QuerySet[Mandate]:
    """This customer's mandates at this library (never another's), newest first, each with its
    history."""
    return (
        Mandate.objects.filter(library=library, customer=customer)
        .prefetch_related(Prefetch("events", queryset=MandateEvent.objects.order_by("at", "id")))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PlannedDay:
    """The planned debits of one collection date. `ready` of them go into a file now (the
    collection date still ahead, the mandate active); the rest stay behind."""

    collection_date: dt.date
    count: int
    total: Decimal
    ready: int

    @property
    def left_behind(self) -> int:
        return self.count - self.ready


def debits_planned_by_date(*, library: Library, today: dt.date) -> list[PlannedDay]:
    ready = Q(collection_date__gt=today, mandate__state=MandateState.ACTIVE)
    rows = (
        Debit.objects.filter(library=library, state=DebitState.PLANNED, batch__isnull=True)
        .values("collection_date")
        .annotate(count=Count("pk"), total=Sum("amount"), ready=Count("pk", filter=ready))
        .order_by("collection_date")
    )
    return [
        PlannedDay(
            collection_date=row["collection_date"],
            count=row["count"],
            total=row["total"] or ZERO,
            ready=row["ready"],
        )
        for row in rows
    ]


def debit_batches(*, library: Library) -> QuerySet[DebitBatch]:
    """The library's files, newest collection date first, without their XML."""
    return (
        DebitBatch.objects.filter(library=library).defer("xml").order_by("-collection_date", "-id")
    )


def debit_batch_get(*, library: Library, pk: int) -> DebitBatch:
    """One file of this library (DoesNotExist for another library's)."""
    return DebitBatch.objects.get(library=library, pk=pk)


@dataclass(frozen=True)
class StateTotal:
    state: str
    label: str
    files: int
    count: int
    total: Decimal
    # Verwerkt only: what the ledger holds for these files, the sum of the debits' payment
    # lines (a payment is a negative line; shown as the amount received), and the debits the
    # bank returned before the collection date, which were never booked.
    ledger: Decimal | None = None
    unbooked: Decimal = ZERO

    @property
    def equal(self) -> bool:
        return self.ledger is None or self.ledger + self.unbooked == self.total


def debit_batch_totals(*, library: Library) -> list[StateTotal]:
    """Per state (aangemaakt, verstuurd, verwerkt): files, debits and amount; for verwerkt also
    the ledger's payment lines of those debits."""
    rows: dict[str, dict[str, Any]] = {
        row["state"]: dict(row)
        for row in DebitBatch.objects.filter(library=library)
        .values("state")
        .annotate(files=Count("pk"), count=Sum("count"), total=Sum("total"))
        .order_by()
    }
    processed = Debit.objects.filter(library=library, batch__state=BatchState.PROCESSED)
    sums = processed.aggregate(
        paid=Coalesce(Sum("payment_line__amount"), ZERO),
        unbooked=Coalesce(Sum("amount", filter=Q(payment_line__isnull=True)), ZERO),
    )
    totals = []
    for state, label in BatchState.choices:
        row = rows.get(state, {})
        totals.append(
            StateTotal(
                state=state,
                label=label,
                files=row.get("files", 0),
                count=row.get("count") or 0,
                total=row.get("total") or ZERO,
                **(
                    {"ledger": -sums["paid"], "unbooked": sums["unbooked"]}
                    if state == BatchState.PROCESSED
                    else {}
                ),
            )
        )
    return totals


def batch_ledger_amounts(*, library: Library, batch_ids: list[int]) -> dict[int, Decimal]:
    """For these (processed) files: the ledger's payment lines of their debits, as received."""
    rows = (
        Debit.objects.filter(library=library, batch_id__in=batch_ids, payment_line__isnull=False)
        .values("batch_id")
        .annotate(paid=Sum("payment_line__amount"))
        .order_by()
    )
    return {row["batch_id"]: -row["paid"] for row in rows}


def return_files(*, library: Library) -> QuerySet[ReturnFile]:
    return ReturnFile.objects.filter(library=library).order_by("-imported_at", "-id")


def return_file_get(*, library: Library, pk: int) -> ReturnFile:
    """One imported file of this library (DoesNotExist for another library's)."""
    return ReturnFile.objects.get(library=library, pk=pk)


def return_items(*, file: ReturnFile) -> QuerySet[ReturnItem]:
    return file.lines.select_related("debit__customer").order_by("id")
