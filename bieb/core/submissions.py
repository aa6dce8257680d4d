"""Once-only form submissions: a form carries a random key, and the change it asks for claims
that key in its own transaction. A repeat of the same form (double click, refresh, Back and
submit again) cannot claim it a second time, so the change happens once."""

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from bieb.core.models import Submission


class AlreadySubmitted(Exception):
    """This form was submitted before; its change has been made."""


def submission_key_parse(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def submission_claim(*, key: uuid.UUID, scope: str) -> None:
    """Claim the key; call inside the transaction of the change. Raises AlreadySubmitted when
    the key was claimed before (or is being claimed right now by a transaction that then
    commits: PostgreSQL makes this insert wait for it)."""
    try:
        with transaction.atomic():
            Submission.objects.create(key=key, scope=scope)
    except IntegrityError:
        raise AlreadySubmitted from None


def submission_claimed(*, key: uuid.UUID) -> bool:
    """Whether this form was sent (and its change made) before: a page may then answer as it
    did the first time instead of checking the change again."""
    return Submission.objects.filter(key=key).exists()


def submissions_prune(*, older_than: dt.timedelta) -> int:
    deleted, _ = Submission.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted
