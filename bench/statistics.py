"""11 statistics: the daily figures' job for one day with the 4 million customers (one
membership each, with its period and ledger lines: bench.renewals' memberships), and the two
statistics pages with two years of figures behind them: median and 95th percentile.

Two years of figures are the computed day's rows copied to the 730 days before it (computing
them would take the job's time 730 times and measure nothing more): a page of the last twelve
months, with the same months a year before, then reads as many rows as after two years of the
periodic job.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench.harness import Figure, bench_staff, main, median, percentile, timings

DAY = dt.date(2026, 11, 28)  # bench.data's today
PAGE_RUNS = 40
HISTORY_DAYS = 730


def _copy_history(table: str, day: dt.date, columns: str) -> int:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE day < %s AND day >= %s",
            [day, day - dt.timedelta(days=HISTORY_DAYS)],
        )
        cursor.execute(
            f"INSERT INTO {table} (day, {columns}) "
            f"SELECT d::date, {columns} FROM {table}, "
            "generate_series(%s::date - %s, %s::date - 1, interval '1 day') AS d "
            f"WHERE {table}.day = %s",
            [day, HISTORY_DAYS, day, day],
        )
        copied = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    return copied


KB_EVENTS_SQL = """
WITH made AS (
    SELECT gen_random_uuid() AS id, i,
           %(day)s::timestamptz + (i * 28) * interval '1 second' AS at
    FROM generate_series(1, %(made)s) AS i
), created AS (
    INSERT INTO kb_accountevent (at, account_id, username, event, actor, ip, data)
    SELECT at, id, 'bench-stat-' || i, 'account.created', %(actor)s, NULL,
           CASE WHEN i %% 4 = 0 THEN jsonb_build_object('origin', 'online')
                ELSE jsonb_build_object('origin', 'balie', 'library', 'bench-' || (i %% 150)) END
    FROM made
), activated AS (
    INSERT INTO kb_accountevent (at, account_id, username, event, actor, ip, data)
    SELECT at + (i %% 30) * interval '1 hour', id, 'bench-stat-' || i, 'account.activated',
           %(actor)s, NULL, '{}'::jsonb
    FROM made WHERE i %% 5 <> 0
)
INSERT INTO kb_accountevent (at, account_id, username, event, actor, ip, data)
SELECT %(day)s::timestamptz + (j %% 86400) * interval '1 second', NULL, 'bench-login',
       'login.succeeded', %(actor)s, NULL, '{}'::jsonb
FROM generate_series(1, %(logins)s) AS j
"""


def _kb_events(day: dt.date, made: int = 3000, logins: int = 200_000) -> None:
    """A national day in the KB's security log: accounts made (three quarters at a counter),
    four in five activated within 30 hours, and logins through the day. As the login service
    writes them: a counter's account names its library, an online sign-up none."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM kb_accountevent WHERE actor = %s", ["bench-statistics"])
        cursor.execute(
            KB_EVENTS_SQL,
            {"day": day, "made": made, "logins": logins, "actor": "bench-statistics"},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE kb_accountevent")


def _page(client: Any, url: str) -> list[float]:
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    return timings(lambda: client.get(url), PAGE_RUNS)


def run(scale: float) -> list[Figure]:
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bench.data import ensure_customers
    from bench.renewals import ensure_memberships
    from bieb.kb.statistics.aggregate import kb_figures_day_compute, kb_sums_compute
    from bieb.staff.models import User
    from bieb.statistics.aggregate import figures_day_compute

    dataset = ensure_customers(scale)
    ensure_memberships(dataset)
    figures: list[Figure] = []

    started = time.perf_counter()
    rows = figures_day_compute(day=DAY)
    job = time.perf_counter() - started
    started = time.perf_counter()
    again = figures_day_compute(day=DAY)
    job_again = time.perf_counter() - started
    print(f"library job, one day: {job:.1f} s ({rows} rows), again {job_again:.1f} s", flush=True)
    figures += [
        Figure(
            "11 statistics", "library figures of one day, all libraries", job, "s", goal="seconds"
        ),
        Figure(
            "11 statistics", "the same day again (same rows)", job_again, "s", met=again == rows
        ),
    ]
    _kb_events(DAY)
    started = time.perf_counter()
    kb_rows = kb_figures_day_compute(day=DAY)
    kb_job = time.perf_counter() - started
    figures.append(Figure("11 statistics", "KB figures of one day", kb_job, "s", goal="seconds"))
    print(f"KB job, one day: {kb_job:.1f} s ({kb_rows} rows)", flush=True)

    copied = _copy_history(
        "statistics_dailyfigure",
        DAY,
        "library_id, metric, channel, subscription, age_band, method, kind, count, amount",
    )
    _copy_history("kb_dailyfigure", DAY, "metric, library_code, origin, bucket, count")
    started = time.perf_counter()
    months = kb_sums_compute(start=DAY - dt.timedelta(days=HISTORY_DAYS), end=DAY)
    took = time.perf_counter() - started
    print(f"KB national and monthly sums of two years: {months} monthly rows in {took:.1f} s")
    print(f"two years of library figures: {copied:,} rows", flush=True)

    call_command("collectstatic", interactive=False, verbosity=0)  # as `make run`
    manager = bench_staff(dataset.largest, f"statistiek-{dataset.largest.code}")
    manager.user_permissions.add(Permission.objects.get(codename="statistics"))
    client = Client()
    client.force_login(User.objects.get(pk=manager.pk))
    for label, url in (
        ("per maand, 12 maanden", "/balie/statistiek/?van=2025-12-01&tot=2026-11-28"),
        ("per week, 12 maanden", "/balie/statistiek/?van=2025-12-01&tot=2026-11-28&per=week"),
    ):
        times = _page(client, url)
        p95 = percentile(times, 95) * 1000
        print(f"/balie/statistiek/ {label}: median {median(times) * 1000:.0f} ms, p95 {p95:.0f} ms")
        figures.append(
            Figure(
                "11 statistics",
                f"/balie/statistiek/ {label}: p95",
                p95,
                "ms",
                goal="p95 < 200 ms",
                met=p95 < 200,
            )
        )

    operator, _ = User.objects.get_or_create(
        username="bench-kb-beheer", defaults={"is_superuser": True, "is_staff": True}
    )
    device = TOTPDevice.objects.filter(user=operator).first() or TOTPDevice.objects.create(
        user=operator, name="bench", confirmed=True
    )
    kb_client = Client()
    kb_client.force_login(operator)
    session = kb_client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    for label, url in (
        ("per maand, 12 maanden", "/kb/beheer/statistiek/?van=2025-12-01&tot=2026-11-28"),
        ("per week, 12 maanden", "/kb/beheer/statistiek/?van=2025-12-01&tot=2026-11-28&per=week"),
    ):
        times = _page(kb_client, url)
        p95 = percentile(times, 95) * 1000
        middle = median(times) * 1000
        print(f"/kb/beheer/statistiek/ {label}: median {middle:.0f} ms, p95 {p95:.0f} ms")
        figures.append(
            Figure(
                "11 statistics",
                f"/kb/beheer/statistiek/ {label}: p95",
                p95,
                "ms",
                goal="p95 < 200 ms",
                met=p95 < 200,
            )
        )
    return figures


if __name__ == "__main__":
    main(run)
