"""Planned debits whose collection date came without them being put in a file.

"Bestanden maken" only takes planned debits with a collection date after today, so such a
debit would stay gepland for ever, and its period would never get a payment-link reminder
(a period with an open debit is not overdue). The daily run (`renewals_run`, after the lapse
of mandates and before the reminders) settles each of them:

- its mandate is no longer active (those are cancelled when it stops; this is a safety net),
  or the library no longer collects (then the member is told): vervallen;
- the customer no longer owes it (paid at the desk or online meanwhile: the saldo, less the
  customer's other open debits, is below its amount): vervallen (anders betaald), no mail;
- passed for the first time: planned again, on the library's first collection day after its
  pre-notification days, and the member gets a new pre-notification with the new date (SEPA:
  the debtor must know the date before it is collected). The usual cause is a month in which
  nobody made the files; the member chose direct debit and is not sent to the payment link
  for a slip at the library;
- passed again after that: vervallen, and the member is mailed that it will not be collected
  and how to pay. A second miss means the library is not making files; planning again every
  month would announce a new date each time that never comes.

A vervallen debit is not open (`DEBIT_OPEN`): its period is back on the ordinary reminders.
The run of a day may be repeated: what it settled is no longer gepland with a date passed.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.money import ZERO, to_cents
from bieb.customers.models import Customer
from bieb.customers.year import customers_saldo_of
from bieb.debits.collect import DEBIT_OPEN, collection_date_for
from bieb.debits.models import Debit, DebitCancelReason, DebitState, MandateState
from bieb.debits.notices import cancelled_notice, new_date_notice
from bieb.libraries.models import Library
from bieb.mail.services import mail_queue_many

CHUNK = 1000
REPLAN_LIMIT = 1  # how often a debit is planned again before it is vervallen


@dataclass
class Settled:
    replanned: int = 0
    cancelled: int = 0


def debits_stale(*, library: Library, today: dt.date) -> QuerySet[Debit]:
    """The library's planned debits that can no longer go into a file."""
    return Debit.objects.filter(
        library=library, state=DebitState.PLANNED, collection_date__lte=today
    )


def debits_settle_stale(*, library: Library, today: dt.date, actor_name: str) -> Settled:
    """Plan again or cancel each planned debit of the library whose collection date is today or
    past (see the module's docstring). Returns how many of each."""
    settled = Settled()
    customer_ids = sorted(
        set(debits_stale(library=library, today=today).values_list("customer_id", flat=True))
    )
    for start in range(0, len(customer_ids), CHUNK):
        _settle_chunk(library, customer_ids[start : start + CHUNK], today, actor_name, settled)
    return settled


def _settle_chunk(
    library: Library, customer_ids: list[int], today: dt.date, actor_name: str, settled: Settled
) -> None:
    now = timezone.now()
    with transaction.atomic():
        # The library's lock, as "Bestanden maken" takes it: a debit planned again is not
        # half seen by a file being made. Then the customers' (a payment waits, or is seen).
        Library.objects.select_for_update().get(pk=library.pk)
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        stale = list(
            debits_stale(library=library, today=today)
            .filter(customer_id__in=customer_ids)
            .select_related("mandate", "customer", "period")
            .order_by("customer_id", "collection_date", "pk")
        )
        if not stale:
            return
        # What each customer owes beyond the open debits that are not stale.
        left = customers_saldo_of(customer_ids)
        for customer_id, amount in (
            Debit.objects.filter(customer_id__in=customer_ids, state__in=DEBIT_OPEN)
            .exclude(pk__in=[d.pk for d in stale])
            .values("customer_id")
            .annotate(amount=Sum("amount"))
            .order_by()
            .values_list("customer_id", "amount")
        ):
            left[customer_id] = left.get(customer_id, ZERO) - to_cents(amount)
        replan: dict[dt.date, list[Debit]] = {}
        cancel: dict[str, list[Debit]] = {}
        for debit in stale:
            owed = left.get(debit.customer_id, ZERO)
            reason: str
            if debit.mandate.state != MandateState.ACTIVE:
                reason = DebitCancelReason.MANDATE_STOPPED
            elif not library.debits_enabled:
                reason = DebitCancelReason.NOT_COLLECTING
            elif owed < debit.amount:
                reason = DebitCancelReason.PAID
            elif debit.replanned >= REPLAN_LIMIT:
                reason = DebitCancelReason.DATE_PASSED
                left[debit.customer_id] = owed - debit.amount
            else:
                left[debit.customer_id] = owed - debit.amount
                start = debit.period.start if debit.period is not None else today
                date = collection_date_for(library, today=today, not_before=start)
                replan.setdefault(date, []).append(debit)
                continue
            cancel.setdefault(reason, []).append(debit)

        mails = []
        for date, debits in replan.items():
            Debit.objects.filter(pk__in=[d.pk for d in debits]).update(
                collection_date=date,
                replanned=F("replanned") + 1,
                replanned_at=now,
                prenotified_at=now,
            )
            for debit in debits:
                old_date, debit.collection_date = debit.collection_date, date
                mails.append(
                    new_date_notice(
                        debit,
                        old_date=old_date,
                        customer=debit.customer,
                        library=library,
                        mandate=debit.mandate,
                    )
                )
        for why, debits in cancel.items():
            Debit.objects.filter(pk__in=[d.pk for d in debits]).update(
                state=DebitState.CANCELLED, cancelled_at=now, cancel_reason=why
            )
            if why in (DebitCancelReason.DATE_PASSED, DebitCancelReason.NOT_COLLECTING):
                # Announced and not collected: the member hears so, with how to pay. (A
                # stopped mandate was the member's doing or was told with its return; an
                # amount paid otherwise needs no word.)
                mails += [
                    cancelled_notice(
                        debit, customer=debit.customer, library=library, mandate=debit.mandate
                    )
                    for debit in debits
                ]
        mail_queue_many([mail for mail in mails if mail is not None])
        replanned = sum(len(debits) for debits in replan.values())
        cancelled = {why: len(debits) for why, debits in cancel.items()}
        audit_record(
            actor=None,
            actor_name=actor_name,
            action="debits.stale_settled",
            library=library,
            target=None,
            data={"day": today.isoformat(), "replanned": replanned, "cancelled": cancelled},
        )
        settled.replanned += replanned
        settled.cancelled += sum(cancelled.values())
