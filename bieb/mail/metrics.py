"""The outbox's gauges at /metrics (bieb.core.metrics)."""

from collections.abc import Iterable

from django.db.models import Count

from bieb.core.metrics import metric_source
from bieb.mail.models import OutboxMessage, OutboxStatus

WATCHED = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.FAILED)


@metric_source(
    "bieb_outbox_messages",
    "Mails in the outbox that wait (queued, sending) or failed, by status",
    labels=("status",),
)
def outbox_messages() -> Iterable[tuple[tuple[str, ...], float]]:
    counts = dict(
        OutboxMessage.objects.filter(status__in=WATCHED)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    return [((str(status),), counts.get(status, 0)) for status in WATCHED]
