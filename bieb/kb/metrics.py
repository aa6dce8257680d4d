"""The login service's gauges at /metrics (bieb.core.metrics): its security events of the last
hour (accounts created, activated, purged; logins failed, locked, succeeded, ...)."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from bieb.core.metrics import metric_source
from bieb.kb.models import AccountEvent

SHOWN = (
    "account.created",
    "account.activated",
    "account.purged",
    "account.deleted",
    "login.failed",
    "login.locked",
    "login.succeeded",
)


@metric_source(
    "bieb_kb_events_last_hour",
    "The login service's security events of the last hour, by event",
    labels=("event",),
)
def kb_events_last_hour() -> Iterable[tuple[tuple[str, ...], float]]:
    counts = dict(
        AccountEvent.objects.filter(at__gte=timezone.now() - dt.timedelta(hours=1), event__in=SHOWN)
        .values("event")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("event", "n")
    )
    return [((event,), counts.get(event, 0)) for event in SHOWN]
