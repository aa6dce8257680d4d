"""4. Purge of expired, never-activated login accounts, as the periodic job runs it.

    .venv/bin/python -m bench.purge [--scale 0.1]

Bulk-loads (COPY) 1 million accounts that waited for an activation that never came, their
deadline passed in the last 30 days: three in five made at the counter (username = customer
number, with the linked membership), two in five signed up online. Next to them lives a
population that must survive, loaded once and reused by later runs: active and blocked accounts
(with and without memberships, a few with an old deadline left in the row), accounts whose
deadline is still ahead, and accounts that were once activated and wait again with a deadline
that passed.

The limit, measured in the same run: plain SQL doing the same work (delete the oldest expired
accounts and their memberships, write their audit rows), one statement per batch of the same
size, in autocommit. It runs first, on a tenth as many accounts of the same mix loaded with the
others but with deadlines 31-37 days ago, told to stop at that boundary; then the table is
vacuumed and `accounts_purge_expired()` runs as the periodic job calls it and deletes the
million. So everything is loaded once. After each run the bench asserts that every survivor
and every account not yet due is still there and every purged account and membership is gone.

Figures: accounts per second, ours against plain SQL; the longest single batch (one
transaction: how long its row locks are held). Plain SQL starts each batch at the head of the
deadline index and steps over the entries of the accounts it already deleted; the purge keeps
its place between batches. So the ratio can exceed 1, more so with more accounts. About 70% of
either is PostgreSQL checking the six foreign keys to the account table for each deleted row.

Rows of this bench: usernames `3910…` to `3913…` (customer numbers with the prefixes of bench
libraries 910-913) and `bp?-…`; memberships of libraries `bench-910` to `bench-913`. The purge
deletes every expired never-activated account in the database: the bench purges once before it
starts (untimed) so that it measures its own rows only.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from bench.harness import Figure, main

EXPIRED = 1_000_000
PLAIN_SHARE = 0.1  # as many again, for the plain SQL limit
ACTIVE = 300_000
DISABLED = 5_000
WAITING = 20_000  # deadline still ahead
REWAITING = 1_000  # once activated, waiting again (e-mail change), deadline passed
DAY = 86400
PLAIN_BOUNDARY = dt.timedelta(days=30, hours=12)  # plain SQL's share lies beyond this

PASSWORD_HASH = (
    "argon2$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hwdXJnZXNhbHQ$"
    "9vH0Ow3Jm0tq7mXKcPqJ3Xk1dYcXg4d3rBz4oXHhS0A"
)
# fmt: off
FIRST = [
    "sanne", "emma", "julia", "lotte", "anna", "tess", "sophie", "lisa", "eva", "fleur", "noah",
    "daan", "sem", "lucas", "levi", "finn", "milan", "jesse", "bram", "thijs", "jan", "piet",
    "kees", "henk", "ingrid", "marieke", "annelies", "joost", "ruud", "wim", "fatima", "mohamed",
    "yusuf", "aisha", "priya", "chen",
]
LAST = [
    "devries", "jansen", "debruijn", "bakker", "visser", "smit", "meijer", "degroot", "mulder",
    "bos", "vos", "peters", "hendriks", "vanleeuwen", "dekker", "brouwer", "dewit", "dijkstra",
    "smits", "vandijk", "vandenberg", "kok", "jacobs", "vermeulen", "willems", "yilmaz",
    "elamrani", "nguyen", "kaya", "ozturk",
]
DOMAINS = [
    "ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.com", "outlook.com", "xs4all.nl", "planet.nl",
    "home.nl", "live.nl", "icloud.com",
]
# fmt: on
SUBSCRIPTIONS = (("0110", "compleet"), ("0141", "compleet"), ("0101", "jeugd"))
ACCOUNT_COLUMNS = (
    "id, username, email, email_verified, state, origin, password, activation_deadline, "
    "link_version, activated_at, last_login, created_at, email_link_version, pending_email, "
    "session_version"
)
MEMBERSHIP_COLUMNS = (
    "library_code, library_name, customer_number, subscription_code, digital_rights, "
    "valid_through, linked_at, account_id, state, pay_url, physical_loans"
)


@dataclass(frozen=True)
class Kind:
    """One group of rows of this bench, recognised by its username prefix."""

    name: str
    prefix: str  # digits: counter accounts, username = customer number with this prefix
    state: str
    # Deadline in seconds from now (a range); None: no deadline (activated accounts).
    deadline: tuple[int, int] | None = None
    activated: bool = True
    membership_share: float = 0.0  # online accounts: linked to a bench-913 membership
    linked_prefix: str = ""  # of those memberships' customer numbers

    @property
    def counter(self) -> bool:
        return self.prefix.isdigit()


OURS = (
    Kind("expired counter", "3911", "wacht", (-30 * DAY, -60), activated=False),
    Kind("expired online", "bpx-", "wacht", (-30 * DAY, -60), activated=False),
)
PLAIN = (
    Kind("plain counter", "3912", "wacht", (-37 * DAY, -31 * DAY), activated=False),
    Kind("plain online", "bpy-", "wacht", (-37 * DAY, -31 * DAY), activated=False),
)
SURVIVORS = (
    Kind("active counter", "3910", "actief"),
    Kind("active online", "bpa-", "actief", membership_share=0.2, linked_prefix="39130"),
    Kind("blocked", "bpd-", "geblokkeerd", membership_share=0.1, linked_prefix="39131"),
    Kind("waiting", "bpw-", "wacht", (3600, 23 * 3600), activated=False),
    Kind("waiting again", "bpr-", "wacht", (-30 * DAY, -60), membership_share=0.1,
         linked_prefix="39132"),
)  # fmt: skip


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_digit(body: str) -> str:
    digits = body[::-1]
    total = sum(_DOUBLED[int(d)] for d in digits[0::2]) + sum(map(int, digits[1::2]))
    return str(-total % 10)


def _customer_number(prefix: str, sequence: int) -> str:
    body = f"{prefix}{sequence:0{13 - len(prefix)}d}"
    return body + _luhn_digit(body)


def rows(
    kind: Kind, start: int, stop: int, now: dt.datetime, *, in_order: bool = False
) -> Iterator[tuple[str, str]]:
    """COPY lines (account, membership or "") for rows start..stop-1 of a kind; seeded by kind,
    start and time, so that no two loads share an id. `in_order`: deadlines rise with the row,
    as they do in a table where accounts arrive one after another."""
    rng = random.Random(f"{kind.name}-{start}-{now.isoformat()}")
    rand, bits = rng.random, rng.getrandbits
    counter = kind.counter
    origin = "balie" if counter else "online"
    library = f"bench-{kind.prefix[1:]}" if counter else "bench-913"
    past = 3 * 365 * DAY
    low, high = kind.deadline or (0, 0)
    for i in range(start, stop):
        first = FIRST[int(rand() * len(FIRST))]
        last = LAST[int(rand() * len(LAST))]
        pk = str(uuid.UUID(int=bits(128), version=4))
        username = (
            _customer_number(kind.prefix, i) if counter else f"{kind.prefix}{first}.{last}.{i}"
        )
        style = rand()
        if style < 0.4:
            local = f"{first}.{last}"
        elif style < 0.7:
            local = f"{first[0]}{last}{int(style * 1000) % 99 + 1}"
        else:
            local = f"{first}{1950 + int(style * 10000) % 63}"
        email = f"{local}@{DOMAINS[int(rand() * len(DOMAINS))]}"
        created = now - dt.timedelta(seconds=3600 + int(rand() * past))
        deadline = activated = last_login = r"\N"
        password, verified, versions = "", "f", "0"
        if kind.deadline:
            if in_order:
                offset = low + (i - start + rand()) * (high - low) / (stop - start)
            else:
                offset = low + rand() * (high - low)
            moment = now + dt.timedelta(seconds=offset)
            deadline = moment.isoformat()
            versions = "00012"[int(rand() * 5)]
            if not kind.activated:
                created = moment - dt.timedelta(hours=24)
        elif rand() < 0.01:  # an old deadline left in the row (migrated data)
            deadline = (now - dt.timedelta(days=1 + int(rand() * 400))).isoformat()
        if kind.activated:
            activated = (created + dt.timedelta(hours=1 + int(rand() * 23))).isoformat()
            last_login = (now - dt.timedelta(seconds=60 + int(rand() * 365 * DAY))).isoformat()
            password, verified = PASSWORD_HASH, "t"
        since = created.isoformat()
        account = (
            f"{pk}\t{username}\t{email}\t{verified}\t{kind.state}\t{origin}\t{password}\t"
            f"{deadline}\t{versions}\t{activated}\t{last_login}\t{since}\t0\t\t0"
        )
        membership = ""
        if counter or rand() < kind.membership_share:
            code, rights = SUBSCRIPTIONS[int(rand() * len(SUBSCRIPTIONS))]
            number = username if counter else _customer_number(kind.linked_prefix, i)
            valid = (now + dt.timedelta(days=1 + int(rand() * 365))).date().isoformat()
            membership = (
                f"{library}\tBench {library}\t{number}\t{code}\t{rights}\t{valid}\t{since}\t{pk}"
                "\tactief\t\tf"
            )
        yield account, membership


def load(batches: list[Iterator[tuple[str, str]]]) -> int:
    """COPY the accounts as they are made (the database indexes one chunk while the next is
    made), then their memberships, in one transaction. Returns the number of accounts."""
    from django.db import connection, transaction

    memberships: list[str] = []
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY kb_loginaccount ({ACCOUNT_COLUMNS}) FROM STDIN") as copy:
            chunk: list[str] = []
            for account, membership in itertools.chain(*batches):
                chunk.append(account)
                if membership:
                    memberships.append(membership)
                if len(chunk) == 10_000:
                    copy.write("\n".join(chunk) + "\n")
                    count += len(chunk)
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
                count += len(chunk)
        with cursor.cursor.copy(
            f"COPY kb_linkedmembership ({MEMBERSHIP_COLUMNS}) FROM STDIN"
        ) as copy:
            for i in range(0, len(memberships), 10_000):
                copy.write("\n".join(memberships[i : i + 10_000]) + "\n")
    return count


def _sql(statement: str, params: list | tuple = ()) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _vacuum() -> None:
    """Both runs start from vacuumed tables with fresh statistics, right after a checkpoint
    (so that neither pays for writing out what came before it)."""
    for table in ("kb_loginaccount", "kb_linkedmembership"):
        _sql(f"VACUUM (ANALYZE) {table}")
    _sql("CHECKPOINT")


def _count(kind: Kind) -> int:
    # The prefix uses the username's pattern index; the state must not have changed either.
    return _sql(
        "SELECT count(*) FROM kb_loginaccount WHERE username LIKE %s AND state = %s",
        [kind.prefix + "%", kind.state],
    )[0][0]


def census(kinds: tuple[Kind, ...]) -> dict[str, int]:
    """Accounts per kind, and the memberships of each bench library."""
    counts = {kind.name: _count(kind) for kind in kinds}
    counts.update({f"bench-91{i}": 0 for i in range(4)})
    for code, n in _sql(
        "SELECT library_code, count(*) FROM kb_linkedmembership "
        "WHERE library_code LIKE 'bench-91_' GROUP BY library_code"
    ):
        counts[code] = n
    return counts


def survivors_ensure(scale: float, now: dt.datetime) -> None:
    """The population that must survive: loaded once, topped up to this scale, kept."""
    wanted = {
        "active counter": round(ACTIVE * scale / 2),
        "active online": round(ACTIVE * scale / 2),
        "blocked": round(DISABLED * scale),
        "waiting": round(WAITING * scale),
        "waiting again": round(REWAITING * scale),
    }
    for kind in SURVIVORS:
        have = _count(kind)
        if have < wanted[kind.name]:
            load([rows(kind, have, wanted[kind.name], now)])
    # The waiting survivors' deadlines move ahead again (a later run may be a day later).
    _sql(
        "UPDATE kb_loginaccount SET activation_deadline = now() + interval '12 hours' "
        "WHERE username LIKE 'bpw-%%' AND activation_deadline < now() + interval '1 hour'"
    )


def expired_rows(
    kinds: tuple[Kind, ...], total: int, now: dt.datetime
) -> Iterator[tuple[str, str]]:
    """Three in five at the counter, two in five online, mixed in the order they were made
    (deadline order, as accounts arrive in a real table)."""
    counter = round(total * 0.6)
    made = [
        rows(kinds[0], 0, counter, now, in_order=True),
        rows(kinds[1], 0, total - counter, now, in_order=True),
    ]
    # The account line's 8th column is its deadline (ISO 8601, one offset: sorts as text).
    return heapq.merge(*made, key=lambda row: row[0].split("\t", 8)[7])


def plain_purge(batch_size: int, boundary: dt.datetime) -> tuple[int, float]:
    """The limit: the same work in plain SQL, one statement per batch in autocommit."""
    from django.db import connection

    statement = """
        WITH doomed AS (
            DELETE FROM kb_loginaccount WHERE id IN (
                SELECT id FROM kb_loginaccount
                WHERE state = 'wacht' AND activated_at IS NULL AND activation_deadline <= %s
                ORDER BY activation_deadline LIMIT %s)
            RETURNING id, username),
        linked AS (
            DELETE FROM kb_linkedmembership WHERE account_id IN (SELECT id FROM doomed)),
        logged AS (
            INSERT INTO kb_accountevent (at, account_id, username, event, actor, data)
            SELECT now(), id, username, 'account.purged', '', '{}' FROM doomed)
        SELECT count(*) FROM doomed"""
    deleted = 0
    longest = 0.0
    with connection.cursor() as cursor:
        while True:
            started = time.perf_counter()
            cursor.execute(statement, [boundary, batch_size])
            n = cursor.fetchone()[0]
            longest = max(longest, time.perf_counter() - started)
            if not n:
                break
            deleted += n
    return deleted, longest


def _last_event() -> int:
    return _sql("SELECT coalesce(max(id), 0) FROM kb_accountevent")[0][0]


def _events_since(last_event: int) -> int:
    return _sql(
        "SELECT count(*) FROM kb_accountevent WHERE id > %s AND event = 'account.purged'",
        [last_event],
    )[0][0]


def _events_drop(last_event: int) -> None:
    """The bench's audit rows go, or the log grows by a million rows each run."""
    _sql("DELETE FROM kb_accountevent WHERE id > %s AND event = 'account.purged'", [last_event])


