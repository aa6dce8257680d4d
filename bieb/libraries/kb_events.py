"""What the login service tells a library installation of its own (BIEB_ROLE=library): the
KB's event feed (docs/kb-api.md, "The event feed"), read by a periodic job.

In process (BIEB_ROLE=all) the login service sends `accounts_deleted` inside the transaction
that deletes accounts. Over HTTP it cannot; instead the library reads, for each of its
libraries, the events after its stored cursor, and sends the same signal for the deleted and
purged accounts, so that the same receivers (`bieb.customers.receivers`) do the same work. The
receivers' writes and the new cursor commit together: a page is processed once, and a reader
that stopped halfway (a crash, the KB gone) reads that page again. Two readers at once cannot
both process a page: the second finds the cursor moved under its row lock and reads on.
"""

import logging

from django.db import transaction

from bieb.kb import interface as login_service
from bieb.libraries.models import KBEventCursor, Library

logger = logging.getLogger(__name__)

# The feed's kinds that delete an account, and the reason the signal gives for each.
DELETING = {"account.deleted": "deleted", "account.purged": "purged"}
MAX_PAGES = 50  # per library and run; the next run reads on


def events_apply(events: list[login_service.LibraryEvent]) -> None:
    """What the library side does for a page of events (inside the cursor's transaction)."""
    for kind, reason in DELETING.items():
        ids = list(dict.fromkeys(e.account_id for e in events if e.type == kind))
        if ids:
            login_service.accounts_deleted.send(sender=None, account_ids=ids, reason=reason)


def library_events_read(*, library: Library, max_pages: int = MAX_PAGES) -> int:
    """Read and process the library's new events; returns how many were processed. Raises
    KBUnavailable when the KB does not answer (the job is tried again at its next run)."""
    processed = 0
    KBEventCursor.objects.get_or_create(library=library)
    for _ in range(max_pages):
        after = KBEventCursor.objects.values_list("cursor", flat=True).get(library=library)
        page = login_service.library_events(library_code=library.code, after=after)
        with transaction.atomic():
            row = KBEventCursor.objects.select_for_update().get(library=library)
            if row.cursor != after:
                continue  # another reader processed this page meanwhile
            events_apply(page.events)
            if page.cursor != after:
                row.cursor = page.cursor
                row.save(update_fields=["cursor", "updated_at"])
        processed += len(page.events)
        if not page.more:
            break
    return processed


def kb_events_read() -> dict[str, int | str]:
    """The periodic job's work: every library's new events, when this installation learns of
    them by the feed (`login_service.polls_events()`); {} in process. A KB that does not
    answer is no failure of the job: it reads on from the same cursor at its next run."""
    if not login_service.polls_events():
        return {}
    done: dict[str, int | str] = {}
    for library in Library.objects.order_by("code"):
        try:
            done[library.code] = library_events_read(library=library)
        except login_service.KBUnavailable as error:
            logger.warning("KB event feed of %s: the KB does not answer (%s)", library.code, error)
            done[library.code] = "KB niet bereikbaar"
    return done
