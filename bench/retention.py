"""9. Retention at national scale: 1 million customers anonymised, counter searches alongside.

    .venv/bin/python -m bench.retention [--scale 0.1]

Ten bench libraries (920-929) get 1.06 million customers (the loader of bench/data.py, COPY),
each with what a member leaves behind: one Digital only membership with its period and ledger
lines (fee, payment), a login account at the KB with the linked membership (the members with
an e-mail address, 78 %), two audit rows (registered, status changed), a mandate with its
history for one in five (half still active), a renewal mail in the outbox for one in ten. Of
them 1,000,000 ended on 30 November 2026 with saldo zero: the run of 15 January 2029 (cutoff
15 January 2027) anonymises them. One in twenty has a current membership and one in a hundred
still owes the fee: those must survive. The rows are made anew in every run (anonymising is
not undone); the 4 million customers of bench/data.py are loaded once and kept: the searches
run against them too.

Timed: `library_retention_run` of each of the ten libraries, as the daily job runs it (batches
of 500, each its own transaction): total seconds, customers per second, the longest batch
(how long the longest row lock was held: goal well under a second). Meanwhile another process
runs counter searches (`customer_search`) the way staff type them, one every 5 ms: name,
number and postcode + house number in the largest library of the 4 million, and numbers of
customers being anonymised; the same searches for 20 s before the run are the quiet limit.
Reported: median and 95th percentile quiet and during, and the slowest during (a search
waiting on a row lock would show there; readers never wait under MVCC). Then a second run of
the same day (must anonymise nothing) and a dry run (the candidate queries alone).

Only loopback is a target; the libraries are found by code (`bench-920` ...).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import time
from typing import Any

from bench.harness import Figure, bench_library, main, median, percentile

SECTION = "9 retention"
LIBRARY_INDEXES = range(920, 930)
ENDED = 1_000_000
CURRENT_EVERY = 20  # sequence % 20 == 0: a current membership
OWED_EVERY, OWED_AT = 100, 7  # sequence % 100 == 7: ended, still owes
DAY = dt.date(2029, 1, 15)
ENDED_THROUGH = "2026-11-30"
SEARCH_PAUSE = 0.005
QUIET_SECONDS = 20
LONGEST_GOAL = 1.0  # seconds
P95_GOAL_MS = 10.0
SEED = 9


def run(scale: float) -> list[Figure]:
    from django.db import connections

    from bench.data import ensure_customers
    from bieb.libraries.models import Library
    from bieb.retention.services import BATCH, library_retention_run

    dataset = ensure_customers(scale)
    libraries, expected = _load(scale)
    searches = _searches(dataset.largest, libraries)
    print(f"Searches: {len(searches)} kinds x samples, one every {SEARCH_PAUSE * 1000:.0f} ms")

    connections.close_all()
    quiet = _sampled(searches, lambda: time.sleep(QUIET_SECONDS))

    results: list[Any] = []

    def retention() -> None:
        for library in Library.objects.filter(pk__in=[lib.pk for lib in libraries]):
            result = library_retention_run(library=library, today=DAY)
            results.append(result)
            print(
                f"  {library.code}: anonymised {result.anonymised:,} in {result.batches} "
                f"batches, longest {result.longest * 1000:.0f} ms",
                flush=True,
            )

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    busy = _sampled(searches, retention)
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    anonymised = sum(r.anonymised for r in results)
    longest = max(r.longest for r in results)
    batches = sum(r.batches for r in results)
    durations = [d for r in results for d in r.durations]
    _check(libraries, expected)

    t0 = time.perf_counter()
    again = sum(library_retention_run(library=lib, today=DAY).anonymised for lib in libraries)
    second = time.perf_counter() - t0
    t0 = time.perf_counter()
    for library in libraries:
        library_retention_run(library=library, today=DAY, dry_run=True)
    dry = time.perf_counter() - t0

    figures = [
        Figure(
            SECTION,
            f"anonymised {anonymised:,} customers ({batches:,} batches)",
            seconds,
            "s",
            goal=f"= {expected['ended']:,}",
            met=anonymised == expected["ended"],
        ),
        Figure(SECTION, "customers anonymised per second", anonymised / seconds, "/s"),
        Figure(
            SECTION,
            f"batch of {BATCH} customers (one transaction): median",
            median(durations) * 1000,
            "ms",
        ),
        Figure(SECTION, "batch: 95th percentile", percentile(durations, 95) * 1000, "ms"),
        Figure(
            SECTION,
            "batch: longest (the longest any row lock was held)",
            longest * 1000,
            "ms",
            goal=f"< {LONGEST_GOAL * 1000:.0f} ms",
            met=longest < LONGEST_GOAL,
        ),
        Figure(
            SECTION,
            "second run, same day: anonymised",
            again,
            "",
            limit_label=f"in {second:.1f} s",
            goal="0",
            met=again == 0,
        ),
        Figure(SECTION, "dry run afterwards (candidate queries alone)", dry, "s"),
        Figure(
            SECTION,
            "machine's load average (1 min) before the run / after",
            load_before,
            "",
            limit_label=f"{load_after:.1f} after, {os.cpu_count()} cores",
        ),
    ]
    for kind in sorted({k for k, _ in quiet} | {k for k, _ in busy}):
        before = [s for k, s in quiet if k == kind]
        during = [s for k, s in busy if k == kind]
        if not before or not during:
            continue
        q50, q95 = median(before) * 1000, percentile(before, 95) * 1000
        b50, b95 = median(during) * 1000, percentile(during, 95) * 1000
        figures += [
            Figure(
                SECTION,
                f"search {kind}: median during the run ({len(during)}) vs quiet ({len(before)})",
                b50,
                "ms",
                "quiet",
                q50,
                b50 / q50,
            ),
            Figure(
                SECTION,
                f"search {kind}: p95 during vs quiet",
                b95,
                "ms",
                "quiet",
                q95,
                b95 / q95,
                f"p95 < {P95_GOAL_MS:.0f} ms",
                b95 < P95_GOAL_MS,
            ),
            Figure(
                SECTION,
                f"search {kind}: slowest during vs quiet",
                max(during) * 1000,
                "ms",
                "quiet",
                max(before) * 1000,
            ),
        ]
    return figures


# --- searching alongside -------------------------------------------------------------------------


def _searches(largest: Any, libraries: list[Any]) -> list[tuple[str, int, str]]:
    """(kind, library id, what staff type): from the largest library of the 4 million, and
    numbers of customers the run anonymises."""
    from django.db import connection

    from bench.search import _sample, _typed

    rnd = random.Random(SEED)
    rows = _sample(largest.pk, 600, rnd)
    out: list[tuple[str, int, str]] = []
    for kind in ("name", "number", "postcode + house number"):
        typed = [q for q in (_typed(kind, row, rnd) for row in rows) if q]
        out += [(kind, largest.pk, q) for q in typed[:200]]
    with connection.cursor() as cursor:
        for library in libraries:
            cursor.execute(
                "SELECT number FROM customers_customer WHERE library_id = %s "
                "ORDER BY random() LIMIT 40",
                [library.pk],
            )
            out += [("number, being anonymised", library.pk, n) for (n,) in cursor.fetchall()]
    rnd.shuffle(out)
    return out


def _search_loop(searches: list[tuple[str, int, str]], stop: Any, results: Any) -> None:
    """In the child process: search until told to stop, a pause between searches."""
    from django.db import connection

    from bieb.customers.selectors import customer_search
    from bieb.libraries.models import Library

    libraries = {lib.pk: lib for lib in Library.objects.filter(pk__in={s[1] for s in searches})}
    timings: list[tuple[str, float]] = []
    i = 0
    while not stop.is_set():
        kind, library_id, typed = searches[i % len(searches)]
        i += 1
        started = time.perf_counter()
        customer_search(library=libraries[library_id], query=typed)
        timings.append((kind, time.perf_counter() - started))
        time.sleep(SEARCH_PAUSE)
    connection.close()
    results.put(timings)


def _sampled(searches: list[tuple[str, int, str]], work: Any) -> list[tuple[str, float]]:
    """Search in another process while `work()` runs here; the searches' timings."""
    from django.db import connections

    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    connections.close_all()  # the child makes its own connection
    child = context.Process(target=_search_loop, args=(searches, stop, results))
    child.start()
    time.sleep(1)  # its first searches warm its connection; not counted below
    try:
        work()
    finally:
        stop.set()
        timings = results.get(timeout=120)
        child.join(timeout=30)
    return timings[20:]


