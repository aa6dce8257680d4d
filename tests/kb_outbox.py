"""The KB outbox in `db` tests: its calls are made "after the commit", as in production.

A `db` test runs in a transaction that never commits, so Django keeps every callback on commit
until the end of the test and then drops it. The library reaches the KB only by such a callback
(bieb.kboutbox.services.AfterCommit), so without help no test would see an account made. The
autouse fixture `kb_calls_after_commit` runs those callbacks (and only those: mail tests read
the queued mail) at the moment production commits: when the outermost atomic block of the code
under test ends without error, and when a test client's request ends (a view that writes in
autocommit). `kb_calls_flush()` does it by hand, for a test that queued a call outside any
block. A test marked `kb_outbox_manual` gets none of this: it makes the calls itself, to see
what the counter shows in between.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import connection
from django.db.transaction import Atomic
from django.utils import timezone

from bieb.kb.models import LoginAccount
from bieb.kboutbox.models import KBCall, KBCallState
from bieb.kboutbox.services import AfterCommit


def kb_calls_flush() -> int:
    """Make the KB calls whose transaction (as far as this test goes) has committed: those
    queued in no block that is still open. Returns how many callbacks ran."""
    if connection.needs_rollback:
        return 0
    ran = 0
    while True:
        still_open = set(connection.savepoint_ids) - _test_sids()
        due = []
        for index, (sids, callback, robust) in enumerate(connection.run_on_commit):
            if isinstance(callback, AfterCommit) and not set(sids) & still_open:
                # Left in its place as a no-op, so that Django's captureOnCommitCallbacks,
                # which counts places in this list, still finds the callbacks after it.
                connection.run_on_commit[index] = (sids, _Ran(callback), robust)
                due.append(callback)
        if not due:
            return ran
        for callback in due:
            callback()
            ran += 1


class _Ran:
    def __init__(self, callback: AfterCommit) -> None:
        self.callback = callback
        self.__qualname__ = f"ran {callback!r}"

    def __call__(self) -> None:
        """Made already by kb_calls_flush."""


def _test_sids() -> set[Any]:
    """The savepoints of the test's own blocks (TestCase's atomics)."""
    blocks = connection.atomic_blocks
    sids = connection.savepoint_ids
    return {sid for block, sid in zip(blocks, sids, strict=False) if block._from_testcase}


def _outermost_of_code_under_test() -> bool:
    return connection.in_atomic_block and all(b._from_testcase for b in connection.atomic_blocks)


@pytest.fixture(autouse=True)
def kb_calls_after_commit(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("kb_outbox_manual") or not (
        {"db", "transactional_db"} & set(request.fixturenames)
        or request.node.get_closest_marker("django_db")
    ):
        yield
        return
    original = Atomic.__exit__

    def exit_then_commit(self: Atomic, exc_type: Any, exc: Any, tb: Any) -> Any:
        result = original(self, exc_type, exc, tb)
        if exc_type is None and self.using in (None, "default") and _outermost_of_code_under_test():
            kb_calls_flush()
        return result

    def after_request(**kwargs: Any) -> None:
        if _outermost_of_code_under_test():
            kb_calls_flush()

    Atomic.__exit__ = exit_then_commit  # type: ignore[method-assign]
    request_finished.connect(after_request, dispatch_uid="tests.kb_calls_after_commit")
    try:
        yield
    finally:
        Atomic.__exit__ = original  # type: ignore[method-assign]
        request_finished.disconnect(dispatch_uid="tests.kb_calls_after_commit")


@contextmanager
def kb_down() -> Iterator[None]:
    """The login service is down for a while: its accounts table is gone (renamed away) on the
    database it shares with the library in these tests, so that every call to it fails in its
    database, as a KB process that has stopped fails its callers. The library's own tables are
    untouched: the library goes on working. Back as it was on leaving."""
    table = LoginAccount._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(table + '_away')}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {quote(table + '_away')} RENAME TO {quote(table)}")


def kb_calls_due_now() -> None:
    """Time passes: every waiting call's next attempt has come (instead of sleeping through
    the back-off)."""
    KBCall.objects.filter(state=KBCallState.PENDING).update(next_attempt_at=timezone.now())
