"""The privacy rule on the library side: anonymise the customers whose last membership ended
longer ago than the library's retention period with nothing open, and delete them with their
financial records once the financial retention is over (who: bieb.retention.selectors).

Anonymising replaces the personal data and keeps what the financial retention needs:
- the customer: name "Geanonimiseerd", initials, prefix, first name, address, country, e-mail,
  IBAN/BIC, identity check, newsletter consent blank; the birth date set to 1 January 1900
  (the column has no empty value, and no age is shown for an
  anonymised customer); `anonymised_at` set. The customer number, memberships, periods and
  ledger stay;
- the login account: unlinked at the login service (`interface.forget_accounts`, which
  deletes an account that was never activated and leaves any other alone: it may be linked to
  other libraries, and the login service has its own retention), by a call in the library's
  outbox after the batch commits (bieb.kboutbox); the customer's finished calls to the login
  service (which named its e-mail address) are removed;
- mandates: IBAN, BIC, holder, consent evidence (text, address, browser) blank; an active one
  lapses ("vervallen"); their history keeps each event's kind, not its text (which named IBANs);
- debits: the IBANs they were collected from; the bank's returns of them: name and IBAN;
- the library's mails about the customer (renewals, reminders, debit notices) are removed from
  the outbox; a finished online sign-up (which still named the login account) is removed;
- audit rows about the customer keep their event, time, staff member and the values that are
  not personal (amounts, states, dates, field names: `AUDIT_KEPT`); every other value becomes
  null, and a member's own name as actor ("online:<username>") becomes "online".
Debit files (pain.008) hold the names and IBANs of everyone in them: a processed file whose
collection date is before the library's cutoff loses its content (its totals stay), and an
unmatched bank return that old its name and IBAN.

Deleting, after the financial retention, removes the customer with everything that refers to
it, explicitly, in the order of the foreign keys: the audit rows and mails about it, its debits
(a bank return keeps its line without the debit), mandates and their history, online payments,
sign-ups, ledger lines, periods, memberships, the customer.

How it runs: per library, the candidates are read in one query, then done in batches of
`BATCH` (500) customers, each its own short transaction: the customers' rows are locked in id
order (the order every other writer of a customer's money or memberships locks them in), the
condition is checked again under those locks, and every change is one bulk statement per table
for the whole batch. So a counter search is never kept waiting, and a member who paid or
renewed a moment ago is left alone. A run is idempotent: the second run of a day finds nothing.
`dry_run` reads the candidates and writes nothing. A run that changed anything writes one audit
row per library (action "retention.run", actor "retention") with its counts: no personal data.
"""

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import OperationalError, connections, transaction
from django.db.models import F, Q

from bieb.audit.models import AuditEvent
from bieb.audit.services import audit_record
from bieb.core.bulk import bulk_set
from bieb.core.dates import local_today, moment_on, start_of_day
from bieb.customers.export import customer_mails_filter
from bieb.customers.history import customers_audit_filter
from bieb.customers.models import Customer, LedgerLine, Membership, MembershipPeriod
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    Mandate,
    MandateEvent,
    MandateState,
    ReturnItem,
)
from bieb.kb import interface as login_service
from bieb.kboutbox.models import OPEN_STATES, KBCall, KBCallKind
from bieb.kboutbox.services import kb_call_handler, kb_call_queue
from bieb.libraries.models import Library
from bieb.mail.models import OutboxMessage
from bieb.payments.models import Payment
from bieb.retention.selectors import (
    customers_to_anonymise,
    customers_to_delete,
    retention_cutoff,
)
from bieb.signup.models import Signup

logger = logging.getLogger(__name__)

# Customers per transaction: 500 keeps the longest row lock well under a second on a busy
# machine (bench/README.md, section 9); a thousand took 0.4 s quiet and up to 3 s on two cores
# shared with other work.
BATCH = 500
ACTOR = "retention"
ANONYMISED_NAME = "Geanonimiseerd"
ANONYMISED_BIRTH_DATE = dt.date(1900, 1, 1)
# The values of audit rows' data that stay after anonymisation: amounts, states, dates, codes,
# field names and references the library made itself. Anything else (usernames, e-mail
# addresses, IBANs, free text such as reasons and notes, account ids) becomes null.
AUDIT_KEPT = frozenset(
    {
        "amount",
        "at_once",
        "booked",
        "branch",
        "called_off",
        "cancelled",
        "collection_date",
        "count",
        "day",
        "debits_cancelled",
        "discount",
        "end",
        "end_to_end_id",
        "ends_on",
        "fee",
        "fields",
        "file",
        "files",
        "from",
        "kind",
        "line",
        "mandate",
        "method",
        "new_line",
        "not_renewed",
        "number",
        "offered",
        "on",
        "period",
        "reminders",
        "replanned",
        "start",
        "state",
        "subscription",
        "tariff",
        "to",
        "total",
        "valid_through",
        "way",
    }
)
MEMBER_ACTOR_PREFIX = "online:"


