"""7. The renewal run at national scale: one vervalmaand of 4 million members, all libraries.

    .venv/bin/python -m bench.renewals [--scale 0.1] [--profile]

Every bench customer (bench/data.py) gets one membership with its first period (geboekt) and
its ledger lines (fee, discount, payment: saldo 0), written in bulk with INSERT ... SELECT and
kept for later runs (a marker row `memberships` in `bench_dataset`, next to the customers').
The vervalmaanden are spread evenly over the year (periods ending January to December 2027);
under 18 at the period's start Jeugd (free), else Volwassen Compleet (Doorlopend, € 64,50,
some with CJP or Stadspas discount) or one in six Digital only (Vast, € 42,00); about 1 in
100 cancelled. Youth members who turn 18 before their next period move to the adult tariff;
e-mail addresses are the customers' own (about 78 % have one).

Timed: `renewals_run_all(day=2027-01-02)`, the day that brings vervalmaand 1 (periods ending
31 January 2027) into the 30-day lead window, for all 150 libraries: about 333 000
memberships priced, Doorlopend periods booked with their ledger lines, Vast periods offered,
mails rendered and queued. Measured: seconds, memberships per second, SQL statements per 1000
memberships, resident set size sampled every 0.2 s (start, peak, end). Then the same day again
(must book and mail nothing), and the limit: plain SQL inserting as many period, ledger and
outbox rows (INSERT ... SELECT copies of what the run wrote, one transaction). Then the status
day (`BIEB_BENCH_STATUS_DAY=0` skips it): 1 February, when 90 % of the booked periods have been
paid and 90 % of the Vast offers taken; that day the run moves the rest (wacht op betaling,
beëindigd), sends their first reminders, and also prices vervalmaand 2, which enters the lead
window the same day.

Everything a run writes is undone afterwards (its periods, ledger lines, mails, tasks, audit
rows, runs; the memberships set back to their first period), so a rerun starts the same.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import time_machine

from bench.harness import Figure, main

MARKER = "memberships"
DATA_VERSION = 2  # 2: members with an e-mail address have a login account
DAY = dt.date(2027, 1, 2)  # brings periods ending 31 January 2027 into the 30-day lead
STATUS_DAY = dt.date(2027, 2, 1)
PLAIN_RUN = "bench-plain"  # started_by of the run row the plain-SQL limit's periods hang on
RENEWAL_KINDS = ("customers.renewal_automatic", "customers.renewal_fixed")
REMINDER_KINDS = ("customers.reminder_automatic", "customers.reminder_fixed")
GOAL_SECONDS = 120
# The run's processes, as BIEB_RENEWAL_WORKERS sets them for the periodic job and `bieb
# renewals --workers`: one per core of this machine by default; 1 measures one process.
WORKERS = int(os.environ.get("BIEB_BENCH_RENEWAL_WORKERS", "") or os.cpu_count() or 1)


# --- memory -----------------------------------------------------------------------------------


def _rss_of(pid: int | str) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # the process ended meanwhile
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def rss_mb() -> float:
    """The resident set size of the largest of this process and the processes it forked (the
    run's workers): memory that grows with the work would show in one of them."""
    pids, largest = [os.getpid()], 0.0
    while pids:
        pid = pids.pop()
        largest = max(largest, _rss_of(pid))
        pids += _children(pid)
    return largest


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class RssSampler:
    """Resident set size of this process, sampled in a thread while a block runs."""

    interval: float = 0.2
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self.started = time.monotonic()
        self.samples.append((0.0, rss_mb()))
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append((time.monotonic() - self.started, rss_mb()))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.samples.append((time.monotonic() - self.started, rss_mb()))

    @property
    def start(self) -> float:
        return self.samples[0][1]

    @property
    def peak(self) -> float:
        return max(v for _, v in self.samples)

    @property
    def end(self) -> float:
        return self.samples[-1][1]

    def every(self, seconds: float) -> str:
        """The samples about `seconds` apart, for the log."""
        out, next_at = [], 0.0
        for at, value in self.samples:
            if at >= next_at:
                out.append(f"{value:.0f}")
                next_at = at + seconds
        return " ".join(out)


class QueryCounter:
    """Counts the SQL statements Django sends (execute_wrapper), cheap enough to leave on."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


# --- the memberships --------------------------------------------------------------------------


def ensure_memberships(dataset: Any) -> int:
    """One membership per bench customer with its first period and ledger lines; reused when
    the marker says they were made for the customers loaded now. Returns how many."""
    from django.db import connection

    from bench.data import MARKER as CUSTOMERS

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT info->>'loaded_at' FROM bench_dataset WHERE name = %s AND version = %s",
            [MARKER, DATA_VERSION],
        )
        mine = cursor.fetchone()
        cursor.execute("SELECT loaded_at::text FROM bench_dataset WHERE name = %s", [CUSTOMERS])
        customers_loaded = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM customers_membership WHERE library_id = ANY(%s)",
            [dataset.library_ids()],
        )
        present = cursor.fetchone()[0]
    if mine and mine[0] == customers_loaded and present == dataset.total:
        print(f"Memberships: reusing {present:,} made earlier.", flush=True)
        return present
    return _load(dataset, customers_loaded)


def _load(dataset: Any, customers_loaded: str) -> int:
    from django.db import connection, transaction

    ids = dataset.library_ids()
    started = time.monotonic()
    print(f"Memberships: making {dataset.total:,} (one per customer) ...", flush=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Rows made from rows that exist: no per-row foreign-key triggers (the deferred checks
        # of 13 million rows would take minutes at the commit).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [MARKER])
        _undo(cursor, ids)
        for table in ("customers_ledgerline", "customers_membershipperiod"):
            cursor.execute(f"DELETE FROM {table} WHERE library_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM customers_membership WHERE library_id = ANY(%s)", [ids])
        cursor.execute(
            "UPDATE customers_customer SET login_account_id = NULL "
            "WHERE library_id = ANY(%s) AND login_account_id IS NOT NULL",
            [ids],
        )
        cursor.execute("DELETE FROM kb_linkedmembership WHERE library_code LIKE 'bench-%%'")
        cursor.execute("DELETE FROM kb_loginaccount WHERE username LIKE 'bench-%%'")
        steps = [
            ("memberships", MEMBERSHIPS_SQL),
            ("periods", PERIODS_SQL),
            ("ledger lines", LEDGER_SQL),
            ("login accounts", ACCOUNTS_SQL),
            ("customers linked to their account", CUSTOMER_ACCOUNTS_SQL),
            ("memberships in the login service", LINKED_SQL),
        ]
        for name, sql in steps:
            t0 = time.monotonic()
            cursor.execute(sql, {"libraries": ids})
            print(f"  {cursor.rowcount:,} {name} in {time.monotonic() - t0:.0f} s", flush=True)
        cursor.execute(
            "INSERT INTO bench_dataset (name, version, scale, info, loaded_at) VALUES "
            "(%s, %s, %s, jsonb_build_object('loaded_at', %s::text), now()) "
            "ON CONFLICT (name) DO UPDATE SET version = excluded.version, "
            "scale = excluded.scale, info = excluded.info, loaded_at = excluded.loaded_at",
            [MARKER, DATA_VERSION, dataset.scale, customers_loaded],
        )
    with connection.cursor() as cursor:
        for table in (
            "customers_membership",
            "customers_membershipperiod",
            "customers_ledgerline",
            "customers_customer",
            "kb_loginaccount",
            "kb_linkedmembership",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  made in {time.monotonic() - started:.0f} s (with VACUUM ANALYZE)", flush=True)
    return dataset.total


# Per customer one pseudo-random number h (hashint8 of its id) decides the vervalmaand (h mod
# 12) and the kind (h / 12 mod 1000): Digital only 1 in 6 adults, CJP 4 %, Stadspas 2.5 %,
# cancelled 1 %.
MEMBERSHIPS_SQL = """
WITH c AS (
    SELECT id, library_id, registered_branch_id, birth_date, created_at,
           abs(hashint8(id)::bigint) AS h
    FROM customers_customer WHERE library_id = ANY(%(libraries)s)
), p AS (
    SELECT c.*, 1 + h %% 12 AS month, (h / 12) %% 1000 AS r,
           (make_date(2026, (1 + h %% 12)::int, 1) + interval '1 month')::date AS start,
           (make_date(2027, (1 + h %% 12)::int, 1) + interval '1 month - 1 day')::date AS "end"
    FROM c
), k AS (
    SELECT p.*, (p.birth_date + interval '18 years')::date > p.start AS youth FROM p
)
INSERT INTO customers_membership (
    library_id, customer_id, subscription_type_id, tariff_id, discount_id, branch_id,
    start_date, expiry_month, valid_through, status, rights_through, cancel_reason,
    cancelled_at, ends_on, created_at)
SELECT k.library_id, k.id, st.id, t.id,
       CASE WHEN k.youth THEN NULL WHEN k.r >= 150 AND k.r < 190 THEN cjp.id
            WHEN k.r >= 190 AND k.r < 215 THEN pas.id END,
       k.registered_branch_id, k.start, k.month, k."end", 'actief', k."end",
       CASE WHEN k.r >= 990 THEN 'verhuisd' ELSE '' END,
       CASE WHEN k.r >= 990 THEN k.start + interval '100 days' END,
       CASE WHEN k.r >= 990 THEN k."end" END,
       k.start::timestamptz
FROM k
JOIN libraries_subscriptiontype st ON st.library_id = k.library_id AND st.code =
     CASE WHEN k.youth THEN '0101' WHEN k.r < 150 THEN '0141' ELSE '0110' END
JOIN libraries_tariff t ON t.library_id = k.library_id AND t.code =
     CASE WHEN k.youth THEN '0001' ELSE '0002' END
JOIN libraries_discount cjp ON cjp.library_id = k.library_id AND cjp.code = 'CJP'
JOIN libraries_discount pas ON pas.library_id = k.library_id AND pas.code = 'PAS'
ORDER BY k.id
"""

PERIODS_SQL = """
INSERT INTO customers_membershipperiod (
    library_id, membership_id, subscription_type_id, tariff_id, discount_id, start, "end",
    fee, discount_amount, state, created_at, booked_at, reminders_sent)
SELECT m.library_id, m.id, m.subscription_type_id, m.tariff_id, m.discount_id, m.start_date,
       m.valid_through, f.fee,
       CASE WHEN d.id IS NULL OR f.fee = 0 THEN 0
            WHEN d.kind = 'percentage' THEN round(f.fee * d.value / 100, 2)
            ELSE least(d.value, f.fee) END,
       'geboekt', m.created_at, m.created_at, 0
FROM customers_membership m
JOIN libraries_subscriptiontype st ON st.id = m.subscription_type_id
JOIN libraries_tariff t ON t.id = m.tariff_id
LEFT JOIN libraries_discount d ON d.id = m.discount_id
CROSS JOIN LATERAL (SELECT CASE WHEN t.kind = 'gratis' THEN 0
                                WHEN t.kind = 'vast' AND t.amount IS NOT NULL THEN t.amount
                                ELSE st.price END::numeric(10, 2) AS fee) f
WHERE m.library_id = ANY(%(libraries)s)
ORDER BY m.id
"""

# Fee, discount and the payment at the desk on the first day (pin): saldo 0.
LEDGER_SQL = """
INSERT INTO customers_ledgerline (
    library_id, customer_id, membership_id, period_id, kind, amount, method, description,
    reason, branch_id, booked_at)
SELECT p.library_id, m.customer_id, m.id, p.id, l.kind, l.amount, l.method, l.description,
       '', l.branch_id, p.created_at + l.seconds * interval '1 second'
FROM customers_membershipperiod p
JOIN customers_membership m ON m.id = p.membership_id
JOIN libraries_subscriptiontype st ON st.id = p.subscription_type_id
LEFT JOIN libraries_discount d ON d.id = p.discount_id
CROSS JOIN LATERAL (VALUES
    ('abonnementskosten', p.fee, '',
     st.code || ' ' || st.name || ', Geldig t/m ' || to_char(p."end", 'MM-YYYY'), NULL::bigint, 0),
    ('korting', -p.discount_amount, '', coalesce(d.name, ''), NULL, 0),
    ('betaling', -(p.fee - p.discount_amount), 'pin', 'Betaling aan de balie', m.branch_id, 60)
) AS l(kind, amount, method, description, branch_id, seconds)
WHERE p.library_id = ANY(%(libraries)s) AND p.fee > 0 AND l.amount <> 0
ORDER BY p.id
"""


# Every member with an e-mail address has an active login account (made at the counter,
# username "bench-" and the customer number, so that the rows of this bench are recognised),
# its membership linked in the login service as the library pushed it.
ACCOUNTS_SQL = """
INSERT INTO kb_loginaccount (
    id, username, email, email_verified, state, origin, password, link_version, activated_at,
    created_at, session_version, email_link_version, pending_email)
SELECT gen_random_uuid(), 'bench-' || lower(c.number), c.email, true, 'actief', 'balie', '!',
       0, c.created_at, c.created_at, 0, 0, ''
FROM customers_customer c
WHERE c.library_id = ANY(%(libraries)s) AND c.email <> ''
"""

CUSTOMER_ACCOUNTS_SQL = """
UPDATE customers_customer c SET login_account_id = a.id
FROM kb_loginaccount a
WHERE c.library_id = ANY(%(libraries)s) AND c.email <> ''
  AND a.username = 'bench-' || lower(c.number)
"""

LINKED_SQL = """
INSERT INTO kb_linkedmembership (
    account_id, library_code, library_name, customer_number, subscription_code, digital_rights,
    valid_through, state, pay_url, linked_at, physical_loans)
SELECT c.login_account_id, l.code, l.name, c.number, st.code, st.digital_rights,
       m.rights_through, m.status, '', m.created_at, false
FROM customers_membership m
JOIN customers_customer c ON c.id = m.customer_id
JOIN libraries_library l ON l.id = m.library_id
JOIN libraries_subscriptiontype st ON st.id = m.subscription_type_id
WHERE m.library_id = ANY(%(libraries)s) AND c.login_account_id IS NOT NULL
"""


# --- undo -------------------------------------------------------------------------------------


def _undo(cursor: Any, library_ids: list[int]) -> int:
    """Take back what renewal runs (and the plain-SQL limit) wrote in these libraries: their
    periods' ledger lines and mails, the periods, the runs; the memberships back to their first
    period. Returns how many periods were removed."""
    cursor.execute(
        "SELECT array_agg(id) FROM customers_renewalrun WHERE library_id = ANY(%s)",
        [library_ids],
    )
    runs = cursor.fetchone()[0] or []
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bench_undo (id bigint PRIMARY KEY, membership_id bigint)"
    )
    cursor.execute("TRUNCATE bench_undo")
    cursor.execute(
        "INSERT INTO bench_undo SELECT id, membership_id FROM customers_membershipperiod "
        "WHERE renewal_run_id = ANY(%s)",
        [runs],
    )
    periods = cursor.rowcount
    # The planner must know how many rows these are (the tables grew since their last
    # ANALYZE), or it loops over the outbox once per period.
    for table in ("bench_undo", "mail_outboxmessage", "customers_membershipperiod"):
        cursor.execute(f"ANALYZE {table}")
    cursor.execute(
        "DELETE FROM customers_ledgerline WHERE period_id IN (SELECT id FROM bench_undo)"
    )
    cursor.execute(
        "DELETE FROM mail_outboxmessage o USING bench_undo u "
        "WHERE o.kind = ANY(%s) AND o.reference = u.id::text",
        [[*RENEWAL_KINDS, *REMINDER_KINDS, "bench.plain"]],
    )
    cursor.execute(
        "DELETE FROM django_tasks_database_dbtaskresult WHERE task_path LIKE %s",
        ["%mail_send_many%"],
    )
    cursor.execute(
        "DELETE FROM audit_auditevent WHERE library_id = ANY(%s) AND action = ANY(%s)",
        [library_ids, ["renewals.run", "membership.status_changed"]],
    )
    cursor.execute(
        """
        UPDATE customers_membership m SET valid_through = p."end", expiry_month =
            extract(month FROM p."end"), subscription_type_id = p.subscription_type_id,
            tariff_id = p.tariff_id, discount_id = p.discount_id,
            next_subscription_type_id = NULL, status = 'actief', rights_through = p."end",
            status_changed_on = NULL
        FROM (SELECT DISTINCT membership_id FROM bench_undo) u, customers_membershipperiod p
        WHERE m.id = u.membership_id AND p.membership_id = u.membership_id
          AND p.start = m.start_date
        """
    )
    cursor.execute(  # statuses a run moved without a period of its own (none expected)
        """
        UPDATE customers_membership m SET status = 'actief', rights_through = valid_through,
            status_changed_on = NULL
        WHERE m.library_id = ANY(%s) AND m.status <> 'actief'
        """,
        [library_ids],
    )
    cursor.execute(  # the login service's copy, as the memberships are again
        """
        UPDATE kb_linkedmembership lm SET valid_through = m.rights_through, state = m.status,
            subscription_code = st.code, digital_rights = st.digital_rights, pay_url = ''
        FROM customers_membership m
        JOIN customers_customer c ON c.id = m.customer_id
        JOIN libraries_library l ON l.id = m.library_id
        JOIN libraries_subscriptiontype st ON st.id = m.subscription_type_id
        WHERE m.library_id = ANY(%s) AND lm.library_code = l.code
          AND lm.customer_number = c.number
          AND (lm.valid_through IS DISTINCT FROM m.rights_through OR lm.state <> m.status
               OR lm.subscription_code <> st.code OR lm.pay_url <> '')
        """,
        [library_ids],
    )
    cursor.execute("DELETE FROM customers_membershipperiod WHERE id IN (SELECT id FROM bench_undo)")
    cursor.execute("DELETE FROM customers_renewalrun WHERE id = ANY(%s)", [runs])
    return periods


def undo(library_ids: list[int]) -> None:
    from django.db import connection, transaction

    t0 = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        removed = _undo(cursor, library_ids)
    if removed:
        with connection.cursor() as cursor:
            for table in (
                "customers_membership",
                "customers_membershipperiod",
                "customers_ledgerline",
                "mail_outboxmessage",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
        print(
            f"  undone: {removed:,} periods and what hung on them, in "
            f"{time.monotonic() - t0:.0f} s",
            flush=True,
        )


# --- the limit: plain SQL ---------------------------------------------------------------------


def plain_sql(library_ids: list[int], run_ids: list[int]) -> tuple[float, dict[str, int]]:
    """Insert as many period, ledger and outbox rows as the run wrote, copied from its own
    (a year later, on a run row of their own), in one transaction. Seconds and row counts."""
    from django.db import connection, transaction

    from bieb.customers.models import RenewalRun

    holder = RenewalRun.objects.create(library_id=library_ids[0], day=DAY, started_by=PLAIN_RUN)
    with connection.cursor() as cursor:  # what the run wrote, known to the planner
        for table in ("customers_membershipperiod", "customers_ledgerline", "mail_outboxmessage"):
            cursor.execute(f"ANALYZE {table}")
    counts = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_membershipperiod (
                library_id, membership_id, subscription_type_id, tariff_id, discount_id, start,
                "end", fee, discount_amount, state, created_at, booked_at, mailed_at,
                reminders_sent, renewal_run_id)
            SELECT library_id, membership_id, subscription_type_id, tariff_id, discount_id,
                   start + 366, "end" + 366, fee, discount_amount, state, now(), booked_at,
                   mailed_at, 0, %s
            FROM customers_membershipperiod WHERE renewal_run_id = ANY(%s)
            """,
            [holder.pk, run_ids],
        )
        counts["periods"] = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO customers_ledgerline (
                library_id, customer_id, membership_id, period_id, kind, amount, method,
                description, reason, booked_at)
            SELECT l.library_id, l.customer_id, l.membership_id, np.id, l.kind, l.amount,
                   l.method, l.description, l.reason, now()
            FROM customers_ledgerline l
            JOIN customers_membershipperiod p ON p.id = l.period_id
            JOIN customers_membershipperiod np ON np.membership_id = p.membership_id
                 AND np.start = p.start + 366
            WHERE p.renewal_run_id = ANY(%s)
            """,
            [run_ids],
        )
        counts["ledger"] = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO mail_outboxmessage (
                "to", subject, text_body, html_body, kind, reference, status, attempts,
                next_attempt_at, last_error, created_at, message_id)
            SELECT o."to", o.subject, o.text_body, '', 'bench.plain', np.id::text, 'queued', 0,
                   now(), '', now(), o.message_id || '.plain'
            FROM mail_outboxmessage o
            JOIN customers_membershipperiod p ON p.id::text = o.reference
            JOIN customers_membershipperiod np ON np.membership_id = p.membership_id
                 AND np.start = p.start + 366
            WHERE o.kind = ANY(%s) AND p.renewal_run_id = ANY(%s)
            """,
            [list(RENEWAL_KINDS), run_ids],
        )
        counts["mails"] = cursor.rowcount
    seconds = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:  # gone before the status day
        periods = "SELECT id FROM customers_membershipperiod WHERE renewal_run_id = %s"
        cursor.execute(
            f"DELETE FROM customers_ledgerline WHERE period_id IN ({periods})", [holder.pk]
        )
        cursor.execute("DELETE FROM mail_outboxmessage WHERE kind = 'bench.plain'")
        cursor.execute(
            "DELETE FROM customers_membershipperiod WHERE renewal_run_id = %s", [holder.pk]
        )
        cursor.execute("DELETE FROM customers_renewalrun WHERE id = %s", [holder.pk])
    return seconds, counts


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    cpu: float  # CPU seconds of this process (the rest of the wall time waits on the database)
    queries: int
    rss: RssSampler
    booked: int
    offered: int
    not_renewed: int
    mailed: int
    statuses: dict[str, int]


