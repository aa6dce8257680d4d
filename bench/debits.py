"""8. Direct debit at the size of a large library: 100,000 debits into pain.008 files, booked on
the collection date, and a return file of 10,000 items.

    .venv/bin/python -m bench.debits [--scale 0.1]

Data, made anew each run in bench library 951 (plain SQL, a few seconds): 100,000 customers,
each with a membership, a booked unpaid period (€ 64,50), an active counter mandate and a debit
planned for 1 February 2027; the library collects (a test Incassant-ID), at most 5,000 debits
per file.

Timed, with the resident set size sampled every 0.2 s:
- `debits_make_files`: all debits into files (20 of 5,000), each validated against the XSD;
  limit: sepaxml and the lxml validation alone, for the same debits (`bieb.debits.pain`);
- `batches_process_due` on the collection date, after the files were marked sent: a payment
  line per debit and the rights refreshed;
- `returns_import` of a camt.054 with 10,000 of those debits returned (AM04): storno, mail and
  rights for each item, a chunk at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from typing import Any

import time_machine

from bench.harness import Figure, bench_library, bench_staff, main
from bench.renewals import RssSampler

INDEX = 951
COUNT = 100_000
RETURNS = 10_000
COLLECTION = dt.date(2027, 2, 1)
MADE_ON = dt.date(2027, 1, 10)
GOAL_SECONDS = 60

SETUP_SQL = """
WITH c AS (
    INSERT INTO customers_customer (
        library_id, number, salutation, initials, prefix, surname, first_name, birth_date,
        country, postcode, house_number, house_letter, house_addition, iban, bic,
        identity_checked, identity_document, email, newsletter, uses_login_account,
        login_account_lapsed, registered_branch_id, created_at, updated_at)
    SELECT %(library)s, '3951' || lpad(g::text, 10, '0'), 'mw', 'A.', '', 'Incasso' || g, '',
           date '1980-01-01', 'NL', '9400AB', g %% 200 + 1, '', '', 'NL91ABNA0417164300',
           'ABNANL2A', true, '', 'lid' || g || '@example.nl', false, false, false,
           %(branch)s, now(), now()
    FROM generate_series(1, %(count)s) g
    RETURNING id, registered_branch_id
), m AS (
    INSERT INTO customers_membership (
        library_id, customer_id, subscription_type_id, tariff_id, branch_id, start_date,
        expiry_month, valid_through, status, rights_through, cancel_reason, created_at)
    SELECT %(library)s, c.id, %(type)s, %(tariff)s, c.registered_branch_id, date '2026-02-01',
           1, date '2027-01-31', 'actief', date '2027-01-31', '', now()
    FROM c RETURNING id, customer_id
), p AS (
    INSERT INTO customers_membershipperiod (
        library_id, membership_id, subscription_type_id, tariff_id, start, "end", fee,
        discount_amount, state, created_at, booked_at, reminders_sent)
    SELECT %(library)s, m.id, %(type)s, %(tariff)s, date '2027-02-01', date '2028-01-31',
           64.50, 0, 'geboekt', now(), now(), 0
    FROM m RETURNING id, membership_id
), l AS (
    INSERT INTO customers_ledgerline (
        library_id, customer_id, membership_id, period_id, kind, amount, method, description,
        reason, booked_at)
    SELECT %(library)s, m.customer_id, m.id, p.id, 'abonnementskosten', 64.50, '',
           'Volwassen Compleet, Geldig t/m 01-2028', '', now()
    FROM p JOIN m ON m.id = p.membership_id RETURNING id
), md AS (
    INSERT INTO debits_mandate (
        library_id, customer_id, reference, iban, bic, holder_name, signed_on, kind, state,
        original_iban, original_bic, consent_text, consent_user_agent, created_at)
    SELECT %(library)s, c.id, '3951-' || c.id || '-1', 'NL91ABNA0417164300', 'ABNANL2A',
           'A. Incasso', date '2026-02-01', 'balie', 'actief', '', '', '', '', now()
    FROM c RETURNING id, customer_id
)
INSERT INTO debits_debit (
    library_id, mandate_id, customer_id, period_id, amount, description, collection_date,
    end_to_end_id, sequence_type, state, iban, original_iban, return_code, cancel_reason,
    replanned, created_at)
SELECT %(library)s, md.id, md.customer_id, p.id, 64.50, 'Abonnement 2027',
       date '2027-02-01', 'BENCH' || lpad(p.id::text, 20, '0'), '', 'gepland', '', '', '', '',
       0, now()
