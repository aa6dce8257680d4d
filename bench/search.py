"""3 Customer search at the counter, with about 4 million customers loaded.

For each kind of search (number, name, postcode + house number, e-mail, a part from inside an
e-mail address) a few hundred searches
as counter staff type them, sampled from the customers of the largest library and of a typical
one, go through the selector the counter uses (customer_search). Each search's SQL, exactly as
the selector sends it, is also run in plain SQL (a psycopg cursor on the same connection,
fetchall): that is the limit. Ours and plain alternate, search by search, after one warm-up
pass, so both meet the same cache. Goals: median within 1.5 times plain SQL, 95th percentile
under 10 ms. The plan of one search per kind is printed, with the index it uses.

    .venv/bin/python -m bench.search [--scale 0.1]
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any

from bench.data import Dataset, ensure_customers
from bench.harness import Figure, main, median, percentile

SECTION = "3 search"
KINDS = ("number", "name", "postcode + house number", "e-mail", "e-mail part")
PER_LIBRARY = 150  # searches per kind in each of the two libraries
SEED = 3
MEDIAN_GOAL = 1.5  # ours ÷ plain SQL
P95_GOAL_MS = 10.0


def run(scale: float) -> list[Figure]:
    from django.db import connection

    dataset = ensure_customers(scale)
    connection.ensure_connection()
    libraries = [dataset.largest, _typical(dataset)]
    rnd = random.Random(SEED)
    searches: dict[str, list[tuple[Any, str]]] = {kind: [] for kind in KINDS}
    for library in libraries:
        rows = _sample(library.pk, PER_LIBRARY * 3, rnd)
        for kind in KINDS:
            typed = [q for q in (_typed(kind, row, rnd) for row in rows) if q]
            searches[kind] += [(library, q) for q in typed[:PER_LIBRARY]]
    print(
        f"Search: {dataset.total:,} customers; {len(searches['name'])} searches per kind in "
        f"{libraries[0].code} ({_size(dataset, libraries[0])} customers) and "
        f"{libraries[1].code} ({_size(dataset, libraries[1])})",
        flush=True,
    )
    figures = _load_figures(dataset)
    indexed = 0
    for kind in KINDS:
        ours, plain, example = _measure(searches[kind])
        figures += _kind_figures(kind, ours, plain)
        indexes = _explain(kind, *example)
        indexed += bool(indexes)
    figures.append(
        Figure(
            SECTION,
            "kinds whose plan reads an index, not the table",
            indexed,
            "",
            limit_label=f"of {len(KINDS)}",
            limit_value=None,
            goal=f"all {len(KINDS)}",
            met=indexed == len(KINDS),
        )
    )
    return figures


# --- what staff type ---------------------------------------------------------------------------


def _typical(dataset: Dataset) -> Any:
    """The library of median size: the typical one."""
    from bieb.libraries.models import Library

    ordered = sorted(dataset.libraries, key=lambda row: row[2])
    library_id = ordered[len(ordered) // 2][0]
    return Library.objects.get(pk=library_id)


def _size(dataset: Dataset, library: Any) -> str:
    size = next(n for pk, _, n in dataset.libraries if pk == library.pk)
    return f"{size:,}"


def _sample(library_id: int, count: int, rnd: random.Random) -> list[dict[str, Any]]:
    """Random customers of the library (the loader gives a library one run of ids)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM customers_customer WHERE library_id = %s", [library_id]
        )
        low, high = cursor.fetchone()
        ids = [rnd.randint(low, high) for _ in range(count)]
        cursor.execute(
            "SELECT number, prefix, surname, initials, first_name, country, postcode, "
            "house_number, house_letter, email FROM customers_customer "
            "WHERE library_id = %s AND id = ANY(%s)",
            [library_id, ids],
        )
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    rnd.shuffle(rows)
    return rows


def _typed(kind: str, row: dict[str, Any], rnd: random.Random) -> str:
    """What counter staff type to find this customer, the ways they do."""
    pick = rnd.random()
    if kind == "number":
        number = row["number"]
        if pick < 0.6:
            return number  # scanned or typed in full
        if pick < 0.75:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number[: rnd.randint(8, 12)]  # still typing
    if kind == "name":
        return _typed_name(row, pick, rnd)
    if kind == "postcode + house number":
        if row["country"] != "NL" or row["house_number"] is None:
            return ""
        postcode, house = row["postcode"], f"{row['house_number']}{row['house_letter']}"
        if pick < 0.6:
            return f"{postcode[:4]} {postcode[4:]} {house}"
        if pick < 0.8:
            return f"{postcode}{house}"
        return f"{postcode[:4]} {postcode[4:].lower()} {house.lower()}"
    email = row["email"]
    if not email:
        return ""
    if kind == "e-mail part":
        # a part staff remember from inside the address; the names are tried first, as the
        # counter does, then the trigram index
        local = email[: email.index("@")].lower()
        if pick < 0.6 or len(local) < 6:
            return local
        size = rnd.randint(5, min(8, len(local) - 1))
        start = rnd.randint(1, len(local) - size)
        part = local[start : start + size]
        return local if part.isdigit() else part
    if pick < 0.6:
        return email
    if pick < 0.7:
        return email.upper()
    return email[: email.index("@") + 1]