def timed_run(day: dt.date, *, profile: str = "") -> Timed:
    from django.db import connection

    from bieb.customers.renewals import renewals_run_all

    counter = QueryCounter()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    # The run as the periodic job makes it, early on the day itself: the mails' timestamps and
    # the reminders that follow from them are that day's (time.perf_counter is not moved).
    at = dt.datetime.combine(day, dt.time(3, 0), tzinfo=dt.UTC)
    with (
        time_machine.travel(at, tick=True),
        RssSampler() as rss,
        connection.execute_wrapper(counter),
    ):
        started = time.perf_counter()
        cpu_started = cpu_seconds()
        if profiler:
            profiler.enable()
        runs = renewals_run_all(day=day, started_by="bench", workers=WORKERS)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
    if profiler:
        profiler.dump_stats(profile)
        print(f"  profile written to {profile}", flush=True)
    runs = [r for r in runs if r.library.code.startswith("bench-")]
    statuses = {
        "wacht op betaling": sum(r.awaiting for r in runs),
        "betalingsachterstand": sum(r.arrears for r in runs),
        "uitgeschreven": sum(r.deregistered for r in runs),
        "beeindigd": sum(r.ended for r in runs),
    }
    return Timed(
        seconds=seconds,
        cpu=cpu,
        queries=counter.count,
        rss=rss,
        booked=sum(r.booked for r in runs),
        offered=sum(r.offered for r in runs),
        not_renewed=sum(r.not_renewed for r in runs),
        mailed=sum(r.mailed for r in runs),
        statuses=statuses,
    )


