"""Calls that change something may carry an `Idempotency-Key` (the account's creation must): a
library system that retries a call it got no answer to gets the first call's answer, and
nothing happens twice.

The key is claimed (inserted) in the transaction of the change and its answer stored there: the
change and its key commit together or not at all. A retry that arrives while the first call is
still running waits for it at the claim (PostgreSQL waits on the unique key; SQLite runs one
writer at a time) and then gets its answer. A call that failed leaves no key, so its retry runs
again. The same key with another request (method, path or body) is refused with 422. Answers
are kept `KEEP` (7 days).
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from bieb.kb.api.models import IdempotentCall
from bieb.kb.api.problems import Problem

KEEP = dt.timedelta(days=7)
REPLAYED_HEADER = "Idempotent-Replayed"


def request_fingerprint(request: HttpRequest, payload: Any) -> str:
    """The request as the key stands for it: method, path and the body as parsed (so that a
    retry with its JSON laid out differently is the same request)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(stored: IdempotentCall, fingerprint: str) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        raise Problem(
            "idempotency-key-reused",
            "Deze Idempotency-Key is al gebruikt voor een ander verzoek. Gebruik voor elk nieuw "
            "verzoek een nieuwe sleutel.",
        )
    response = JsonResponse(stored.response, status=stored.status or 200, safe=False)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent_call(
    *,
    request: HttpRequest,
    client_id: str,
    key: str | None,
    payload: Any,
    run: Callable[[], tuple[int, Any]],
    before: Callable[[], None] | None = None,
) -> HttpResponse:
    """Answer with `run()` ((status, JSON body), called inside a transaction), or, for a key
    seen before, with its stored answer. `before` runs outside that transaction, and only
    when `run` is going to (a check whose count must stay when the change rolls back)."""
    fingerprint = request_fingerprint(request, payload)
    if key:
        stored = IdempotentCall.objects.filter(client_id=client_id, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
    if before is not None:
        before()
    with transaction.atomic():
        row = None
        if key:
            mine = IdempotentCall(client_id=client_id, key=key, fingerprint=fingerprint)
            IdempotentCall.objects.bulk_create([mine], ignore_conflicts=True)
            row = IdempotentCall.objects.get(client_id=client_id, key=key)
            if row.pk != mine.pk:  # a concurrent call with this key committed first
                return _replay(row, fingerprint)
        status, body = run()
        if row is not None:
            row.status, row.response = status, body
            row.save(update_fields=["status", "response"])
    return JsonResponse(body, status=status, safe=False)


def idempotent_calls_prune(*, now: dt.datetime | None = None) -> int:
    deleted, _ = IdempotentCall.objects.filter(
        created_at__lt=(now or timezone.now()) - KEEP
    ).delete()
    return deleted