def _typed_name(row: dict[str, Any], pick: float, rnd: random.Random) -> str:
    surname, prefix = row["surname"], row["prefix"]
    initials, first_name = row["initials"], row["first_name"]
    if pick < 0.3:
        return surname.lower()  # jansen
    if pick < 0.45:
        return surname[: rnd.randint(3, 5)].lower()  # jans
    if pick < 0.6 and prefix:
        return f"{prefix} {surname}".lower()  # de jong
    if pick < 0.7:
        return f"{surname} {initials[0]}".lower()  # jansen j
    if pick < 0.8:
        return f"{initials} {surname}"  # E.B. Tester
    if pick < 0.85 and prefix:
        return f"{surname}, {prefix}"  # Jong, de
    if pick < 0.95 and first_name:
        return f"{first_name} {prefix} {surname}".replace("  ", " ")  # Piet de Jong
    return surname


# --- measuring ---------------------------------------------------------------------------------


def _measure(
    searches: list[tuple[Any, str]],
) -> tuple[list[float], list[float], tuple[Any, str, list[tuple[str, Any]]]]:
    """Seconds per search through customer_search and per the same SQL in plain SQL."""
    from django.db import connection

    from bieb.customers.selectors import customer_search

    statements = []
    for library, typed in searches:  # warm-up, and the SQL each search sends
        captured: list[tuple[str, Any]] = []
        with connection.execute_wrapper(_capture(captured)):
            found, more = customer_search(library=library, query=typed)
        statements.append(captured)
        rows = _plain(connection.connection, captured)
        if len(rows) != len(found) + more:
            print(f"  mismatch for {typed!r}: {len(found)} found, plain SQL {len(rows)}")
    raw = connection.connection
    ours, plain = [], []
    for i, ((library, typed), captured) in enumerate(zip(searches, statements, strict=True)):
        for which in (0, 1) if i % 2 else (1, 0):
            started = time.perf_counter()
            if which == 0:
                customer_search(library=library, query=typed)
                ours.append(time.perf_counter() - started)
            else:
                _plain(raw, captured)
                plain.append(time.perf_counter() - started)
    return ours, plain, (searches[0][0], searches[0][1], statements[0])


def _capture(into: list[tuple[str, Any]]) -> Callable[..., Any]:
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        into.append((sql, params))
        return execute(sql, params, many, context)

    return wrapper


def _plain(raw: Any, statements: list[tuple[str, Any]]) -> list[tuple[Any, ...]]:
    """The statements on the psycopg connection itself; the rows of the last one."""
    rows: list[tuple[Any, ...]] = []
    for sql, params in statements:
        with raw.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    return rows


def _kind_figures(kind: str, ours: list[float], plain: list[float]) -> list[Figure]:
    ours_median, plain_median = median(ours) * 1000, median(plain) * 1000
    ours_p95, plain_p95 = percentile(ours, 95) * 1000, percentile(plain, 95) * 1000
    ratio = ours_median / plain_median
    return [
        Figure(
            SECTION,
            f"{kind}: median of {len(ours)}",
            ours_median,
            "ms",
            "plain SQL",
            plain_median,
            ratio,
            f"ratio <= {MEDIAN_GOAL}",
            ratio <= MEDIAN_GOAL,
        ),
        Figure(
            SECTION,
            f"{kind}: 95th percentile",
            ours_p95,
            "ms",
            "plain SQL",
            plain_p95,
            ours_p95 / plain_p95,
            f"p95 < {P95_GOAL_MS:.0f} ms",
            ours_p95 < P95_GOAL_MS,
        ),
    ]


def _load_figures(dataset: Dataset) -> list[Figure]:
    """How long the bulk load took: in this run, or in the earlier run that made the data."""
    if dataset.load_seconds is None:
        return []
    when = " (an earlier run)" if dataset.reused else ""
    return [
        Figure(
            SECTION,
            f"bulk load of {dataset.total:,} customers{when}",
            dataset.load_seconds,
            "s",
            goal="< 180 s",
            met=dataset.load_seconds < 180,
        )
    ]


def _explain(kind: str, library: Any, typed: str, statements: list[tuple[str, Any]]) -> list[str]:
    """Print the plan of one search (the last statement it ran); the indexes it reads."""
    from django.db import connection

    sql, params = statements[-1]
    with connection.connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    indexes = re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\S+)", "\n".join(plan))
    seq = any("Seq Scan on customers_customer" in line for line in plan)
    print(f"Plan, {kind} search {typed!r} in {library.code}:")
    for line in plan:
        print(f"    {line}")
    return [] if seq else indexes


if __name__ == "__main__":
    main(run)
