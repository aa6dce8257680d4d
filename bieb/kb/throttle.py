"""Counting attempts per key (an account, an address) in a sliding window, in the database so
that every web worker sees the same counts."""

import datetime as dt

from django.utils import timezone

from bieb.kb.models import Attempt


def attempts_recent(*, key: str, window: dt.timedelta) -> int:
    return Attempt.objects.filter(key=key, at__gt=timezone.now() - window).count()


def attempt_record(*, key: str) -> None:
    Attempt.objects.create(key=key, at=timezone.now())


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