def _print_run(name: str, t: Timed) -> None:
    done = t.booked + t.offered + t.not_renewed
    print(
        f"  {name}: {t.seconds:.1f} s in {WORKERS} process(es) (Python {t.cpu:.1f} s CPU); "
        f"booked {t.booked:,}, "
        f"offered {t.offered:,}, not renewed "
        f"{t.not_renewed:,}, mailed {t.mailed:,}; "
        + (
            f"{t.queries:,} statements "
            + (f"({1000 * t.queries / done:.0f} per 1000 memberships)" if done else "")
            if WORKERS == 1
            else "statements counted with BIEB_BENCH_RENEWAL_WORKERS=1 only"
        )
        + f"; statuses {t.statuses}",
        flush=True,
    )
    print(
        f"    RSS start {t.rss.start:.0f} MB, peak {t.rss.peak:.0f} MB, end {t.rss.end:.0f} MB; "
        f"every 5 s: {t.rss.every(5)}",
        flush=True,
    )


def _due_count(library_ids: list[int]) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE st.renewal = 'doorlopend'),
                   count(*) FILTER (WHERE st.code = '0101'
                                    AND (c.birth_date + interval '18 years')::date
                                        <= m.valid_through + 1),
                   count(*) FILTER (WHERE c.email <> '')
            FROM customers_membership m
            JOIN libraries_subscriptiontype st ON st.id = m.subscription_type_id
            JOIN customers_customer c ON c.id = m.customer_id
            WHERE m.library_id = ANY(%s) AND m.valid_through = %s AND m.cancelled_at IS NULL
            """,
            [library_ids, DAY + dt.timedelta(days=29)],
        )
        total, automatic, turning, email = cursor.fetchone()
    return {"due": total, "doorlopend": automatic, "turning_18": turning, "email": email}


def run(scale: float) -> list[Figure]:
    from bench.data import ensure_customers

    dataset = ensure_customers(scale)
    ids = dataset.library_ids()
    ensure_memberships(dataset)
    undo(ids)  # an earlier run that stopped half-way
    due = _due_count(ids)
    print(
        f"Due on {DAY}: {due['due']:,} memberships ({due['doorlopend']:,} Doorlopend, "
        f"{due['turning_18']:,} youth turning 18, {due['email']:,} with e-mail)",
        flush=True,
    )
    profile = os.environ.get("BIEB_BENCH_PROFILE", "")
    first = timed_run(DAY, profile=profile)
    _print_run("first run", first)
    second = timed_run(DAY)
    _print_run("second run, same day", second)

    from bieb.customers.models import RenewalRun

    run_ids = list(
        RenewalRun.objects.filter(library_id__in=ids, started_by="bench").values_list(
            "pk", flat=True
        )
    )
    plain_seconds, plain_counts = plain_sql(ids, run_ids)
    rows = plain_counts["periods"] + plain_counts["ledger"] + plain_counts["mails"]
    print(
        f"  plain SQL: {plain_seconds:.1f} s for {plain_counts['periods']:,} periods, "
        f"{plain_counts['ledger']:,} ledger lines, {plain_counts['mails']:,} mails",
        flush=True,
    )
    status = None
    if os.environ.get("BIEB_BENCH_STATUS_DAY", "1") == "1":
        status = status_day(ids)
    undo(ids)

    done = first.booked + first.offered + first.not_renewed
    section = "7 renewals"
    figures = [
        Figure(
            section,
            f"renewal run, vervalmaand 1, {done:,} memberships, 150 libraries, "
            f"{WORKERS} process{'es' if WORKERS > 1 else ''}",
            first.seconds,
            "s",
            limit_label=f"plain SQL, {rows:,} rows",
            limit_value=plain_seconds,
            ratio=first.seconds / plain_seconds,
            goal=f"< {GOAL_SECONDS} s",
            met=first.seconds < GOAL_SECONDS and done == due["due"],
        ),
        Figure(section, "memberships per second", done / first.seconds, "/s"),
        Figure(
            section,
            "rows written per second (period + ledger + outbox)",
            rows / first.seconds,
            "/s",
        ),
        *(
            [Figure(section, "statements per 1000 memberships", 1000 * first.queries / done, "")]
            if WORKERS == 1
            else []
        ),
        Figure(
            section,
            "RSS start / end",
            first.rss.end,
            "MB",
            limit_label="start",
            limit_value=first.rss.start,
            ratio=first.rss.end / first.rss.start,
        ),
        Figure(
            section,
            "RSS peak during the run",
            first.rss.peak,
            "MB",
            limit_label="start",
            limit_value=first.rss.start,
            ratio=first.rss.peak / first.rss.start,
            goal="flat (≤ 1.2)",
            met=first.rss.peak / first.rss.start <= 1.2,
        ),
        Figure(
            section,
            "second run, same day: booked + mailed",
            second.booked + second.offered + second.mailed,
            "",
            goal="0",
            met=second.booked + second.offered + second.mailed == 0,
        ),
        Figure(section, "second run, same day: time", second.seconds, "s"),
    ]
    if status is not None:
        figures.append(
            Figure(section, f"status day {STATUS_DAY}: {status.statuses}", status.seconds, "s")
        )
    return figures


def status_day(library_ids: list[int]) -> Timed:
    """The 1st of the month after: 90 % of the booked periods paid (and their rights
    refreshed, as paying does), Vast offers renewed and paid by 90 %; then the run."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Vast offers taken (renewed through the link) by 9 in 10: booked, fee line.
        cursor.execute(
            """
            WITH taken AS (
                UPDATE customers_membershipperiod p SET state = 'geboekt', booked_at = now()
                FROM customers_renewalrun r
                WHERE r.id = p.renewal_run_id AND r.started_by = 'bench' AND p.state = 'aangeboden'
                  AND abs(hashint8(p.id)) %% 10 <> 0
                RETURNING p.*
            ), m AS (
                UPDATE customers_membership m SET valid_through = t."end",
                    subscription_type_id = t.subscription_type_id, tariff_id = t.tariff_id,
                    discount_id = t.discount_id
                FROM taken t WHERE t.membership_id = m.id RETURNING m.id, m.customer_id
            )
            INSERT INTO customers_ledgerline (library_id, customer_id, membership_id, period_id,
                kind, amount, method, description, reason, booked_at)
            SELECT t.library_id, m.customer_id, t.membership_id, t.id, 'abonnementskosten',
                   t.fee, '', 'Verlengd', '', now()
            FROM taken t JOIN m ON m.id = t.membership_id WHERE t.fee > 0
            """,
            [],
        )
        # Paid, 9 in 10 of the booked: a payment line and the rights through the new end.
        cursor.execute(
            """
            WITH paid AS (
                SELECT p.* FROM customers_membershipperiod p
                JOIN customers_renewalrun r ON r.id = p.renewal_run_id AND r.started_by = 'bench'
                WHERE p.state = 'geboekt' AND abs(hashint8(p.membership_id)) %% 10 <> 0
            ), lines AS (
                INSERT INTO customers_ledgerline (library_id, customer_id, membership_id,
                    period_id, kind, amount, method, description, reason, booked_at)
                SELECT p.library_id, m.customer_id, p.membership_id, p.id, 'betaling',
                       -(p.fee - p.discount_amount), 'ideal', 'Betaling', '', now()
                FROM paid p JOIN customers_membership m ON m.id = p.membership_id
                WHERE p.fee - p.discount_amount > 0
            )
            UPDATE customers_membership m SET rights_through = p."end"
            FROM paid p WHERE p.membership_id = m.id
            """,
            [],
        )
    t = timed_run(STATUS_DAY)
    _print_run(f"status day {STATUS_DAY}", t)
    return t


if __name__ == "__main__":
    main(run)