def _step(label: str, started: float) -> None:
    print(f"   {label} ({time.perf_counter() - started:.0f} s)", flush=True)


def run(scale: float) -> list[Figure]:
    from django.db import connection
    from django.utils import timezone

    from bieb.kb.services import PURGE_BATCH, accounts_purge_expired

    assert connection.vendor == "postgresql"
    t0 = time.perf_counter()
    now = timezone.now()
    survivors_ensure(scale, now)
    # Expired accounts someone else left (the periodic job would have purged them) go first.
    last_event = _last_event()
    foreign = accounts_purge_expired().deleted
    _events_drop(last_event)
    survivors = census(SURVIVORS)
    _step(f"survivors {survivors}; purged first: {foreign}", t0)

    t0 = time.perf_counter()
    total = round(EXPIRED * scale)
    plain_total = round(total * PLAIN_SHARE)
    load([expired_rows(PLAIN, plain_total, now), expired_rows(OURS, total, now)])
    _vacuum()
    loaded = census(OURS + PLAIN)
    assert loaded[OURS[0].name] + loaded[OURS[1].name] == total, loaded
    _step(f"loaded {total} + {plain_total} expired accounts", t0)

    # The limit first, on the oldest share.
    t0 = time.perf_counter()
    last_event = _last_event()
    started = time.perf_counter()
    plain_deleted, plain_longest = plain_purge(PURGE_BATCH, now - PLAIN_BOUNDARY)
    plain = time.perf_counter() - started
    assert plain_deleted == plain_total, (plain_deleted, plain_total)
    after = census(SURVIVORS + OURS + PLAIN)
    expected = {**survivors, **loaded, PLAIN[0].name: 0, PLAIN[1].name: 0, "bench-912": 0}
    assert after == expected, f"plain SQL: {expected} -> {after}"
    assert _events_since(last_event) == plain_total
    _events_drop(last_event)
    _step(f"plain SQL: {plain_total} in {plain:.1f} s, longest {plain_longest * 1000:.0f} ms", t0)

    t0 = time.perf_counter()
    _vacuum()
    last_event = _last_event()
    started = time.perf_counter()
    result = accounts_purge_expired()  # as kb_purge_expired_accounts calls it
    ours = time.perf_counter() - started
    assert result.deleted == total, (result.deleted, total)
    after = census(SURVIVORS + OURS + PLAIN)
    expected = {**survivors, **{kind.name: 0 for kind in OURS + PLAIN}}
    assert after == expected, f"purge: {expected} -> {after}"
    events = _events_since(last_event)
    assert events == total, f"purge: {events} audit rows for {total} accounts"
    _events_drop(last_event)
    _step(
        f"purge: {total} in {ours:.1f} s, {result.batches} batches, longest "
        f"{result.longest * 1000:.0f} ms",
        t0,
    )

    rate, plain_rate = total / ours, plain_total / plain
    longest_ms, plain_longest_ms = result.longest * 1000, plain_longest * 1000
    section = "4 purge"
    return [
        Figure(
            section,
            f"{total:,} expired accounts, batches of {PURGE_BATCH}".replace(",", " "),
            rate,
            "accounts/s",
            f"plain SQL, {plain_total:,} accounts".replace(",", " "),
            plain_rate,
            ratio=rate / plain_rate,
            goal="ours/plain >= 0.8",
            met=rate / plain_rate >= 0.8,
        ),
        Figure(
            section,
            "longest batch (row locks held)",
            longest_ms,
            "ms",
            "plain SQL",
            plain_longest_ms,
            ratio=longest_ms / plain_longest_ms,
            goal="< 1000 ms",
            met=longest_ms < 1000,
        ),
    ]


if __name__ == "__main__":
    main(run)
