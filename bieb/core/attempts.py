"""Counting attempts per key (an account, an address) in a sliding window, in the database so
that every web worker sees the same counts. Generic: the key says what is counted, e.g.
`balie-login:<username>`."""

import datetime as dt
from collections import Counter

from django.utils import timezone

from bieb.core.models import Attempt


def attempts_count(*, keys: list[str], window: dt.timedelta) -> Counter[str]:
    """The number of attempts of each key within the window, in one query."""
    since = timezone.now() - window
    return Counter(Attempt.objects.filter(key__in=keys, at__gt=since).values_list("key", flat=True))


def attempts_record(*, keys: list[str]) -> None:
    """One attempt for each key, in one statement."""
    now = timezone.now()
    Attempt.objects.bulk_create(Attempt(key=key, at=now) for key in keys)


def attempts_clear(*, key: str) -> None:
    Attempt.objects.filter(key=key).delete()


def attempts_prune(*, older_than: dt.timedelta) -> int:
    deleted, _ = Attempt.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted


def attempts_recent(*, key: str, window: dt.timedelta) -> int:
    return attempts_count(keys=[key], window=window)[key]


def is_limited(*, key: str, limit: int, window: dt.timedelta) -> bool:
    """Count this attempt and say whether the limit of the window was already reached."""
    if attempts_recent(key=key, window=window) >= limit:
        return True
    attempts_record(keys=[key])
    return False
