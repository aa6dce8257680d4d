"""What happened to the libraries' accounts, as a feed each library reads at its own pace.

Writers (`library_events_record`) add one row per linked membership in the transaction of the
change: the account activated, its e-mail address changed, the account deleted, or purged
because it was never activated. A library polls `GET .../libraries/<code>/events?after=<cursor>`
and keeps the last cursor it processed; a library that was down reads on from there. Events are
kept `EVENT_RETENTION` (90 days).

The cursor is a position handed out to committed rows only, in one serialised step per read
(`events_sequence`); see `LibraryEvent` for why the row id does not do.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from bieb.kb.api.models import LibraryEvent, LibraryEventHead, LibraryEventKind

EVENT_RETENTION = dt.timedelta(days=90)
# At most this many events get a position in one step; a backlog takes a few reads.
SEQUENCE_BATCH = 10_000
FEED_LIMIT = 500


def library_events_record(
    *,
    kind: LibraryEventKind,
    account_ids: Iterable[uuid.UUID],
    username: str = "",
    email: str = "",
) -> int:
    """An event of `kind` for each library membership linked to these accounts; call inside
    the change's transaction, before the memberships are deleted with an account. Two
    statements whatever the number of accounts."""
    from bieb.kb.models import LinkedMembership

    ids = list(account_ids)
    if not ids:
        return 0
    now = timezone.now()
    links = LinkedMembership.objects.filter(account_id__in=ids).values_list(
        "account_id", "library_code", "customer_number"
    )
    events = [
        LibraryEvent(
            at=now,
            library_code=library_code,
            kind=kind,
            account_id=account_id,
            customer_number=customer_number,
            username=username,
            email=email,
        )
        for account_id, library_code, customer_number in links
    ]
    LibraryEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


# Numbers the committed rows without a position in id order, after the last position, in one
# statement (its own snapshot: rows committed meanwhile wait for the next step). SQLite has
# UPDATE ... FROM since 3.33.
_SEQUENCE_SQL = """
    UPDATE kb_libraryevent SET position = numbered.pos
    FROM (
        SELECT id, %s + row_number() OVER (ORDER BY id) AS pos
        FROM kb_libraryevent WHERE position IS NULL ORDER BY id LIMIT %s
    ) AS numbered
    WHERE kb_libraryevent.id = numbered.id
"""


def events_sequence() -> int:
    """Give the committed events without a position the next positions, under the head row's
    lock: positions are handed out one step at a time, each after the rows it numbers were
    committed, so a reader never sees a position appear below one it has read already."""
    if not LibraryEvent.objects.filter(position__isnull=True).exists():
        return 0
    with transaction.atomic():
        LibraryEventHead.objects.bulk_create([LibraryEventHead(pk=1)], ignore_conflicts=True)
        head = LibraryEventHead.objects.select_for_update().get(pk=1)
        with connection.cursor() as cursor:
            cursor.execute(_SEQUENCE_SQL, [head.last, SEQUENCE_BATCH])
            numbered = cursor.rowcount
        if numbered:
            head.last += numbered
            head.save(update_fields=["last"])
    return numbered


@dataclass(frozen=True)
class FeedPage:
    events: list[LibraryEvent]
    cursor: int
    more: bool


def library_events(*, library_code: str, after: int, limit: int = FEED_LIMIT) -> FeedPage:
    """The library's events after the cursor `after`, oldest first; `cursor` is where the next
    read starts (the last position returned, or `after` when there is nothing new)."""
    events_sequence()
    limit = max(1, min(limit, FEED_LIMIT))
    rows = list(
        LibraryEvent.objects.filter(library_code=library_code, position__gt=after).order_by(
            "position"
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1].position if rows else after
    return FeedPage(events=rows, cursor=int(cursor or after), more=more)


def library_events_prune(*, now: dt.datetime | None = None) -> int:
    """Forget events older than EVENT_RETENTION (the periodic job)."""
    before = (now or timezone.now()) - EVENT_RETENTION
    deleted, _ = LibraryEvent.objects.filter(at__lt=before, position__isnull=False).delete()
    return deleted
