"""The bench's library customers: about 4 million over 150 libraries, bulk-loaded with COPY.

    dataset = ensure_customers(scale)   # reuses what an earlier run loaded at this scale

The data looks like the country's: a few city libraries with hundreds of thousands of
customers and a long tail of small ones; Dutch surnames with their real head (de Jong, Jansen,
de Vries, ...) and a long tail of rarer ones; prefixes stored apart from the surname as the
app stores them; postcodes in the app's stored form (`9468BG`); customer numbers made exactly
as the app makes them (library prefix + sequence + Luhn check digit), with each library's
number sequence set past them so later registrations do not collide.

Loading drops the customer table's secondary indexes and outgoing foreign keys, COPYs the rows
in and rebuilds them from their own definitions (so an index a later migration adds is rebuilt
too), then ANALYZEs. A marker row in `bench_dataset` records what was loaded; a run at the same
scale and data version reuses it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from stdnum import luhn

from bench.harness import bench_library

TOTAL_CUSTOMERS = 4_000_000
LIBRARY_COUNT = 150  # bench libraries 0-149 are this dataset's; other benches use 900 and up
DATA_VERSION = 1  # raise when the generated data changes, so the next run reloads
MARKER = "customers"
SEED = 20261128
CHUNK = 20_000  # rows generated and written per COPY block
TODAY = dt.date(2026, 11, 28)
NUMBER_LENGTH = 14  # the app's default customer-number length
LEGACY_SHARE = 0.03  # customers whose scanned card carries a number from an older system

COLUMNS = (
    "library_id",
    "number",
    "salutation",
    "initials",
    "prefix",
    "surname",
    "first_name",
    "birth_date",
    "country",
    "postcode",
    "house_number",
    "house_letter",
    "house_addition",
    "iban",
    "bic",
    "identity_checked",
    "identity_document",
    "email",
    "newsletter",
    "newsletter_consent_at",
    "uses_login_account",
    "login_account_id",
    "login_account_lapsed",
    "registered_branch_id",
    "created_at",
    "updated_at",
)


@dataclass
class Dataset:
    """What is loaded: per library (id, code, customers), the largest library, the total."""

    libraries: list[tuple[int, str, int]]
    largest: Any  # bieb.libraries.models.Library
    total: int
    scale: float
    load_seconds: float | None = None  # what loading it took
    reused: bool = False  # loaded by an earlier run

    def library_ids(self) -> list[int]:
        return [library_id for library_id, _, _ in self.libraries]


# --- public ----------------------------------------------------------------------------------


def ensure_customers(scale: float = 1.0) -> Dataset:
    """The customers of bench libraries 0-149, round(4 million * scale) in all: reused when an
    earlier run loaded the same scale and data version, else (re)loaded in bulk."""
    from bieb.libraries.models import Library

    total = round(TOTAL_CUSTOMERS * scale)
    marker = _marker_read()
    if marker and _marker_holds(marker, scale=scale, total=total):
        codes = [code for _, code, _ in marker["libraries"]]
        by_code = {lib.code: lib for lib in Library.objects.filter(code__in=codes)}
        if len(by_code) == len(codes):
            libraries = [(by_code[c].pk, c, n) for _, c, n in marker["libraries"]]
            print(f"Customers: reusing {total:,} loaded earlier (scale {scale}).", flush=True)
            dataset = _dataset(libraries, by_code, scale, marker.get("seconds"))
            dataset.reused = True
            return dataset
    return _load(scale, total)


def library_sizes(total: int, count: int = LIBRARY_COUNT) -> list[int]:
    """`total` spread over `count` libraries the way the country's are: Zipf-like (exponent
    0.7), so at 4 million the largest has about 325 000 customers and the smallest 10 000."""
    weights = [1 / (rank + 1) ** 0.7 for rank in range(count)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for i in range(total - sum(sizes)):  # hand out what rounding left over
        sizes[i % count] += 1
    # Library index i is not rank i: big and small libraries are mixed over the indexes.
    order = random.Random(SEED).sample(range(count), count)
    return [sizes[order[i]] for i in range(count)]


def customer_number(prefix: str, sequence: int, length: int = NUMBER_LENGTH) -> str:
    """The number the app would hand out (bieb.customers.numbers.compose_number)."""
    from bieb.customers.numbers import compose_number

    return compose_number(prefix=prefix, sequence=sequence, length=length)


# --- marker ----------------------------------------------------------------------------------


def _marker_read() -> dict[str, Any] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (name text PRIMARY KEY, version int NOT "
            "NULL, scale float8 NOT NULL, info jsonb NOT NULL, loaded_at timestamptz NOT NULL)"
        )
        cursor.execute("SELECT version, scale, info FROM bench_dataset WHERE name = %s", [MARKER])
        row = cursor.fetchone()
    if not row:
        return None
    info = row[2] if isinstance(row[2], dict) else json.loads(row[2])
    return {"version": row[0], "scale": row[1], **info}


def _marker_holds(marker: dict[str, Any], *, scale: float, total: int) -> bool:
    """Same version and scale, and the last customer loaded is still there (a cheap check that
    nobody emptied the table since)."""
    from django.db import connection

    if marker["version"] != DATA_VERSION or marker["scale"] != scale:
        return False
    if marker.get("total") != total:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM customers_customer WHERE number = %s", [marker["last"]])
        return cursor.fetchone() is not None


def _marker_write(cursor: Any, scale: float, info: dict[str, Any]) -> None:
    cursor.execute(
        "INSERT INTO bench_dataset (name, version, scale, info, loaded_at) "
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (name) DO UPDATE SET version = "
        "excluded.version, scale = excluded.scale, info = excluded.info, "
        "loaded_at = excluded.loaded_at",
        [MARKER, DATA_VERSION, scale, json.dumps(info)],
    )


def _dataset(
    libraries: list[tuple[int, str, int]],
    by_code: dict[str, Any],
    scale: float,
    seconds: float | None,
) -> Dataset:
    biggest = max(libraries, key=lambda row: row[2])
    return Dataset(
        libraries=libraries,
        largest=by_code[biggest[1]],
        total=sum(n for _, _, n in libraries),
        scale=scale,
        load_seconds=seconds,
    )


# --- loading ---------------------------------------------------------------------------------


def _load(scale: float, total: int) -> Dataset:
    from django.db import connection, transaction

    started = time.monotonic()
    sizes = library_sizes(total)
    print(f"Customers: loading {total:,} over {LIBRARY_COUNT} libraries ...", flush=True)
    libraries = [bench_library(i) for i in range(LIBRARY_COUNT)]
    by_code = {lib.code: lib for lib in libraries}
    ids = [lib.pk for lib in libraries]
    _remove_old(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        truncated = _truncate_if_alone(cursor, ids)
        dropped = _drop_secondary(cursor)
        branches = _branch_ids(ids)
        t0 = time.monotonic()
        generator = CustomerGenerator(SEED)
        last = ""
        copy_sql = f"COPY customers_customer ({', '.join(COLUMNS)}) FROM STDIN"
        if truncated:  # rows are visible to all at once: no hint-bit writes or vacuum later
            copy_sql += " WITH (FREEZE)"
        with cursor.copy(copy_sql) as copy:
            for i, (library, size) in enumerate(zip(libraries, sizes, strict=True)):
                for start in range(0, size, CHUNK):
                    block, last_number = generator.block(
                        library_index=i,
                        library_id=library.pk,
                        prefix=library.customer_number_prefix,
                        branches=branches[library.pk],
                        library_size=size,
                        first_sequence=start + 1,
                        count=min(CHUNK, size - start),
                    )
                    copy.write(block)
                    last = last_number or last
                if (i + 1) % 25 == 0:
                    done = sum(sizes[: i + 1])
                    print(
                        f"  {done:,} customers copied ({time.monotonic() - t0:.0f} s)",
                        flush=True,
                    )
        copied = time.monotonic() - t0
        print(f"  COPY done in {copied:.0f} s; rebuilding indexes ...", flush=True)
        t1 = time.monotonic()
        _recreate(cursor, dropped)
        _sequences_set(cursor, libraries, sizes)
        print(f"  indexes and constraints in {time.monotonic() - t1:.0f} s", flush=True)
        t2 = time.monotonic()
        cursor.execute("ANALYZE customers_customer")
        seconds = time.monotonic() - started
        rows = [(lib.pk, lib.code, n) for lib, n in zip(libraries, sizes, strict=True)]
        info = {"libraries": rows, "total": total, "last": last, "seconds": round(seconds, 1)}
        _marker_write(cursor, scale, info)
    print(
        f"  ANALYZE in {time.monotonic() - t2:.0f} s; loaded {total:,} customers in "
        f"{seconds:.0f} s ({total / max(seconds, 0.001):,.0f} a second)",
        flush=True,
    )
    return _dataset(rows, by_code, scale, seconds)


def _branch_ids(library_ids: list[int]) -> dict[int, list[int]]:
    """Per library its branches' ids (fetched before the COPY, which holds the connection)."""
    from bieb.libraries.models import Branch

    out: dict[int, list[int]] = {i: [] for i in library_ids}
    rows = Branch.objects.filter(library_id__in=library_ids).order_by("number")
    for library_id, pk in rows.values_list("library_id", "pk"):
        out[library_id].append(pk)
    return out


