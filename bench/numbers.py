"""5. Customer-number allocation by 32 concurrent workers, all for the same library.

    .venv/bin/python -m bench.numbers [--scale 0.1]

32 worker processes (forked from this one after Django is set up, each with its own database
connection, as gunicorn's workers have) allocate numbers for bench library 900 for a fixed
time, all released at once. Processes rather than threads: the allocation is a few statements
with Python in between, and 32 threads would share one interpreter lock, which would make the
bench measure the lock rather than the database; forking costs a few milliseconds per worker
because Django is already loaded.

Three runs of the same workers:
  - `customer_number_allocate()` called on its own, as a caller outside a transaction gets it:
    the figure, against
  - the limit: plain SQL, the single-row `UPDATE ... SET last_value = last_value + 1 ...
    RETURNING` in autocommit (its own transaction), nothing else;
  - information: the allocation inside a transaction that commits right after it, as in a
    registration, where the sequence row stays locked until the registration commits. A real
    registration holds it longer (its other statements run in between), so for one library the
    registrations per second can never exceed this figure.
Every number of every run is collected: no duplicates, all 14 digits with a valid Luhn digit.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable

from bench.harness import Figure, bench_library, main

WORKERS = 32
SECONDS = 8.0  # for ours and for plain SQL each, at scale 1 (half of it in a transaction)
ROUNDS = 2
LIBRARY_INDEX = 900


def _ours(library: object) -> Callable[[], str]:
    from bieb.customers.numbers import customer_number_allocate

    return lambda: customer_number_allocate(library=library)  # type: ignore[arg-type]


def _in_transaction(library: object) -> Callable[[], str]:
    from django.db import transaction

    from bieb.customers.numbers import customer_number_allocate

    def allocate() -> str:
        with transaction.atomic():
            return customer_number_allocate(library=library)  # type: ignore[arg-type]

    return allocate


def _plain(library: object) -> Callable[[], str]:
    from django.db import connection

    def allocate() -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customernumbersequence SET last_value = last_value + 1 "
                "WHERE library_id = %s RETURNING last_value",
                [library.pk],  # type: ignore[attr-defined]
            )
            return str(cursor.fetchone()[0])

    return allocate


def _worker(kind: str, library: object, barrier, seconds: float, out) -> None:
    """One worker: its own connection, warmed up; then allocate until the time is up."""
    from django.db import connection

    try:
        allocate = {"ours": _ours, "transaction": _in_transaction, "plain": _plain}[kind](library)
        allocate()  # connects
        numbers = []
        barrier.wait(timeout=60)
        started = time.perf_counter()
        stop = started + seconds
        while time.perf_counter() < stop:
            numbers.append(allocate())
        out.send((numbers, started, time.perf_counter()))
    except BaseException as error:  # the parent reports it
        out.send(error)
    finally:
        connection.close()
        out.close()


def allocate_concurrently(kind: str, library: object, seconds: float) -> tuple[list[str], float]:
    """All numbers the workers got, and the seconds from the first start to the last stop."""
    from django.db import connections

    connections.close_all()  # the children open their own
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS)
    pipes = []
    workers = []
    for _ in range(WORKERS):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(kind, library, barrier, seconds, send))
        process.start()
        send.close()
        pipes.append(receive)
        workers.append(process)
    results = [pipe.recv() for pipe in pipes]
    for process in workers:
        process.join(timeout=30)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise RuntimeError(f"{kind}: {len(errors)} workers failed") from errors[0]
    numbers = [n for batch, _, _ in results for n in batch]
    elapsed = max(r[2] for r in results) - min(r[1] for r in results)
    return numbers, elapsed


def check(numbers: list[str], prefix: str) -> int:
    """Duplicates among the numbers; asserts every number is well formed."""
    from stdnum import luhn

    bad = [n for n in numbers if len(n) != 14 or not n.startswith(prefix) or not luhn.is_valid(n)]
    assert not bad, f"{len(bad)} malformed numbers, e.g. {bad[:3]}"
    return len(numbers) - len(set(numbers))


def run(scale: float) -> list[Figure]:
    from django.db import connection

    assert connection.vendor == "postgresql"
    seconds = max(1.0, SECONDS * scale)
    library = bench_library(LIBRARY_INDEX)
    prefix = library.customer_number_prefix
    figures = []
    section = "5 numbers"

    # Ours and plain SQL take turns, so that a slow spell of a shared machine hits both.
    ours: list[str] = []
    plain: list[str] = []
    ours_seconds = plain_seconds = 0.0
    for _ in range(ROUNDS):
        numbers, elapsed = allocate_concurrently("ours", library, seconds / ROUNDS)
        ours += numbers
        ours_seconds += elapsed
        numbers, elapsed = allocate_concurrently("plain", library, seconds / ROUNDS)
        plain += numbers
        plain_seconds += elapsed
    assert len(set(plain)) == len(plain), "plain SQL handed out a number twice"
    registered, registered_seconds = allocate_concurrently("transaction", library, seconds / 2)
    duplicates = check(ours + registered, prefix)
    rate = len(ours) / ours_seconds
    plain_rate = len(plain) / plain_seconds
    transaction_rate = len(registered) / registered_seconds
    print(
        f"   {WORKERS} workers, {ours_seconds:.1f} s: {len(ours)} numbers; plain SQL "
        f"{plain_seconds:.1f} s: {len(plain)}; in a transaction {registered_seconds:.1f} s: "
        f"{len(registered)}",
        flush=True,
    )
    figures.append(
        Figure(
            section,
            f"numbers by {WORKERS} workers, 1 library",
            rate,
            "numbers/s",
            "plain SQL UPDATE ... RETURNING",
            plain_rate,
            ratio=rate / plain_rate,
            goal="ours/plain >= 0.5",
            met=rate / plain_rate >= 0.5,
        )
    )
    figures.append(
        Figure(
            section,
            "duplicates (all runs of ours)",
            duplicates,
            "",
            goal="0",
            met=duplicates == 0,
        )
    )
    figures.append(
        Figure(
            section,
            "in a transaction that commits (registration)",
            transaction_rate,
            "numbers/s",
            "plain SQL",
            plain_rate,
            ratio=transaction_rate / plain_rate,
        )
    )
    return figures


if __name__ == "__main__":
    main(run)
