"""Rate limits per key (an account, an address, an account from one address), in the database so
that every web worker sees the same counts. Generic: the key says what is counted, e.g.
`kb-login:<username>`, and a `Limit` says how many attempts a window allows and what happens
past that: a wait that doubles with each further attempt, or none until the window ends.

Counting and deciding are one step (`attempts_take`): it locks the row of each key, decides,
counts and commits in one short transaction, before the caller does the slow part (a password
hash, sending a mail). Requests that arrive together queue on the row lock (SELECT ... FOR
UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction takes the database's write lock), so
no more of them get through than the limit lets through one at a time. An attempt is counted
before its outcome is known; a login that then succeeds takes its count back
(`attempts_succeeded`). A refused attempt is not counted: hammering does not lengthen a wait."""

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from bieb.core.models import Throttle

ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class Limit:
    """`free` attempts per `window` (counted from the window's first attempt). Past that, with a
    `delay`: each next attempt waits `delay`, doubled for each attempt beyond `free`, at most
    `cap`, after the previous one; without a delay: no attempt until the window ends."""

    free: int
    window: dt.timedelta
    delay: dt.timedelta | None = None
    cap: dt.timedelta | None = None

    def wait(self, row: Throttle, now: dt.datetime) -> dt.timedelta:
        """How long the next attempt under this row has to wait; zero if it may go now."""
        if row.count < self.free or now - row.first_at >= self.window:
            return ZERO
        if self.delay is None:
            return row.first_at + self.window - now
        doublings = min(row.count - self.free, 40)
        step = min(self.delay * 2**doublings, self.cap or self.window)
        return max(row.last_at + step - now, ZERO)


@dataclass(frozen=True)
class Taken:
    """The outcome of `attempts_take`: `wait` is zero when the attempt was counted (under
    `keys`), else how long to wait before trying again (and nothing was counted) because of the
    key `refused_by`."""

    wait: dt.timedelta
    keys: tuple[str, ...] = ()
    refused_by: str = ""

    @property
    def refused(self) -> bool:
        return self.wait > ZERO


def attempts_take(
    *,
    limits: Mapping[str, Limit],
    trusted_by: str | None = None,
    trust_for: dt.timedelta = ZERO,
) -> Taken:
    """Count one attempt under each key, unless one of them has to wait. Call it outside a
    transaction: inside one, the rows stay locked (and the count unseen) until that commits.

    `trusted_by` (one of the keys) with a success within `trust_for` lets only its own limit
    apply: a member logging in from an address where they logged in before is not slowed down
    by what strangers elsewhere do to their account."""
    now = timezone.now()
    keys = sorted(limits)
    with transaction.atomic():
        _commit_without_flush()
        rows = _rows_locked(keys, now)
        if trusted_by is not None:
            trusted = rows[trusted_by]
            if trusted.succeeded_at is not None and now - trusted.succeeded_at < trust_for:
                rows = {trusted_by: trusted}
        wait, refused_by = max((limits[key].wait(row, now), key) for key, row in rows.items())
        if wait > ZERO:
            return Taken(wait=wait, refused_by=refused_by)
        for key, row in rows.items():
            limit = limits[key]
            if row.count == 0 or now - row.first_at >= limit.window:
                row.count, row.first_at = 0, now
            row.count += 1
            row.last_at = now
            row.keep_until = max(row.keep_until, row.first_at + limit.window)
        Throttle.objects.bulk_update(
            list(rows.values()), ["count", "first_at", "last_at", "keep_until"]
        )
    return Taken(wait=ZERO, keys=tuple(rows))


def _commit_without_flush() -> None:
    """On PostgreSQL, this transaction's commit does not wait for its WAL to reach the disk.

    Its rows are visible to every other transaction at commit all the same, so the counting stays
    atomic; only a crash in the next few milliseconds could lose the last counts, which for a rate
    limit means one more try. It takes the disk flush (1 to 3 ms here) off every login, which is
    counted before its password hash. Audit rows and everything else keep the durable commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _rows_locked(keys: list[str], now: dt.datetime) -> dict[str, Throttle]:
    """The rows of the keys, made if missing, locked until the end of the transaction.

    Made first (INSERT ... ON CONFLICT DO NOTHING) and then locked, both in key order: two
    requests with overlapping keys take the locks in the same order and never deadlock."""
    Throttle.objects.bulk_create(
        [Throttle(key=key, first_at=now, last_at=now, keep_until=now) for key in keys],
        ignore_conflicts=True,
    )
    return {
        row.key: row
        for row in Throttle.objects.select_for_update().filter(key__in=keys).order_by("key")
    }


def attempts_succeeded(
    *, keys: Iterable[str], trusted: str | None = None, keep: dt.timedelta
) -> None:
    """Take back the attempt counted under `keys` (it succeeded, so it was no failure); the
    `trusted` key starts again from zero and remembers the success for `keep`. One statement,
    to run in the transaction of the success."""
    now = timezone.now()
    keys = list(keys)
    count = Greatest(F("count") - 1, Value(0))
    if trusted is None:
        Throttle.objects.filter(key__in=keys).update(count=count)
        return
    Throttle.objects.filter(key__in=[*keys, trusted]).update(
        count=Case(When(key=trusted, then=Value(0)), default=count),
        succeeded_at=Case(When(key=trusted, then=Value(now)), default=F("succeeded_at")),
        keep_until=Case(
            When(key=trusted, then=Greatest(F("keep_until"), Value(now + keep))),
            default=F("keep_until"),
        ),
    )


def attempts_clear(*, key: str, prefix: str = "") -> None:
    """Forget the attempts under the key, and under every key that starts with `prefix`."""
    keys = Q(key=key) | Q(key__startswith=prefix) if prefix else Q(key=key)
    Throttle.objects.filter(keys).update(count=0)


def attempts_prune() -> int:
    deleted, _ = Throttle.objects.filter(keep_until__lt=timezone.now()).delete()
    return deleted


def is_limited(*, key: str, limit: int, window: dt.timedelta) -> bool:
    """Count this attempt and say whether the limit of the window was already reached (then it
    is not counted)."""
    return attempts_take(limits={key: Limit(free=limit, window=window)}).refused


def wait_words(wait: dt.timedelta) -> str:
    """A wait in Dutch words, rounded up: `1 seconde`, `8 seconden`, `3 minuten`, `1 uur`."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return "1 seconde" if seconds == 1 else f"{seconds} seconden"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return "1 minuut" if minutes == 1 else f"{minutes} minuten"
    return f"{math.ceil(minutes / 60)} uur"
