"""The payments' gauges at /metrics (bieb.core.metrics)."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from bieb.core.metrics import metric_source
from bieb.payments.models import Payment, PaymentStatus


@metric_source(
    "bieb_payments_last_hour",
    "Online payments started in the last hour, by their status now",
    labels=("status",),
)
def payments_last_hour() -> Iterable[tuple[tuple[str, ...], float]]:
    counts = dict(
        Payment.objects.filter(created_at__gte=timezone.now() - dt.timedelta(hours=1))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    return [((str(status),), counts.get(status, 0)) for status in PaymentStatus.values]