@dataclass
class LibraryRetention:
    """What one run did (or, dry, would do) for one library. `longest` is the longest batch in
    seconds: the longest any customer's row lock was held."""

    library: Library
    anonymised: int = 0
    deleted: int = 0
    files: int = 0
    batches: int = 0
    longest: float = 0.0
    durations: list[float] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.anonymised or self.deleted or self.files)


def audit_data_scrub(data: Any) -> dict[str, Any]:
    """An audit row's data without its personal values: the keys stay (the event says what
    changed), the values not in AUDIT_KEPT become None."""
    if not isinstance(data, dict):
        return {}
    return {key: value if key in AUDIT_KEPT else None for key, value in data.items()}


def _actor_scrub(actor_id: int | None, actor_name: str) -> str:
    if actor_id is None and actor_name.startswith(MEMBER_ACTOR_PREFIX):
        return MEMBER_ACTOR_PREFIX.rstrip(":")
    return actor_name


def _anonymous_fields(now: dt.datetime) -> dict[str, Any]:
    return {
        "salutation": "",
        "initials": "",
        "prefix": "",
        "surname": ANONYMISED_NAME,
        "first_name": "",
        "birth_date": ANONYMISED_BIRTH_DATE,
        "country": "",
        "postcode": "",
        "house_number": None,
        "house_letter": "",
        "house_addition": "",
        "iban": "",
        "bic": "",
        "identity_checked": False,
        "identity_document": "",
        "email": "",
        "newsletter": False,
        "newsletter_consent_at": None,
        "uses_login_account": False,
        "login_account_id": None,
        "login_account_lapsed": False,
        "registration_key": None,
        "anonymised_at": now,
        "updated_at": now,
    }


# --- the run -----------------------------------------------------------------------------------


def retention_run(
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    library_code: str = "",
    batch_size: int = BATCH,
) -> list[LibraryRetention]:
    """The retention rule for every library (or the one with `library_code`) on `today`."""
    day = today or local_today()
    libraries = Library.objects.order_by("code")
    if library_code:
        libraries = libraries.filter(code=library_code)
    return [
        library_retention_run(library=library, today=day, dry_run=dry_run, batch_size=batch_size)
        for library in libraries
    ]