def _referencing(cursor: Any, table: str) -> list[tuple[str, str, bool]]:
    """(table, column, nullable) of every single-column foreign key that points at `table`."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname, NOT a.attnotnull
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND c.conrelid <> c.confrelid
        """,
        [table],
    )
    return list(cursor.fetchall())


def _remove_old(library_ids: list[int]) -> None:
    """Delete an earlier load's customers of these libraries (and whatever other benches hung
    on them), in its own transaction so the space can be vacuumed before the new load."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM customers_customer WHERE library_id = ANY(%s))",
            [library_ids],
        )
        if not cursor.fetchone()[0] or _truncatable(cursor, library_ids) is not None:
            return  # nothing to remove, or the load truncates instead
    print("  removing the earlier load's customers ...", flush=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [MARKER])
        mine = "SELECT id FROM customers_customer WHERE library_id = ANY(%s)"
        _delete_referencing(cursor, "customers_customer", mine, [library_ids])
        # Nothing points at these rows any more: skip the per-row foreign-key triggers.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM customers_customer WHERE library_id = ANY(%s)", [library_ids])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM customers_customer")


def _delete_referencing(cursor: Any, table: str, ids_sql: str, params: list[Any]) -> None:
    """Clear every reference to the rows `ids_sql` selects from `table`: nullable ones are set
    to NULL, rows that must have one are deleted (after clearing what points at them)."""
    for ref_table, column, nullable in _referencing(cursor, table):
        where = f'"{column}" IN ({ids_sql})'
        if nullable:
            cursor.execute(f'UPDATE {ref_table} SET "{column}" = NULL WHERE {where}', params)
        else:
            _delete_referencing(
                cursor, ref_table, f"SELECT id FROM {ref_table} WHERE {where}", params
            )
            cursor.execute(f"DELETE FROM {ref_table} WHERE {where}", params)


def _truncate_if_alone(cursor: Any, library_ids: list[int]) -> bool:
    """TRUNCATE the customer table when that removes nothing but this dataset's customers;
    True when it did."""
    tables = _truncatable(cursor, library_ids)
    if tables is None:
        return False
    cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [MARKER])
    cursor.execute(f"TRUNCATE {', '.join(tables)}")
    return True


def _truncatable(cursor: Any, library_ids: list[int]) -> list[str] | None:
    """The customer table and every table that (in)directly refers to it, when the customer
    table holds only this dataset's customers and the others are empty; else None."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM customers_customer WHERE library_id <> ALL(%s))",
        [library_ids],
    )
    if cursor.fetchone()[0]:
        return None
    seen: set[str] = set()
    todo = ["customers_customer"]
    while todo:
        table = todo.pop()
        for ref_table, _, _ in _referencing(cursor, table):
            if ref_table not in seen:
                seen.add(ref_table)
                todo.append(ref_table)
    for table in seen:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if cursor.fetchone()[0]:
            return None
    return ["customers_customer", *sorted(seen)]