FROM md JOIN m ON m.customer_id = md.customer_id JOIN p ON p.membership_id = m.id
"""


def _clear(cursor: Any, library_id: int) -> None:
    cursor.execute("SET LOCAL session_replication_role = replica")
    for sql in (
        "DELETE FROM debits_returnitem WHERE file_id IN "
        "(SELECT id FROM debits_returnfile WHERE library_id = %s)",
        "DELETE FROM debits_returnfile WHERE library_id = %s",
        "DELETE FROM debits_debit WHERE library_id = %s",
        "DELETE FROM debits_debitbatch WHERE library_id = %s",
        "DELETE FROM debits_mandateevent WHERE mandate_id IN "
        "(SELECT id FROM debits_mandate WHERE library_id = %s)",
        "DELETE FROM debits_mandate WHERE library_id = %s",
        "DELETE FROM customers_ledgerline WHERE library_id = %s",
        "DELETE FROM customers_membershipperiod WHERE library_id = %s",
        "DELETE FROM customers_membership WHERE library_id = %s",
        "DELETE FROM audit_auditevent WHERE library_id = %s",
        "DELETE FROM customers_customer WHERE library_id = %s",
    ):
        cursor.execute(sql, [library_id])
    cursor.execute(
        "DELETE FROM mail_outboxmessage WHERE kind = 'debits.returned' AND reference LIKE 'BENCH%%'"
    )


def setup(count: int) -> tuple[Any, Any]:
    from django.db import connection, transaction

    from bieb.libraries.models import Library, SubscriptionType, Tariff

    library = bench_library(INDEX)
    Library.objects.filter(pk=library.pk).update(
        creditor_id="NL69ZZZ123456780000",
        creditor_iban="NL44RABO0123456789",
        creditor_bic="RABONL2U",
        debits_per_file=5000,
    )
    library.refresh_from_db()
    staff = bench_staff(library, "incasso-bench")
    staff.is_staff = False
    staff.save()
    kind = SubscriptionType.objects.get(library=library, code="0110")
    tariff = Tariff.objects.get(library=library, code="0002")
    t0 = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        _clear(cursor, library.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            SETUP_SQL,
            {
                "library": library.pk,
                "branch": library.branches.order_by("number").first().pk,
                "type": kind.pk,
                "tariff": tariff.pk,
                "count": count,
            },
        )
    with connection.cursor() as cursor:
        for table in (
            "customers_customer",
            "customers_membership",
            "customers_membershipperiod",
            "debits_mandate",
            "debits_debit",
        ):
            cursor.execute(f"ANALYZE {table}")
    print(f"  {count:,} members with a planned debit in {time.monotonic() - t0:.0f} s", flush=True)
    return library, staff


def pain_alone(library: Any) -> float:
    """The limit: the same debits through bieb.debits.pain alone (sepaxml, lxml), from memory."""
    from bieb.debits.collect import creditor_of
    from bieb.debits.models import Debit
    from bieb.debits.pain import DebitLine, pain008_files

    rows = list(
        Debit.objects.filter(library=library)
        .select_related("mandate")
        .order_by("collection_date", "sequence_type", "pk")
    )
    lines = [
        DebitLine(
            end_to_end_id=d.end_to_end_id,
            amount=d.amount,
            debtor_name=d.mandate.holder_name,
            iban=d.mandate.iban,
            bic=d.mandate.bic,
            mandate_reference=d.mandate.reference,
            mandate_signed_on=d.mandate.signed_on,
            sequence_type="RCUR",
            collection_date=d.collection_date,
            description=d.description,
        )
        for d in rows
    ]
    started = time.perf_counter()
    for _ in pain008_files(
        creditor=creditor_of(library),
        debits=lines,
        max_per_file=library.debits_per_file,
        message_id_prefix="LIMIT",
        created_at=dt.datetime(2027, 1, 10, tzinfo=dt.UTC),
    ):
        pass
    return time.perf_counter() - started


def camt_of(library: Any, count: int) -> bytes:
    from bieb.debits.models import Debit
    from tests.debits.camt_files import Tx, document, return_entries

    e2e = (
        Debit.objects.filter(library=library)
        .order_by("pk")
        .values_list("end_to_end_id", flat=True)[:count]
    )
    return document(return_entries([Tx(x, "AM04", "64.50") for x in e2e], batched=True))


def run(scale: float) -> list[Figure]:
    from bieb.debits.collect import batch_mark_sent, batches_process_due, debits_make_files
    from bieb.debits.models import DebitBatch
    from bieb.debits.returns import returns_import

    count = max(100, int(COUNT * scale))
    returns = max(10, int(RETURNS * scale))
    print(f"Direct debit: {count:,} debits, a return file of {returns:,}", flush=True)
    library, staff = setup(count)

    with time_machine.travel(dt.datetime.combine(MADE_ON, dt.time(9), tzinfo=dt.UTC)):
        with RssSampler() as rss_files:
            started = time.perf_counter()
            batches = debits_make_files(library=library, actor=staff, today=MADE_ON)
            files_seconds = time.perf_counter() - started
        total = sum((b.total for b in batches), Decimal("0.00"))
        print(
            f"  files: {len(batches)} with {sum(b.count for b in batches):,} debits "
            f"(€ {total:,.2f}) in {files_seconds:.1f} s; RSS {rss_files.start:.0f} → peak "
            f"{rss_files.peak:.0f} MB; every 5 s: {rss_files.every(5)}",
            flush=True,
        )
        for batch in batches:
            batch_mark_sent(batch=batch, actor=staff)
    limit = pain_alone(library)
    print(f"  limit, bieb.debits.pain alone: {limit:.1f} s", flush=True)

    with (
        time_machine.travel(dt.datetime.combine(COLLECTION, dt.time(3), tzinfo=dt.UTC)),
        RssSampler() as rss_book,
    ):
        started = time.perf_counter()
        booked = batches_process_due(library=library, today=COLLECTION, actor_name="bench")
        book_seconds = time.perf_counter() - started
    print(
        f"  booked on the collection date: {booked:,} in {book_seconds:.1f} s; RSS "
        f"{rss_book.start:.0f} → peak {rss_book.peak:.0f} MB",
        flush=True,
    )
    assert not DebitBatch.objects.filter(library=library, state="verstuurd").exists()

    if os.environ.get("BIEB_BENCH_RETURNS", "1") != "1":  # files and booking only
        returns = 0
    data = camt_of(library, returns) if returns else b""
    with (
        time_machine.travel(dt.datetime.combine(COLLECTION, dt.time(12), tzinfo=dt.UTC)),
        RssSampler() as rss_returns,
    ):
        if not returns:
            return _figures(count, batches, files_seconds, limit, rss_files, booked, book_seconds)
        started = time.perf_counter()
        imported = returns_import(library=library, data=data, filename="camt054.xml", actor=staff)
        returns_seconds = time.perf_counter() - started
    print(
        f"  returns: {imported.file.matched:,} of {imported.file.items:,} processed in "
        f"{returns_seconds:.1f} s; RSS {rss_returns.start:.0f} → peak {rss_returns.peak:.0f} MB",
        flush=True,
    )

    return _figures(
        count, batches, files_seconds, limit, rss_files, booked, book_seconds
    ) + _return_figures(returns, returns_seconds, imported, rss_returns)


def _figures(
    count: int,
    batches: list[Any],
    files_seconds: float,
    limit: float,
    rss_files: RssSampler,
    booked: int,
    book_seconds: float,
) -> list[Figure]:
    section = "8 debits"
    # Memory that does not grow with the count: one file's worth is held at a time, so the
    # peak over all files is the peak of the first ones (the files take about equal time).
    duration = rss_files.samples[-1][0]
    share = min(1.0, 2 / len(batches)) if batches else 1.0
    early = max(v for at, v in rss_files.samples if at <= duration * share)
    return [
        Figure(
            section,
            f"pain.008 files for {count:,} debits ({len(batches)} files)",
            files_seconds,
            "s",
            limit_label="bieb.debits.pain alone",
            limit_value=limit,
            ratio=files_seconds / limit if limit else None,
            goal=f"< {GOAL_SECONDS} s",
            met=files_seconds < GOAL_SECONDS,
        ),
        Figure(
            section,
            "RSS peak while making all files",
            rss_files.peak,
            "MB",
            limit_label="peak during the first two",
            limit_value=early,
            ratio=rss_files.peak / early,
            goal="no growth (≤ 1.1)",
            met=rss_files.peak / early <= 1.1,
        ),
        Figure(section, f"booked on the collection date ({booked:,})", book_seconds, "s"),
    ]


def _return_figures(
    returns: int, returns_seconds: float, imported: Any, rss_returns: RssSampler
) -> list[Figure]:
    section = "8 debits"
    return [
        Figure(
            section,
            f"return file of {returns:,} items imported",
            returns_seconds,
            "s",
            goal=f"< {GOAL_SECONDS} s",
            met=returns_seconds < GOAL_SECONDS and imported.file.matched == returns,
        ),
        Figure(
            section,
            "RSS peak while importing the returns",
            rss_returns.peak,
            "MB",
            limit_label="start",
            limit_value=rss_returns.start,
            ratio=rss_returns.peak / rss_returns.start,
            goal="flat (≤ 1.2)",
            met=rss_returns.peak / rss_returns.start <= 1.2,
        ),
    ]


if __name__ == "__main__":
    os.environ.setdefault("BIEB_BENCH_STATUS_DAY", "0")
    main(run)
