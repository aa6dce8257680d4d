"""Writes of the library's outbox for calls to the login service (the KB).

The library commits first: a change that needs the KB (a new login account, a link, "Vergeet
inlogaccount", a resend, the membership copies) stores a `KBCall` in the library's own
transaction, and the call is made after that transaction commits. With the KB in this process
(`BIEB_KB_IN_PROCESS`, role `all`: the demo) it is made right after the commit, in the same
request, so that the counter shows the result as before; with the KB elsewhere a task makes it.
A call that fails because the KB cannot be reached (`KBUnavailable`; in process, its database
failing) stays pending and is retried with a growing wait (1, 2, 4, ... minutes, at most an
hour) by the periodic job, until it is done. A refusal (ValidationError, in Dutch) is final:
staff see it on the customer page with what to do.

Each call is claimed before it is made (pending → running, one conditional UPDATE) and only when
no earlier call with the same `ordering_key` is open: one customer's calls run in the order they
were asked. The claim is a lease; a worker that dies mid-call leaves the call to be made again,
so a call may reach the KB twice, and every kind is idempotent there (see the handlers).

The KB call runs in a transaction of its own, never in the library's: its answer is recorded,
and the library's own follow-up written (say, the id of a linked account), in the next one.
With the KB in this process (one database), the claim, the call (in a savepoint) and the
answer share one transaction that starts after the library's has committed.
"""

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from bieb.core.periodic import retry_delay
from bieb.core.requestid import request_id_current
from bieb.kb.interface import KBUnavailable
from bieb.kboutbox.models import OPEN_STATES, KBCall, KBCallKind, KBCallState
from bieb.kboutbox.tasks import kb_call_run_task

logger = logging.getLogger(__name__)

# How long a claim holds: far longer than one call can take (the HTTP adapter's timeouts are
# seconds), so only a worker that died loses its claim.
CALL_LEASE = dt.timedelta(minutes=5)
ERROR_MAX_LENGTH = 2000
# The periodic job makes due calls for at most this long per run; the rest wait a minute.
RUN_BUDGET = dt.timedelta(seconds=50)

UNAVAILABLE_NOW = (
    "De KB (de landelijke inlogdienst) is nu niet bereikbaar. Probeer het over een paar "
    "minuten opnieuw."
)

Result = dict[str, Any]


@dataclass(frozen=True)
class KBCallHandler:
    """How a kind of call is made. `call` calls the KB (and nothing of the library) and returns
    the answer as JSON-safe data; it raises KBUnavailable when the KB cannot be reached and
    ValidationError when the KB refuses. `apply`, if given, writes the library's own follow-up
    of the answer, in the transaction that marks the call done."""

    call: Callable[[KBCall], Result]
    apply: Callable[[KBCall, Result], None] | None = None


HANDLERS: dict[str, KBCallHandler] = {}


def kb_call_handler(
    kind: str, *, apply: Callable[[KBCall, Result], None] | None = None
) -> Callable[[Callable[[KBCall], Result]], Callable[[KBCall], Result]]:
    """Register how calls of `kind` are made (the app that queues them registers it)."""

    def register(call: Callable[[KBCall], Result]) -> Callable[[KBCall], Result]:
        HANDLERS[kind] = KBCallHandler(call=call, apply=apply)
        return call

    return register


T = TypeVar("T")


def kb_sync_call(call: Callable[..., T], /, **kwargs: Any) -> T:
    """Call the KB now, for an answer the user waits for (a link code, a status). Inside a
    transaction of the caller's, in a savepoint of its own, so that a failure leaves the
    caller's transaction usable. The in-process KB failing in its database is the KB being
    unreachable: raised as KBUnavailable, as the HTTP adapter raises a transport error."""
    try:
        return _kb_own_transaction(lambda: call(**kwargs))
    except DatabaseError as error:
        raise KBUnavailable(str(error)) from error


def _kb_own_transaction(call: Callable[[], T]) -> T:
    """Run an in-process KB call as the KB on its own host would: what it writes before it
    refuses (a wrong link code counts) stays, as the KB commits it; a database error takes its
    writes back. Outside any transaction it simply runs (the KB commits its own)."""
    if not transaction.get_connection().in_atomic_block:
        return call()
    refusal: ValidationError | None = None
    with transaction.atomic():
        try:
            return call()
        except ValidationError as error:
            refusal = error
    raise refusal