def library_retention_run(
    *, library: Library, today: dt.date, dry_run: bool = False, batch_size: int = BATCH
) -> LibraryRetention:
    result = LibraryRetention(library=library)
    size = max(1, min(int(batch_size), 5000))
    to_delete = customers_to_delete(library=library, today=today)
    to_anonymise = customers_to_anonymise(library=library, today=today)
    if dry_run:
        result.deleted = to_delete.count()
        result.anonymised = to_anonymise.count()
        result.files = _files_scrub(library=library, today=today, dry_run=True)
        return result
    now = moment_on(today)
    # Deleted first: those are anonymised already and never candidates again.
    ids = list(to_delete.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        started = time.perf_counter()
        result.deleted += _again_once(
            partial(_delete_batch, ids[start : start + size], library=library, today=today)
        )
        _timed(result, started)
    ids = list(to_anonymise.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        started = time.perf_counter()
        result.anonymised += _again_once(
            partial(
                _anonymise_batch, ids[start : start + size], library=library, today=today, now=now
            )
        )
        _timed(result, started)
    result.files = _files_scrub(library=library, today=today, dry_run=False)
    if result.changed:
        audit_record(
            actor=None,
            actor_name=ACTOR,
            action="retention.run",
            library=library,
            data={
                "day": today.isoformat(),
                "anonymised": result.anonymised,
                "deleted": result.deleted,
                "files": result.files,
            },
        )
        logger.info(
            "retention %s %s: anonymised %s, deleted %s, files %s, longest batch %.0f ms",
            library.code,
            today,
            result.anonymised,
            result.deleted,
            result.files,
            result.longest * 1000,
        )
    return result


def _again_once(batch: Callable[[], int]) -> int:
    """A batch, and once more if the database broke it off (a deadlock with a member's own
    change at that moment, which locks the login account before the customer); a batch that
    fails twice is left for the next run. Returns how many it did."""
    for attempt in (1, 2):
        try:
            return batch()
        except OperationalError:
            logger.warning("retention batch broken off (attempt %s)", attempt, exc_info=True)
    return 0


def _timed(result: LibraryRetention, started: float) -> None:
    seconds = time.perf_counter() - started
    result.batches += 1
    result.longest = max(result.longest, seconds)
    result.durations.append(seconds)


def _lock(ids: list[int]) -> list[int]:
    """Lock these customers' rows, in id order (inside the caller's transaction).

    On PostgreSQL the batch's commit does not wait for its WAL to reach the disk (the locks
    are let go at once, not after the flush, which on a busy server was most of the slowest
    batches): a crash in the next moment loses at most the last batches, whole, and the next
    run does them again."""
    connection = connections[Customer.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    return list(
        Customer.objects.select_for_update()
        .filter(pk__any=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class _Related:
    """The ids of what belongs to a batch of customers."""

    memberships: list[int]
    periods: list[int]
    debits: list[int]
    debit_references: list[str]
    payments: list[int]
    returns: list[int]

    @classmethod
    def of(cls, pks: list[int]) -> "_Related":
        memberships = list(
            Membership.objects.filter(customer_id__any=pks).values_list("pk", flat=True)
        )
        debits = list(Debit.objects.filter(customer_id__any=pks).values_list("pk", "end_to_end_id"))
        debit_ids = [pk for pk, _ in debits]
        return cls(
            memberships=memberships,
            periods=list(
                MembershipPeriod.objects.filter(membership_id__any=memberships).values_list(
                    "pk", flat=True
                )
            )
            if memberships
            else [],
            debits=debit_ids,
            debit_references=[reference for _, reference in debits],
            payments=list(
                Payment.objects.filter(
                    Q(customer_id__any=pks) | Q(membership_id__any=memberships)
                ).values_list("pk", flat=True)
            ),
            returns=list(
                ReturnItem.objects.filter(debit_id__any=debit_ids).values_list("pk", flat=True)
            )
            if debit_ids
            else [],
        )

    def audit(self, library: Library, pks: list[int]) -> Any:
        about = customers_audit_filter(
            customer_ids=pks,
            membership_ids=self.memberships,
            payment_ids=self.payments,
            return_ids=self.returns,
        )
        return AuditEvent.objects.filter(about).filter(
            Q(library_id=library.pk) | Q(library__isnull=True)
        )

    def mails(self, pks: list[int]) -> Any:
        about = customer_mails_filter(
            customer_ids=pks,
            membership_ids=self.memberships,
            period_ids=self.periods,
            debit_ids=self.debit_references,
        )
        return OutboxMessage.objects.filter(about)


# --- anonymising -------------------------------------------------------------------------------


def _anonymise_batch(ids: list[int], *, library: Library, today: dt.date, now: dt.datetime) -> int:
    with transaction.atomic():
        locked = _lock(ids)
        rows = list(
            customers_to_anonymise(library=library, today=today)
            .filter(pk__any=locked)
            .order_by("pk")
            .values_list("pk", "number", "login_account_id")
        )
        if not rows:
            return 0
        pks = [pk for pk, _, _ in rows]
        links = [(account, number) for _, number, account in rows if account is not None]
        if links:
            kb_call_queue(
                kind=KBCallKind.ACCOUNTS_FORGET,
                library_id=library.pk,
                ordering_key=f"retention:{library.pk}",
                actor=ACTOR,
                payload={
                    "library_code": library.code,
                    "links": [[str(account), number] for account, number in links],
                },
            )
        related = _Related.of(pks)
        _audit_scrub(related.audit(library, pks))
        related.mails(pks).delete()
        KBCall.objects.filter(customer_id__any=pks).exclude(state__in=OPEN_STATES).delete()
        _mandates_scrub(pks, now=now)
        if related.debits:
            Debit.objects.filter(pk__any=related.debits).update(iban="", original_iban="")
        if related.returns:
            ReturnItem.objects.filter(pk__any=related.returns).update(
                debtor_name="", debtor_iban=""
            )
        Signup.objects.filter(
            Q(customer_id__any=pks) | Q(membership_id__any=related.memberships)
        ).delete()
        Customer.objects.filter(pk__any=pks).update(**_anonymous_fields(now))
    return len(pks)


def _audit_scrub(rows: Any) -> None:
    data: dict[int, Any] = {}
    names: dict[int, str] = {}
    for pk, values, actor_id, actor_name in rows.values_list(
        "pk", "data", "actor_id", "actor_name"
    ):
        scrubbed = audit_data_scrub(values)
        if scrubbed != values:
            data[pk] = scrubbed
        name = _actor_scrub(actor_id, actor_name)
        if name != actor_name:
            names[pk] = name
    # One statement per thousand rows that joins them to their new values (bulk_update's CASE
    # per row costs more to build in Python than the whole batch takes in the database).
    data_field = AuditEvent._meta.get_field("data")
    connection = connections[AuditEvent.objects.db]
    bulk_set(
        AuditEvent,
        "data",
        {pk: data_field.get_db_prep_save(value, connection) for pk, value in data.items()},
    )
    bulk_set(AuditEvent, "actor_name", names)


def _mandates_scrub(pks: list[int], *, now: dt.datetime) -> None:
    mandates = Mandate.objects.filter(customer_id__any=pks)
    active = list(mandates.filter(state=MandateState.ACTIVE).values_list("pk", flat=True))
    events = MandateEvent.objects.filter(mandate__customer_id__any=pks)
    events.update(description=F("action"))  # "IBAN gewijzigd van … in …" becomes "gewijzigd"
    events.filter(actor_name__startswith=MEMBER_ACTOR_PREFIX).update(
        actor_name=MEMBER_ACTOR_PREFIX.rstrip(":")
    )
    if active:
        Mandate.objects.filter(pk__any=active).update(
            state=MandateState.LAPSED, state_changed_at=now
        )
        MandateEvent.objects.bulk_create(
            [
                MandateEvent(
                    mandate_id=pk,
                    action=MandateState.LAPSED,
                    description="Vervallen: klant geanonimiseerd (bewaartermijn)",
                    actor_name=ACTOR,
                )
                for pk in active
            ]
        )
    mandates.update(**_mandate_blank())


def _mandate_blank() -> dict[str, Any]:
    return {
        "iban": "",
        "bic": "",
        "holder_name": ANONYMISED_NAME,
        "original_iban": "",
        "original_bic": "",
        "consent_text": "",
        "consent_ip": None,
        "consent_user_agent": "",
    }


def _files_scrub(*, library: Library, today: dt.date, dry_run: bool) -> int:
    """Debit files collected before the cutoff lose their content (names and IBANs of all
    their debtors); unmatched bank returns imported before it their name and IBAN."""
    cutoff = retention_cutoff(library=library, today=today)
    files = DebitBatch.objects.filter(
        library=library, state=BatchState.PROCESSED, collection_date__lt=cutoff
    ).exclude(xml="")
    returns = ReturnItem.objects.filter(
        file__library=library, debit__isnull=True, file__imported_at__lt=start_of_day(cutoff)
    ).exclude(debtor_name="", debtor_iban="")
    if dry_run:
        return files.count()
    with transaction.atomic():
        count = files.update(xml="")
        returns.update(debtor_name="", debtor_iban="")
    return count


# --- deleting after the financial retention ----------------------------------------------------


def _delete_batch(ids: list[int], *, library: Library, today: dt.date) -> int:
    with transaction.atomic():
        locked = _lock(ids)
        pks = list(
            customers_to_delete(library=library, today=today)
            .filter(pk__any=locked)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not pks:
            return 0
        related = _Related.of(pks)
        using = Customer.objects.db
        related.audit(library, pks).delete()
        related.mails(pks).delete()
        KBCall.objects.filter(customer_id__any=pks).update(customer=None, payload={})
        if related.debits:
            ReturnItem.objects.filter(debit_id__any=related.debits).update(debit=None)
            Debit.objects.filter(pk__any=related.debits)._raw_delete(using)
        MandateEvent.objects.filter(mandate__customer_id__any=pks)._raw_delete(using)
        Mandate.objects.filter(customer_id__any=pks)._raw_delete(using)
        if related.payments:
            Payment.objects.filter(pk__any=related.payments)._raw_delete(using)
        Signup.objects.filter(
            Q(customer_id__any=pks) | Q(membership_id__any=related.memberships)
        )._raw_delete(using)
        # Protected foreign keys, one table after the other; a storno and the line it reverses
        # go in the same statement.
        LedgerLine.objects.filter(customer_id__any=pks)._raw_delete(using)
        if related.memberships:
            MembershipPeriod.objects.filter(membership_id__any=related.memberships)._raw_delete(
                using
            )
            Membership.objects.filter(pk__any=related.memberships)._raw_delete(using)
        deleted = Customer.objects.filter(pk__any=pks)._raw_delete(using)
    return int(deleted)


def retention_summary(result: LibraryRetention, *, dry_run: bool) -> str:
    """One line for the operator (`bieb retention`)."""
    if dry_run:
        return (
            f"{result.library.code} ({result.library.name}): te anonimiseren "
            f"{result.anonymised}, te verwijderen {result.deleted}, "
            f"incassobestanden te legen {result.files}"
        )
    return (
        f"{result.library.code} ({result.library.name}): geanonimiseerd {result.anonymised}, "
        f"verwijderd {result.deleted}, incassobestanden geleegd {result.files}"
    )


def _accounts_forget(call: KBCall) -> dict[str, Any]:
    """The retention batch's unlinking at the login service: the same however often it is
    done."""
    links = [(uuid.UUID(account), number) for account, number in call.payload["links"]]
    login_service.forget_accounts(
        library_code=call.payload["library_code"], links=links, actor=call.actor or ACTOR
    )
    return {"count": len(links)}


kb_call_handler(KBCallKind.ACCOUNTS_FORGET)(_accounts_forget)