@dataclass
class _Dropped:
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX statement)
    foreign_keys: list[tuple[str, str]]  # (name, constraint definition)


def _drop_secondary(cursor: Any) -> _Dropped:
    """Drop the customer table's indexes that no constraint owns and its outgoing foreign keys;
    their definitions come from the catalog, so what migrations added is included."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = 'customers_customer'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid =
                          (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
        ORDER BY i.indexname
        """
    )
    indexes = list(cursor.fetchall())
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'customers_customer'::regclass AND contype = 'f' ORDER BY conname"
    )
    foreign_keys = list(cursor.fetchall())
    for name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE customers_customer DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return _Dropped(indexes, foreign_keys)


def _recreate(cursor: Any, dropped: _Dropped) -> None:
    for name, statement in dropped.indexes:
        t0 = time.monotonic()
        cursor.execute(statement)
        print(f"    index {name}: {time.monotonic() - t0:.1f} s", flush=True)
    for name, definition in dropped.foreign_keys:
        cursor.execute(f'ALTER TABLE customers_customer ADD CONSTRAINT "{name}" {definition}')


def _sequences_set(cursor: Any, libraries: list[Any], sizes: list[int]) -> None:
    """Each library's number sequence past its loaded customers (registrations come next)."""
    for library, size in zip(libraries, sizes, strict=True):
        cursor.execute(
            "UPDATE customers_customernumbersequence SET last_value = %s WHERE library_id = %s",
            [size, library.pk],
        )


