"""What the benchmarks share: the bench database on PostgreSQL, production settings, timing,
and the figures they report.

Every benchmark is a module `bench/<name>.py` with `run(scale: float) -> list[Figure]`; run on
its own (`python -m bench.<name>`) it prints its own table, and `python -m bench` (make bench)
runs each in a fresh process and prints one table of all of them.
Only loopback is ever a target: the default is the PostgreSQL server on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

BENCH_DATABASE_URL = os.environ.get(
    "BIEB_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bieb_bench"
)


def configure() -> None:
    """Django on the bench database, with the production settings (not the demo, not the test
    settings): DEBUG off, the database task queue, Argon2id, persistent connections."""
    if "django" in sys.modules and getattr(sys.modules["django"], "apps", None):
        from django.apps import apps

        if apps.ready:
            return
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.pop("BIEB_DEMO", None)
    os.environ.pop("EMAIL_URL", None)  # mail stays in the outbox; nothing leaves the machine
    # A throwaway key for this process only; nothing signed with it outlives the run.
    os.environ["SECRET_KEY"] = "bench-" + secrets.token_urlsafe(40)
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["BIEB_SSL_REDIRECT"] = "0"
    os.environ["BIEB_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("BIEB_VAR_DIR", os.path.join(os.getcwd(), "var", "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bieb.settings"
    import django

    django.setup()
    _ensure_database()


def _ensure_database() -> None:
    """Create the bench database if it is missing and bring its schema up to date."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    admin = dict(connection.get_connection_params())
    admin["dbname"] = "postgres"
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0, interactive=False)


def bench_library(index: int = 0, *, branches: int = 2):
    """Bench library number `index` (0-999): code `bench-<index>`, customer-number prefix
    `3<index:03d>`, branches `9<index:03d><b>`, with the demo's subscription types, tariffs and
    discounts. Created once; later calls and runs reuse it."""
    from bieb.demo.loader import library_load

    spec = {
        "code": f"bench-{index}",
        "name": f"Bibliotheek Bench {index}",
        "customer_number_prefix": f"3{index:03d}",
        "branches": [(f"9{index:03d}{b}", f"Bench {index} vestiging {b}") for b in range(branches)],
    }
    return library_load(spec, payment_provider="balie")


def bench_staff(library, username: str | None = None):
    """A counter employee of the library (no password: benches log in with force_login)."""
    from bieb.staff.models import User

    branch = library.branches.order_by("number").first()
    user, _ = User.objects.get_or_create(
        username=username or f"balie-{library.code}",
        defaults={"library": library, "branch": branch, "first_name": "Bench"},
    )
    return user


@dataclass
class Figure:
    """One line of the table: what was measured, against what limit, and the goal."""

    section: str  # e.g. "1 registration"
    label: str  # what was measured
    value: float
    unit: str
    limit_label: str = ""  # the limit measured in the same run
    limit_value: float | None = None
    ratio: float | None = None  # as stated in `goal`
    goal: str = ""  # e.g. "ratio <= 2" or "p95 < 10 ms"
    met: bool | None = None  # None: information, no goal


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(figures: Iterable[Figure], out=sys.stdout) -> None:
    rows = [
        (
            f.section,
            f.label,
            f"{fmt(f.value)} {f.unit}".strip(),
            (f"{fmt(f.limit_value)} {f.unit}".strip() + f"  {f.limit_label}".rstrip())
            if f.limit_value is not None
            else f.limit_label,
            fmt(f.ratio),
            f.goal,
            {True: "yes", False: "NO", None: ""}[f.met],
        )
        for f in figures
    ]
    head = ("", "measured", "value", "limit (same run)", "ratio", "goal", "met")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*head).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print(line.format(*row).rstrip(), file=out)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def timings(fn: Callable[[], object], n: int) -> list[float]:
    """Seconds per call of fn, n times."""
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main(run: Callable[[float], list[Figure]]) -> None:
    """Command line of one benchmark module: `--scale 0.1` for a quick try, `--json` for the
    orchestrator."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BIEB_BENCH_SCALE", 1)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure()
    figures = run(args.scale)
    if args.json:
        print("BENCH-JSON " + json.dumps([asdict(f) for f in figures]))
    else:
        print_table(figures)
