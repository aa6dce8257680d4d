"""The KB outbox's gauges at /metrics (bieb.core.metrics)."""

from collections.abc import Iterable

from django.db.models import Count, Min, Q
from django.utils import timezone

from bieb.core.metrics import metric_source
from bieb.kboutbox.models import OPEN_STATES, KBCall, KBCallState


@metric_source(
    "bieb_kb_outbox_calls",
    "Calls to the KB in the library's outbox: pending (not yet made, or retried after the KB "
    "could not be reached: retrying), and refused by the KB (staff act on those)",
    labels=("state",),
)
def kb_outbox_calls() -> Iterable[tuple[tuple[str, ...], float]]:
    counts = KBCall.objects.aggregate(
        pending=Count("id", filter=Q(state__in=OPEN_STATES)),
        retrying=Count("id", filter=Q(state__in=OPEN_STATES, attempts__gt=0)),
        refused=Count("id", filter=Q(state=KBCallState.REFUSED)),
    )
    return [((state,), counts[state] or 0) for state in ("pending", "retrying", "refused")]


@metric_source(
    "bieb_kb_outbox_oldest_pending_seconds",
    "Age of the oldest call to the KB that is not done yet (0: none waits)",
)
def kb_outbox_oldest() -> Iterable[tuple[tuple[str, ...], float]]:
    oldest = KBCall.objects.filter(state__in=OPEN_STATES).aggregate(at=Min("created_at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0
    return [((), max(age, 0.0))]
