"""Which customers the retention rule reaches on a day (bieb.retention.services does it).

Anonymised (`customers_to_anonymise`): a customer of the library, not anonymised yet, registered
before the cutoff, with
- every membership ended before the cutoff: in a closed state (uitgeschreven or beëindigd) and
  its end (`membership_ended_on`) before the cutoff. Any other membership is current, however
  old its dates: a customer with one is never touched;
- a saldo of zero (the ledger's sum, to the cent; a credit is money the library owes);
- no direct debit planned or in a file (bieb.debits: "gepland", "in bestand");
- no online payment the provider has not decided yet, and none paid but unused that staff
  have to pay back (`payments_to_refund`).
The cutoff is the same day `Library.retention_months` months before the day of the run: a
membership that ended on 31 May 2024 (its last day) is kept through 31 May 2026 with the
default 24 months, and anonymised from 1 June 2026.

Deleted (`customers_to_delete`): an anonymised customer whose anonymisation lies more than
`BIEB_LEDGER_RETENTION_YEARS` (7) years back, with no ledger line, debit or online payment of
its own in those years: the financial retention is over.

Both are plain querysets, so that a run reads its candidates in one query and then checks them
again, batch by batch, under their row locks.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Least

from bieb.core.dates import add_months_to_day, start_of_day
from bieb.customers.models import MEMBERSHIP_CLOSED, Customer, LedgerLine, Membership
from bieb.debits.models import Debit, DebitState
from bieb.libraries.models import Library
from bieb.payments.models import UNSETTLED, Payment, PaymentStatus

# The saldo is zero when its sum is within half a cent of it (SQLite sums decimals as floating
# point; see bieb.customers.year.customer_saldo_of).
HALF_CENT = Decimal("0.005")
DEBITS_OPEN = (DebitState.PLANNED, DebitState.IN_FILE)


def membership_ended_on() -> Least:
    """The last day of a membership, as an expression: the earliest of its "geldig t/m", the
    day a cancellation takes effect ("opgezegd per") and the day its status last changed (the
    day it was uitgeschreven, say, while a booked but unpaid period still ran on)."""
    return Least(
        F("valid_through"),
        Coalesce(F("ends_on"), F("valid_through")),
        Coalesce(F("status_changed_on"), F("valid_through")),
    )


def retention_cutoff(*, library: Library, today: dt.date) -> dt.date:
    """Memberships that ended before this day are past the library's retention period."""
    return add_months_to_day(today, -library.retention_months)


def ledger_cutoff(*, today: dt.date) -> dt.date:
    """Financial records from before this day are past the financial retention."""
    return add_months_to_day(today, -12 * settings.BIEB_LEDGER_RETENTION_YEARS)


def customers_to_anonymise(*, library: Library, today: dt.date) -> QuerySet[Customer]:
    cutoff = retention_cutoff(library=library, today=today)
    current = (
        Membership.objects.filter(customer=OuterRef("pk"))
        .annotate(ended_on=membership_ended_on())
        .exclude(Q(status__in=MEMBERSHIP_CLOSED) & Q(ended_on__lt=cutoff))
    )
    saldo_open = (
        LedgerLine.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(saldo=Sum("amount"))
        .exclude(saldo__gt=-HALF_CENT, saldo__lt=HALF_CENT)
    )
    debits_open = Debit.objects.filter(customer=OuterRef("pk"), state__in=DEBITS_OPEN)
    payments_open = Payment.objects.filter(customer=OuterRef("pk")).filter(
        Q(status__in=UNSETTLED)
        | (Q(status=PaymentStatus.PAID, ledger_line__isnull=True) & ~Q(problem=""))
    )
    return Customer.objects.filter(
        library=library, anonymised_at__isnull=True, created_at__lt=start_of_day(cutoff)
    ).filter(
        ~Exists(current),
        ~Exists(saldo_open),
        ~Exists(debits_open),
        ~Exists(payments_open),
    )


def customers_to_delete(*, library: Library, today: dt.date) -> QuerySet[Customer]:
    cutoff = ledger_cutoff(today=today)
    since = start_of_day(cutoff)
    return Customer.objects.filter(library=library, anonymised_at__lt=since).filter(
        ~Exists(LedgerLine.objects.filter(customer=OuterRef("pk"), booked_at__gte=since)),
        ~Exists(Debit.objects.filter(customer=OuterRef("pk"), collection_date__gte=cutoff)),
        ~Exists(Payment.objects.filter(customer=OuterRef("pk"), created_at__gte=since)),
    )
