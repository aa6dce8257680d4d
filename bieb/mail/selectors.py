"""Reads of the outbox."""

import datetime as dt

from django.db.models import QuerySet

from bieb.mail.models import OutboxMessage, OutboxStatus


def outbox_message_list(
    *, to: str = "", kind: str = "", reference: str = ""
) -> QuerySet[OutboxMessage]:
    """The outbox newest first, optionally only one recipient's, kind's or reference's mail."""
    messages = OutboxMessage.objects.order_by("-created_at", "-id")
    if to:
        messages = messages.filter(to__iexact=to)
    if kind:
        messages = messages.filter(kind=kind)
    if reference:
        messages = messages.filter(reference=reference)
    return messages


def outbox_queued_since(*, kind: str, reference: str, since: dt.datetime) -> bool:
    """Whether a mail of this kind and reference was queued at or after `since`."""
    return OutboxMessage.objects.filter(
        kind=kind, reference=reference, created_at__gte=since
    ).exists()


def outbox_message_get(*, message_id: int) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message_id)


def outbox_message_due_ids(*, now: dt.datetime, after_id: int = 0, limit: int = 100) -> list[int]:
    """Ids of messages whose (next) attempt is due, in id order, after `after_id`: queued ones,
    and "sending" ones whose claim has run out (their sender died)."""
    return list(
        OutboxMessage.objects.filter(
            status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING],
            next_attempt_at__lte=now,
            pk__gt=after_id,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