# --- generation ------------------------------------------------------------------------------

# (prefix, surname, bearers in the Netherlands in thousands): the head of the distribution.
COMMON_SURNAMES = [
    ("de", "Jong", 86),
    ("", "Jansen", 75),
    ("de", "Vries", 72),
    ("van den", "Berg", 60),
    ("van", "Dijk", 57),
    ("", "Bakker", 56),
    ("", "Janssen", 55),
    ("", "Visser", 50),
    ("", "Smit", 46),
    ("", "Meijer", 43),
    ("de", "Boer", 42),
    ("", "Mulder", 40),
    ("de", "Groot", 40),
    ("", "Bos", 39),
    ("", "Vos", 35),
    ("", "Peters", 34),
    ("", "Hendriks", 33),
    ("van", "Leeuwen", 32),
    ("", "Dekker", 31),
    ("", "Brouwer", 30),
    ("de", "Wit", 29),
    ("", "Dijkstra", 29),
    ("", "Smits", 29),
    ("de", "Graaf", 28),
    ("van der", "Meer", 27),
    ("van der", "Linden", 26),
    ("", "Kok", 26),
    ("", "Jacobs", 26),
    ("de", "Haan", 25),
    ("", "Vermeulen", 25),
    ("van den", "Heuvel", 25),
    ("van der", "Veen", 24),
    ("van den", "Broek", 24),
    ("de", "Bruijn", 24),
    ("de", "Bruin", 24),
    ("van der", "Heijden", 23),
    ("", "Schouten", 23),
    ("van", "Beek", 22),
    ("", "Willems", 22),
    ("van", "Vliet", 22),
    ("van de", "Ven", 22),
    ("", "Hoekstra", 22),
    ("", "Maas", 21),
    ("", "Verhoeven", 21),
    ("", "Koster", 21),
    ("van", "Dam", 21),
    ("van der", "Wal", 20),
    ("", "Prins", 20),
    ("", "Blom", 20),
    ("", "Huisman", 20),
    ("", "Peeters", 20),
    ("de", "Jonge", 19),
    ("", "Kuipers", 19),
    ("van", "Wijk", 19),
    ("", "Postma", 19),
    ("", "Kuiper", 19),
    ("", "Veenstra", 18),
    ("", "Kramer", 18),
    ("van den", "Brink", 18),
    ("", "Scholten", 18),
    ("van", "Wijngaarden", 17),
    ("", "Martens", 17),
    ("", "Vink", 17),
    ("", "Timmermans", 17),
    ("de", "Ruiter", 16),
    ("", "Groen", 16),
    ("", "Yılmaz", 14),  # noqa: RUF001 (a Turkish dotless i)
    ("", "Kaya", 10),
    ("", "Nguyen", 8),
    ("", "Öztürk", 8),
    ("", "Şahin", 7),
    ("", "Çelik", 6),
    ("", "Mohamed", 9),
    ("el", "Amrani", 5),
    ("'t", "Hart", 10),
    ("in 't", "Veld", 8),
    ("van 't", "Hof", 6),
    ("ter", "Horst", 10),
    ("ten", "Cate", 5),
    ("van der", "Berg", 12),
    ("", "Müller", 6),
    ("", "Sánchez", 3),
]
HEAD_SHARE = 0.11  # the head above covers about 11 % of the population
TAIL_PREFIXES = [
    ("van", 40),
    ("de", 25),
    ("van der", 12),
    ("van den", 8),
    ("van de", 6),
    ("ter", 3),
    ("ten", 2),
    ("'t", 1),
    ("van 't", 1),
    ("den", 1),
    ("in 't", 1),
]
# fmt: off
_STARTS = [
    "Ber", "Brin", "Dek", "Dijk", "Gel", "Ger", "Graaf", "Haar", "Ham", "Heem", "Hel", "Hen",
    "Hil", "Hof", "Hol", "Hoog", "Hui", "Kam", "Kerk", "Klaas", "Koe", "Kool", "Kraai", "Lam",
    "Leeu", "Lin", "Mol", "Noor", "Oos", "Pie", "Reij", "Rie", "Roo", "Sche", "Slui", "Ste",
    "Stok", "Ter", "Val", "Veen", "Ver", "Vlie", "Wes", "Wil", "Wou", "Zand", "Zee", "Zwa", "Bak",
    "Bol", "Bra", "Brug", "Dros", "Eek", "Fle", "Gort", "Groe", "Haag", "Hag", "Jon", "Kal",
    "Knol", "Kui", "Lof", "Mee", "Nij", "Ol", "Pos", "Quak", "Rut", "Sme", "Tim", "Uit", "Vel",
    "Wal", "Wijn", "IJs", "Zuid", "Aar", "Bee", "Dam", "Ek", "Fok", "Gou", "Hek", "Jaar", "Kla",
    "Lui", "Mar", "Nie", "Oud", "Plas", "Ree", "Sij", "Tol", "Vis", "Wey", "Zon",
]
_MIDDLES = ["", "e", "en", "er", "el", "der", "ke", "te", "ings", "ling", "man", "ster"]
_ENDS = [
    "berg", "man", "ink", "sma", "stra", "s", "se", "sen", "ma", "hof", "veld", "kamp", "dijk",
    "huis", "horst", "broek", "ing", "inga", "ens", "er", "aar", "ik", "werf", "wijk", "beek",
    "meijer", "hout", "stein", "land", "donk",
]
MALE_NAMES = [
    "Jan", "Johannes", "Pieter", "Hendrik", "Cornelis", "Willem", "Gerrit", "Jacobus", "Daan",
    "Sem", "Lucas", "Levi", "Noah", "Finn", "Bram", "Thomas", "Ruben", "Mohammed", "Kees", "Henk",
    "Peter", "Erik", "Mark", "Dennis", "Martijn", "Bas", "Thijs", "Jeroen", "Sander", "Joost",
    "Rik", "Tim", "Stijn", "Milan", "Luuk", "Jesse", "Liam", "Adam", "Gijs", "Hans", "Wim",
    "Ahmet", "Youssef", "Koen",
]
FEMALE_NAMES = [
    "Maria", "Johanna", "Anna", "Cornelia", "Wilhelmina", "Elisabeth", "Emma", "Julia", "Sophie",
    "Tess", "Sanne", "Lisa", "Lotte", "Eva", "Fleur", "Saar", "Noor", "Mila", "Zoë", "Iris",
    "Femke", "Anouk", "Linda", "Monique", "Ingrid", "Marieke", "Esther", "Sandra", "Petra", "Els",
    "Ans", "Truus", "Fatima", "Yasmina", "Nora", "Hanna", "Evi", "Lieke", "Amira", "Ilse", "Inge",
    "Karin", "Mirjam",
]
# fmt: on
GIVEN_NAMES = [(n, True) for n in MALE_NAMES] + [(n, False) for n in FEMALE_NAMES]
INITIAL_LETTERS = "ABCDEFGHIJKLMNOPRSTW"
EMAIL_DOMAINS = [
    ("gmail.com", 30),
    ("hotmail.com", 18),
    ("outlook.com", 8),
    ("ziggo.nl", 10),
    ("kpnmail.nl", 7),
    ("live.nl", 5),
    ("planet.nl", 3),
    ("home.nl", 3),
    ("xs4all.nl", 2),
    ("icloud.com", 5),
    ("yahoo.com", 3),
    ("hetnet.nl", 2),
    ("upcmail.nl", 2),
]
# Age bands of library customers: many children (membership is free until 18).
AGE_BANDS = [((0, 5), 8), ((6, 12), 20), ((13, 17), 9), ((18, 29), 10), ((30, 49), 20)]
AGE_BANDS += [((50, 66), 18), ((67, 80), 11), ((81, 99), 4)]
POSTCODE_LETTERS = [
    a + b
    for a in "ABCDEFGHJKLMNPRSTVWXZ"
    for b in "ABCDEFGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
]
IDENTITY_DOCUMENTS = [("id-kaart", 50), ("paspoort", 25), ("rijbewijs", 20), ("verblijf", 5)]


def _cumulative(weights: list[float]) -> list[float]:
    out, running = [], 0.0
    for w in weights:
        running += w
        out.append(running)
    return out


class CustomerGenerator:
    """Customers as COPY text, deterministic for a seed. Built column by column from
    pre-made weighted pools (random.choices in bulk), since 4 million rows leave about 15 µs
    of Python per row."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        rnd = random.Random(seed + 3)
        self.names = self._surnames()
        self.name_weights = _cumulative([w for _, _, w in self.names])
        self.births = self._births(rnd, 40_000)
        self.extra_initials = [""] * 2 + [f"{a}." for a in INITIAL_LETTERS]
        self.extra_initials += [f"{a}.{b}." for a in INITIAL_LETTERS[:10] for b in "ACHJMPW"]
        self.extra_weights = _cumulative([40, 40] + [1.5] * 20 + [0.4] * 70)
        self.houses = [self._house(rnd) for _ in range(5000)]
        self.house_letters = [("", "")] * 92 + [(x, "") for x in "ABC"] + [("", "1"), ("", "2")]
        self.house_letters += [("", "3"), ("", "BIS"), ("", "HS")]
        self.identity = [("t", d) for d, w in IDENTITY_DOCUMENTS for _ in range(w * 9 // 5)]
        self.identity += [("f", "")] * (len(self.identity) // 9)
        self.domains = [d for d, w in EMAIL_DOMAINS for _ in range(w)]
        self.ibans = [("", "")] * 1167 + self._ibans(500)
        # Luhn is positional: a number's checksum is the sum of its parts' checksums, each part
        # padded with zeros to its place. The last three digits' share is looked up here.
        self.luhn_tail = [luhn.checksum(f"{t:03d}0") for t in range(1000)]
        self.luhn_head: dict[str, int] = {}

    def _surnames(self) -> list[tuple[str, str, float]]:
        """The common head with real weights, then ~35 000 made-up Dutch-looking surnames
        with falling weights (a long tail: most are rare)."""
        rnd = random.Random(SEED + 1)
        head_total = sum(w for _, _, w in COMMON_SURNAMES)
        names = [(p, s, HEAD_SHARE * w / head_total) for p, s, w in COMMON_SURNAMES]
        seen = {s for _, s, _ in COMMON_SURNAMES}
        tail = []
        for start in _STARTS:
            for middle in _MIDDLES:
                for end in _ENDS:
                    surname = start + middle + end
                    if surname not in seen:
                        seen.add(surname)
                        tail.append(surname)
        rnd.shuffle(tail)
        prefixes = [p for p, _ in TAIL_PREFIXES]
        prefix_weights = _cumulative([w for _, w in TAIL_PREFIXES])
        rank_weights = [1 / (rank + 200) for rank in range(len(tail))]
        share = (1 - HEAD_SHARE) / sum(rank_weights)
        for surname, weight in zip(tail, rank_weights, strict=True):
            prefix = ""
            if rnd.random() < 0.18:
                prefix = rnd.choices(prefixes, cum_weights=prefix_weights)[0]
            names.append((prefix, surname, weight * share))
        return names

    @staticmethod
    def _births(rnd: random.Random, count: int) -> list[tuple[str, bool]]:
        """(birth date, adult) by the age bands of library customers."""
        bands = rnd.choices([b for b, _ in AGE_BANDS], [w for _, w in AGE_BANDS], k=count)
        today = TODAY.toordinal()
        out = []
        for low, high in bands:
            age_days = rnd.randint(low * 365, high * 365 + 364)
            out.append((dt.date.fromordinal(today - age_days).isoformat(), age_days >= 18 * 365))
        return out

    @staticmethod
    def _house(rnd: random.Random) -> str:
        """Low numbers are common, long streets rare."""
        return str(min(int(rnd.paretovariate(1.2)) + rnd.randrange(40), 2500))

    def _ibans(self, count: int) -> list[tuple[str, str]]:
        from schwifty import IBAN

        rnd = random.Random(SEED + 2)
        out = []
        for _ in range(count):
            bank = rnd.choice(["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB"])
            iban = IBAN.generate("NL", bank_code=bank, account_code=f"{rnd.randrange(10**9):010d}")
            out.append((iban.compact, str(iban.bic.compact) if iban.bic else ""))
        return out

    def number(self, prefix: str, sequence: int) -> str:
        """prefix + sequence + Luhn check digit, as bieb.customers.numbers.compose_number."""
        body = f"{prefix}{sequence:0{NUMBER_LENGTH - len(prefix) - 1}d}"
        head = self.luhn_head.get(body[:-3])
        if head is None:  # the body but its last 3 digits, in place
            if len(self.luhn_head) > 10_000:
                self.luhn_head.clear()
            head = self.luhn_head[body[:-3]] = luhn.checksum(body[:-3] + "0000")
        total = (head + self.luhn_tail[int(body[-3:])]) % 10
        return body + "0123456789"[-total]

    def block(
        self,
        *,
        library_index: int,
        library_id: int,
        prefix: str,
        branches: list[int],
        library_size: int,
        first_sequence: int,
        count: int,
    ) -> tuple[str, str]:
        """`count` customers of one library as COPY text, and the last generated number."""
        rnd = self.random
        choices = rnd.choices
        names = choices(self.names, cum_weights=self.name_weights, k=count)
        givens = choices(GIVEN_NAMES, k=count)
        extras = choices(self.extra_initials, cum_weights=self.extra_weights, k=count)
        births = choices(self.births, k=count)
        postcodes = choices(_postcodes(library_index, library_size), k=count)
        houses = choices(self.houses, k=count)
        house_letters = choices(self.house_letters, k=count)
        identity = choices(self.identity, k=count)
        domains = choices(self.domains, k=count)
        ibans = choices(self.ibans, k=count)
        draws = [rnd.random() for _ in range(count)]
        span, day0 = 15 * 365, TODAY.toordinal() - 15 * 365
        lib, nbranches = str(library_id), len(branches)
        branch_ids = [str(b) for b in branches]
        created_cache: dict[int, str] = {}
        lines = []
        number = ""
        for k in range(count):
            sequence = first_sequence + k
            draw = draws[k]  # one uniform draw, its ranges used for independent-enough choices
            if draw < LEGACY_SHARE:
                card = f"21{library_index:03d}{sequence:08d}"
                customer_number = card + luhn.calc_check_digit(card)
            else:
                customer_number = number = self.number(prefix, sequence)
            name_prefix, surname, _ = names[k]
            given, male = givens[k]
            initials = given[0] + "." + extras[k]
            birth, adult = births[k]
            salutation = ("dhr" if male else "mw") if adult else ""
            day = span * sequence // library_size
            created = created_cache.get(day)
            if created is None:
                registered = dt.date.fromordinal(day0 + day).isoformat()
                created = created_cache[day] = f"{registered} 10:00:00+00"
            email = ""
            if (draw * 13) % 1 < 0.78:
                email = _email(draw, given, initials, name_prefix, surname, domains[k])
            newsletter = email and (draw * 17) % 1 < 0.2
            if (draw * 19) % 1 < 0.005:
                country, postcode, house = "BE", postcodes[k][:4], houses[k]
                letter = addition = ""
            else:
                country, postcode, house = "NL", postcodes[k], houses[k]
                letter, addition = house_letters[k]
            checked, document = identity[k]
            iban, bic = ibans[k]
            lines.append(
                "\t".join(
                    (
                        lib,
                        customer_number,
                        salutation,
                        initials,
                        name_prefix,
                        surname,
                        given if (draw * 23) % 1 < 0.7 else "",
                        birth,
                        country,
                        postcode,
                        house,
                        letter,
                        addition,
                        iban,
                        bic,
                        checked,
                        document,
                        email,
                        "t" if newsletter else "f",
                        created if newsletter else "\\N",
                        "f",
                        "\\N",
                        "f",
                        branch_ids[k % nbranches],
                        created,
                        created,
                    )
                )
            )
        lines.append("")
        return "\n".join(lines), number


def _email(draw: float, given: str, initials: str, prefix: str, surname: str, domain: str) -> str:
    """An address as people have them: jan.jansen@, jjansen@, jan73@, jansen1968@ ..."""
    family = _ascii((prefix + surname).lower().replace(" ", "").replace("'", "")) or "klant"
    style = (draw * 29) % 1
    number = int((draw * 31) % 1 * 1000)
    if style < 0.35:
        local = f"{_ascii(given.lower())}.{family}"
    elif style < 0.6:
        local = initials.replace(".", "").lower() + family
    elif style < 0.8:
        local = f"{_ascii(given.lower())}{number % 100}"
    else:
        local = f"{family}{1950 + number % 70}"
    if number < 500:
        local += str(number)
    if style > 0.97:
        local = local.capitalize()
    return f"{local}@{domain}"


def _ascii(text: str) -> str:
    return text.encode("ascii", "ignore").decode() if not text.isascii() else text


@functools.cache
def _postcodes(library_index: int, library_size: int) -> list[str]:
    """The postcodes a library serves, in the stored form (`9468BG`): a run of 4-digit areas,
    about one per 1 000 customers (an area has some 4 000 residents, a quarter of them
    members), each with 40 letter pairs in use (streets of some 25 addresses)."""
    count = max(3, library_size // 1000)
    start = (library_index * 59) % 9000
    out = []
    for i in range(count):
        area = 1000 + (start + i) % 9000
        for j in range(40):
            out.append(f"{area}{POSTCODE_LETTERS[(area * 7 + j) % len(POSTCODE_LETTERS)]}")
    return out
