"""Counting attempts per key (an account, an address) in a sliding window, in the database so
that every web worker sees the same counts."""

import datetime as dt
from collections import Counter

from django.utils import timezone

from bieb.kb.models import Attempt


def attempts_recent(*, key: str, window: dt.timedelta) -> int:
    return Attempt.objects.filter(key=key, at__gt=timezone.now() - window).count()


def attempts_recent_by_key(*, keys: list[str], window: dt.timedelta) -> Counter[str]:
    """The counts of several keys in one query. The rows are fetched and counted here, which is
    cheaper than a filtered aggregate; they are few, as a key stops gaining attempts once it
    has reached its limit."""
    since = timezone.now() - window
    return Counter(Attempt.objects.filter(key__in=keys, at__gt=since).values_list("key", flat=True))


def attempt_record(*, key: str) -> None:
    Attempt.objects.create(key=key, at=timezone.now())


def attempts_record(*, keys: list[str]) -> None:
    """One attempt for each key, in one statement."""
    now = timezone.now()
    Attempt.objects.bulk_create(Attempt(key=key, at=now) for key in keys)


def attempts_clear(*, key: str) -> None:
    Attempt.objects.filter(key=key).delete()


def attempts_prune(*, older_than: dt.timedelta) -> int:
    deleted, _ = Attempt.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted


def is_limited(*, key: str, limit: int, window: dt.timedelta) -> bool:
    """Count this attempt and say whether the limit of the window was already reached."""
    if attempts_recent(key=key, window=window) >= limit:
        return True
    attempt_record(key=key)
    return False