# --- the data ----------------------------------------------------------------------------------


def _load(scale: float) -> tuple[list[Any], dict[str, int]]:
    """The ten libraries' customers, made anew: returns the libraries and what to expect."""
    from django.db import connection, transaction

    from bench.data import CustomerGenerator, _branch_ids

    total = round(ENDED * scale / (1 - 1 / CURRENT_EVERY - 1 / OWED_EVERY))
    per_library = total // len(LIBRARY_INDEXES)
    libraries = [bench_library(i) for i in LIBRARY_INDEXES]
    ids = [lib.pk for lib in libraries]
    started = time.monotonic()
    _remove(ids)
    print(f"Retention: loading {per_library * len(ids):,} customers ...", flush=True)
    from bench.data import COLUMNS

    branches = _branch_ids(ids)
    generator = CustomerGenerator(SEED)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        with cursor.copy(f"COPY customers_customer ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for index, library in zip(LIBRARY_INDEXES, libraries, strict=True):
                for start in range(0, per_library, 20_000):
                    block, _ = generator.block(
                        library_index=index,
                        library_id=library.pk,
                        prefix=library.customer_number_prefix,
                        branches=branches[library.pk],
                        library_size=per_library,
                        first_sequence=start + 1,
                        count=min(20_000, per_library - start),
                    )
                    copy.write(block)
        print(f"  customers copied ({time.monotonic() - started:.0f} s)", flush=True)
        cursor.execute(
            "UPDATE customers_customernumbersequence SET last_value = %s "
            "WHERE library_id = ANY(%s)",
            [per_library, ids],
        )
        params = {"libraries": ids, "ended": ENDED_THROUGH}
        for label, sql in STEPS:
            t0 = time.monotonic()
            cursor.execute(sql, params)
            print(f"  {label}: {cursor.rowcount:,} rows ({time.monotonic() - t0:.0f} s)")
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(
            "SELECT count(*) FILTER (WHERE k.s %% %s <> 0 AND k.s %% %s <> %s), "
            "count(*) FILTER (WHERE k.s %% %s = 0), count(*) FILTER (WHERE k.s %% %s = %s) "
            "FROM (SELECT row_number() OVER (PARTITION BY library_id ORDER BY id) AS s "
            "FROM customers_customer WHERE library_id = ANY(%s)) k",
            [CURRENT_EVERY, OWED_EVERY, OWED_AT, CURRENT_EVERY, OWED_EVERY, OWED_AT, ids],
        )
        ended, current, owed = cursor.fetchone()
    print(
        f"  loaded in {time.monotonic() - started:.0f} s: {ended:,} to anonymise, "
        f"{current:,} current, {owed:,} still owing",
        flush=True,
    )
    return libraries, {"ended": ended, "current": current, "owed": owed}


TABLES = (
    "customers_customer",
    "customers_membership",
    "customers_membershipperiod",
    "customers_ledgerline",
    "kb_loginaccount",
    "kb_linkedmembership",
    "audit_auditevent",
    "debits_mandate",
    "debits_mandateevent",
    "mail_outboxmessage",
)

# Every customer of these libraries with its sequence (its place in its library) as `s`.
_K = """
    CREATE TEMP TABLE IF NOT EXISTS bench_retention_k AS
    SELECT c.id, c.library_id, c.number, c.email, c.initials, c.surname, c.iban,
           c.registered_branch_id AS branch_id, c.created_at,
           row_number() OVER (PARTITION BY c.library_id ORDER BY c.id) AS s
    FROM customers_customer c WHERE c.library_id = ANY(%(libraries)s)
"""
STEPS = [
    ("sequences", _K),
    (
        "memberships",
        """
        INSERT INTO customers_membership (
            library_id, customer_id, subscription_type_id, tariff_id, branch_id, start_date,
            expiry_month, valid_through, status, rights_through, status_changed_on,
            cancel_reason, created_at)
        SELECT k.library_id, k.id, st.id, t.id, k.branch_id,
               CASE WHEN k.s %% 20 = 0 THEN date '2028-12-01'
                    ELSE least(k.created_at::date, date '2025-12-01') END,
               11,
               CASE WHEN k.s %% 20 = 0 THEN date '2029-11-30' ELSE %(ended)s::date END,
               CASE WHEN k.s %% 20 = 0 THEN 'actief' ELSE 'beeindigd' END,
               CASE WHEN k.s %% 20 = 0 THEN date '2029-11-30' ELSE %(ended)s::date END,
               CASE WHEN k.s %% 20 = 0 THEN NULL ELSE date '2026-12-01' END,
               '', k.created_at
        FROM bench_retention_k k
        JOIN libraries_subscriptiontype st ON st.library_id = k.library_id AND st.code = '0141'
        JOIN libraries_tariff t ON t.library_id = k.library_id AND t.code = '0002'
        ORDER BY k.id
        """,
    ),
    (
        "periods",
        """
        INSERT INTO customers_membershipperiod (
            library_id, membership_id, subscription_type_id, tariff_id, start, "end", fee,
            discount_amount, state, created_at, booked_at, reminders_sent)
        SELECT m.library_id, m.id, m.subscription_type_id, m.tariff_id,
               greatest(m.start_date, m.valid_through - 364), m.valid_through, 42.00, 0,
               'geboekt', m.created_at, m.created_at, 0
        FROM customers_membership m WHERE m.library_id = ANY(%(libraries)s) ORDER BY m.id
        """,
    ),
    (
        "ledger lines",
        """
        INSERT INTO customers_ledgerline (
            library_id, customer_id, membership_id, period_id, kind, amount, method,
            description, booked_at, reason)
        SELECT p.library_id, m.customer_id, m.id, p.id, x.kind, x.amount, x.method,
               x.description, p.booked_at, ''
        FROM customers_membershipperiod p
        JOIN customers_membership m ON m.id = p.membership_id
        JOIN bench_retention_k k ON k.id = m.customer_id
        CROSS JOIN LATERAL (VALUES
            ('abonnementskosten', 42.00, '', 'Digital only, Geldig t/m november 2026'),
            ('betaling', -42.00, 'pin', 'Betaling pin € 42,00'))
            AS x(kind, amount, method, description)
        WHERE p.library_id = ANY(%(libraries)s)
          AND (x.kind = 'abonnementskosten' OR k.s %% 100 <> 7)
        ORDER BY p.id
        """,
    ),
    (
        "login accounts",
        """
        INSERT INTO kb_loginaccount (
            id, username, email, email_verified, state, origin, password, link_version,
            activated_at, last_login, created_at, email_link_version, pending_email,
            session_version)
        SELECT md5(k.number)::uuid, k.number, k.email, true, 'actief', 'balie', '', 0,
               k.created_at, k.created_at + interval '30 days', k.created_at, 0, '', 0
        FROM bench_retention_k k WHERE k.email <> ''
        """,
    ),
    (
        "customers' account ids",
        """
        UPDATE customers_customer SET login_account_id = md5(number)::uuid
        WHERE library_id = ANY(%(libraries)s) AND email <> ''
        """,
    ),
    (
        "linked memberships",
        """
        INSERT INTO kb_linkedmembership (
            account_id, library_code, library_name, customer_number, subscription_code,
            digital_rights, valid_through, state, pay_url, linked_at, starts_on,
            period_through, physical_loans)
        SELECT md5(k.number)::uuid, l.code, l.name, k.number, '0141', 'compleet',
               m.valid_through, m.status, '', k.created_at, m.start_date, m.valid_through,
               false
        FROM bench_retention_k k
        JOIN libraries_library l ON l.id = k.library_id
        JOIN customers_membership m ON m.customer_id = k.id
        WHERE k.email <> ''
        """,
    ),
    (
        "audit rows",
        """
        INSERT INTO audit_auditevent (
            at, actor_name, library_id, action, object_type, object_id, data)
        SELECT k.created_at, 'balie-bench', k.library_id, 'customer.registered',
               'customers.customer', k.id::text,
               jsonb_build_object('number', k.number, 'branch', '0', 'subscription', '0141',
                                  'fee', '42.00', 'login_account',
                                  CASE WHEN k.email <> '' THEN k.number ELSE '' END)
        FROM bench_retention_k k
        UNION ALL
        SELECT timestamptz '2026-12-01 03:00+01', 'verlengrun', m.library_id,
               'membership.status_changed', 'customers.membership', m.id::text,
               jsonb_build_object('from', 'actief', 'to', 'beeindigd', 'on', '2026-12-01')
        FROM customers_membership m
        WHERE m.library_id = ANY(%(libraries)s) AND m.status = 'beeindigd'
        """,
    ),
    (
        "mandates",
        """
        INSERT INTO debits_mandate (
            library_id, customer_id, reference, iban, bic, holder_name, signed_on, kind,
            state, state_changed_at, original_iban, original_bic, consent_text,
            consent_user_agent, created_at)
        SELECT k.library_id, k.id, k.number || '-1',
               CASE WHEN k.iban <> '' THEN k.iban ELSE 'NL91ABNA0417164300' END, '',
               left(k.initials || ' ' || k.surname, 70), k.created_at::date, 'balie',
               CASE WHEN k.s %% 10 = 1 THEN 'actief' ELSE 'ingetrokken' END, k.created_at,
               '', '', '', '', k.created_at
        FROM bench_retention_k k WHERE k.s %% 5 = 1
        """,
    ),
    (
        "mandate history",
        """
        INSERT INTO debits_mandateevent (mandate_id, at, action, description, actor_name)
        SELECT d.id, d.created_at, 'aangemaakt',
               'Machtiging aan de balie getekend, IBAN ' || d.iban, 'balie-bench'
        FROM debits_mandate d WHERE d.library_id = ANY(%(libraries)s)
        """,
    ),
    (
        "mails",
        """
        INSERT INTO mail_outboxmessage (
            "to", subject, text_body, html_body, kind, reference, status, attempts,
            last_error, created_at, sent_at, message_id)
        SELECT k.email, 'Je abonnement bij ' || l.name || ' loopt af op 30-11-2026',
               'Beste ' || k.initials || ' ' || k.surname || ', je abonnement loopt af.', '',
               'customers.renewal_fixed', p.id::text, 'sent', 1, '', p.created_at,
               p.created_at, '<' || p.id || '.bench@bieb.localhost>'
        FROM bench_retention_k k
        JOIN libraries_library l ON l.id = k.library_id
        JOIN customers_membership m ON m.customer_id = k.id
        JOIN customers_membershipperiod p ON p.membership_id = m.id
        WHERE k.email <> '' AND k.s %% 10 = 3
        """,
    ),
    ("done", "DROP TABLE bench_retention_k"),
]


def _remove(library_ids: list[int]) -> None:
    """An earlier run's rows of these libraries, with what refers to them."""
    from django.db import connection, transaction

    from bench.data import _delete_referencing

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM customers_customer WHERE library_id = ANY(%s))",
            [library_ids],
        )
        if not cursor.fetchone()[0]:
            return
    print("  removing the earlier run's rows ...", flush=True)
    t0 = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM mail_outboxmessage WHERE kind = 'customers.renewal_fixed' "
            "AND subject LIKE 'Je abonnement bij Bibliotheek Bench 92_ %%'"
        )
        cursor.execute("DELETE FROM audit_auditevent WHERE library_id = ANY(%s)", [library_ids])
        cursor.execute(
            "DELETE FROM kb_linkedmembership WHERE library_code IN "
            "(SELECT code FROM libraries_library WHERE id = ANY(%s))",
            [library_ids],
        )
        cursor.execute(
            "SELECT prefix FROM (SELECT customer_number_prefix AS prefix "
            "FROM libraries_library WHERE id = ANY(%s)) p",
            [library_ids],
        )
        for (prefix,) in cursor.fetchall():
            for table in ("kb_accountevent", "kb_heldusername"):
                cursor.execute(f"DELETE FROM {table} WHERE username LIKE %s", [f"{prefix}%"])
            cursor.execute(
                "DELETE FROM kb_linkedmembership WHERE account_id IN "
                "(SELECT id FROM kb_loginaccount WHERE username LIKE %s)",
                [f"{prefix}%"],
            )
            cursor.execute("DELETE FROM kb_loginaccount WHERE username LIKE %s", [f"{prefix}%"])
        for index in LIBRARY_INDEXES:  # legacy card numbers of the loader: 21<index>...
            cursor.execute(
                "DELETE FROM kb_linkedmembership WHERE account_id IN "
                "(SELECT id FROM kb_loginaccount WHERE username LIKE %s)",
                [f"21{index:03d}%"],
            )
            cursor.execute(
                "DELETE FROM kb_loginaccount WHERE username LIKE %s", [f"21{index:03d}%"]
            )
        mine = "SELECT id FROM customers_customer WHERE library_id = ANY(%s)"
        _delete_referencing(cursor, "customers_customer", mine, [library_ids])
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM customers_customer WHERE library_id = ANY(%s)", [library_ids])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    print(f"  removed in {time.monotonic() - t0:.0f} s", flush=True)


def _check(libraries: list[Any], expected: dict[str, int]) -> None:
    """Exactly the ended customers with saldo zero are anonymised; their accounts stay at the
    KB, unlinked; the others are untouched."""
    from django.db import connection

    ids = [lib.pk for lib in libraries]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE anonymised_at IS NOT NULL), "
            "count(*) FILTER (WHERE anonymised_at IS NULL AND surname <> 'Geanonimiseerd'), "
            "count(*) FILTER (WHERE anonymised_at IS NOT NULL AND (email <> '' OR "
            "login_account_id IS NOT NULL)) FROM customers_customer WHERE library_id = ANY(%s)",
            [ids],
        )
        anonymised, kept, leaky = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM kb_linkedmembership WHERE library_code IN "
            "(SELECT code FROM libraries_library WHERE id = ANY(%s))",
            [ids],
        )
        (linked,) = cursor.fetchone()
    assert anonymised == expected["ended"], (anonymised, expected)
    assert kept == expected["current"] + expected["owed"], (kept, expected)
    assert leaky == 0
    print(f"  checked: {anonymised:,} anonymised, {kept:,} kept, {linked:,} links left at the KB")


if __name__ == "__main__":
    main(run)