def kb_call_queue(
    *,
    kind: KBCallKind,
    library_id: int,
    ordering_key: str,
    payload: dict[str, Any],
    customer_id: int | None = None,
    actor: str = "",
    idempotency_key: uuid.UUID | None = None,
) -> KBCall:
    """Store a call to the KB in the current transaction; it is made once that commits."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for KB calls of kind {kind}")
    call = KBCall.objects.create(
        kind=kind,
        library_id=library_id,
        customer_id=customer_id,
        ordering_key=ordering_key,
        payload=payload,
        actor=actor[:150],
        idempotency_key=idempotency_key or uuid.uuid4(),
        state=KBCallState.PENDING,
        next_attempt_at=timezone.now(),
    )
    # Robust: the library's change has committed; a failure here must not fail the request,
    # and the periodic job makes the call.
    transaction.on_commit(AfterCommit(call.pk, request_id_current()), robust=True)
    return call


@dataclass(frozen=True)
class AfterCommit:
    """What runs once the transaction that queued a call commits: the call itself (the KB in
    this process) or its task. A class of its own, so that a test can tell it from the other
    callbacks on commit (tests/kb_outbox.py)."""

    call_id: int
    request_id: str

    def __post_init__(self) -> None:
        # Django logs a robust on_commit callback that fails by its __qualname__; an instance
        # has none of its own, and the AttributeError would fail the request (a 500 where the
        # database went away between the commit and the call).
        object.__setattr__(self, "__qualname__", "AfterCommit")

    def __call__(self) -> None:
        if settings.BIEB_KB_OUTBOX_INLINE:
            kb_call_run(call_id=self.call_id)
        else:
            kb_call_run_task.enqueue(call_id=self.call_id, request_id=self.request_id)


def kb_call_claim(*, call_id: int, now: dt.datetime | None = None) -> bool:
    """Claim the call if it is due (or its worker's lease ran out) and no earlier call with its
    ordering key is open: True if this caller may make it now."""
    now = now or timezone.now()
    earlier_open = KBCall.objects.filter(
        ordering_key=OuterRef("ordering_key"), pk__lt=OuterRef("pk"), state__in=OPEN_STATES
    )
    return bool(
        KBCall.objects.filter(pk=call_id)
        .filter(
            Q(state=KBCallState.PENDING, next_attempt_at__lte=now)
            | Q(state=KBCallState.RUNNING, next_attempt_at__lt=now)
        )
        .filter(~Exists(earlier_open))
        .update(
            state=KBCallState.RUNNING,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + CALL_LEASE,
        )
    )


def kb_call_run(*, call_id: int) -> KBCall:
    """Make one call (if this caller can claim it), then the next ones of its ordering key that
    are due. Safe to call repeatedly and concurrently: only the claim's holder calls the KB.
    Returns the call as it then stands."""
    call = _run_one(call_id)
    if call.state in OPEN_STATES:
        return call
    # Done (or refused): the calls that waited behind it may go now.
    after = call.pk
    while True:
        following = (
            KBCall.objects.filter(
                ordering_key=call.ordering_key,
                pk__gt=after,
                state=KBCallState.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if following is None:
            return call
        if _run_one(following).state in OPEN_STATES:
            return call
        after = following


def _run_one(call_id: int) -> KBCall:
    if settings.BIEB_KB_ADAPTER == "http":
        return _claimed_run(call_id)
    # The KB in this process, in the same database: the claim, the call and its answer in one
    # transaction (the call in a savepoint of its own), one commit instead of three. Nothing
    # is held across a network call, and a failure takes the claim back with the rest: the call
    # is then still due, as if its commit had not come.
    with transaction.atomic():
        return _claimed_run(call_id)


def _claimed_run(call_id: int) -> KBCall:
    if not kb_call_claim(call_id=call_id):
        return KBCall.objects.get(pk=call_id)
    call = KBCall.objects.get(pk=call_id)
    handler = HANDLERS[call.kind]
    try:
        result = _kb_own_transaction(lambda: handler.call(call))
    except ValidationError as error:
        return _refused(call, error)
    except (KBUnavailable, DatabaseError) as error:
        return _failed(call, error, unavailable=True)
    except Exception as error:
        # A fault of ours or an answer we did not expect: retried like an outage, and loud.
        logger.exception("KB call %s (%s) failed", call.pk, call.kind)
        return _failed(call, error, unavailable=False)
    with transaction.atomic(savepoint=False):
        if handler.apply is not None:
            handler.apply(call, result)
        call.state = KBCallState.DONE
        call.result = result
        call.finished_at = timezone.now()
        call.next_attempt_at = None
        call.unavailable = False
        call.last_error = ""
        _secrets_drop(call)
        call.save(
            update_fields=[
                "state",
                "result",
                "finished_at",
                "next_attempt_at",
                "unavailable",
                "last_error",
                "payload",
            ]
        )
    logger.info("KB call %s (%s) done after %s attempt(s)", call.pk, call.kind, call.attempts)
    return call


# What a payload may hold that is the member's secret or consent (a link code, the ID token of
# an online sign-up's sign-in): kept only until the call is done or refused.
PAYLOAD_SECRETS = ("code", "id_token")


def _secrets_drop(call: KBCall) -> None:
    for key in PAYLOAD_SECRETS:
        call.payload.pop(key, None)


def _refused(call: KBCall, error: ValidationError) -> KBCall:
    call.state = KBCallState.REFUSED
    call.last_error = " ".join(error.messages)[:ERROR_MAX_LENGTH]
    call.unavailable = False
    call.finished_at = timezone.now()
    call.next_attempt_at = None
    _secrets_drop(call)
    call.save(
        update_fields=[
            "state",
            "last_error",
            "unavailable",
            "finished_at",
            "next_attempt_at",
            "payload",
        ]
    )
    logger.warning("KB call %s (%s) refused: %s", call.pk, call.kind, call.last_error)
    return call


def _failed(call: KBCall, error: BaseException, *, unavailable: bool) -> KBCall:
    call.state = KBCallState.PENDING
    call.unavailable = unavailable
    call.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
    call.next_attempt_at = timezone.now() + retry_delay(attempts=call.attempts)
    call.save(update_fields=["state", "unavailable", "last_error", "next_attempt_at"])
    logger.warning(
        "KB call %s (%s) attempt %s failed, retry at %s: %s",
        call.pk,
        call.kind,
        call.attempts,
        call.next_attempt_at.isoformat(),
        call.last_error,
    )
    return call


def kb_calls_run_due(*, budget: dt.timedelta = RUN_BUDGET) -> dict[str, int]:
    """Make the calls that are due, oldest first: retries, calls whose task after commit was
    lost, and calls whose worker died. Stops at the first call that finds the KB unreachable
    (the others would only wait for their timeouts; they are tried again next run) and after
    `budget`."""
    started = time.monotonic()
    counts = {"done": 0, "refused": 0, "failed": 0, "waiting": 0}
    last_id = 0
    while time.monotonic() - started < budget.total_seconds():
        now = timezone.now()
        ids = list(
            KBCall.objects.filter(
                Q(state=KBCallState.PENDING, next_attempt_at__lte=now)
                | Q(state=KBCallState.RUNNING, next_attempt_at__lt=now),
                pk__gt=last_id,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:100]
        )
        if not ids:
            break
        for call_id in ids:
            last_id = call_id
            before = KBCall.objects.filter(pk=call_id).values_list("attempts", flat=True).first()
            call = _run_one(call_id)
            if call.attempts == before:
                counts["waiting"] += 1  # behind an open call of the same customer, or taken
            elif call.state == KBCallState.DONE:
                counts["done"] += 1
            elif call.state == KBCallState.REFUSED:
                counts["refused"] += 1
            else:
                counts["failed"] += 1
                if call.unavailable:
                    return counts
    return counts


def kb_calls_cancel(calls: Iterable[KBCall]) -> int:
    """Withdraw calls that have not been tried yet (a new account forgotten before the KB made
    it); one that has been tried may have reached the KB and is left to run."""
    ids = [call.pk for call in calls]
    return KBCall.objects.filter(pk__in=ids, state=KBCallState.PENDING, attempts=0).update(
        state=KBCallState.CANCELLED, finished_at=timezone.now(), next_attempt_at=None
    )


def kb_call_retry_now(*, call_id: int) -> bool:
    """An operator's "try again now": a pending call is due at once. True if it was pending."""
    return bool(
        KBCall.objects.filter(pk=call_id, state=KBCallState.PENDING).update(
            next_attempt_at=timezone.now()
        )
    )


def kb_calls_prune(
    *,
    done_after: dt.timedelta = dt.timedelta(days=30),
    refused_after: dt.timedelta = dt.timedelta(days=90),
) -> dict[str, int]:
    now = timezone.now()
    done, _ = KBCall.objects.filter(
        state__in=(KBCallState.DONE, KBCallState.CANCELLED), finished_at__lt=now - done_after
    ).delete()
    refused, _ = KBCall.objects.filter(
        state=KBCallState.REFUSED, finished_at__lt=now - refused_after
    ).delete()
    return {"done": done, "refused": refused}
