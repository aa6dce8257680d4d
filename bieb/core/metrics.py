"""Prometheus metrics at `/metrics`, for the operators.

- django-prometheus: requests, responses, latencies, exceptions, per view and method.
- Our own gauges, read from the database when Prometheus asks, so that they are right however
  many servers there are: apps register them with `@metric_source(...)` in their `ready()`
  (the outbox waiting and failed, open payments, the KB's security events of the last hour:
  activations, purged accounts, failed logins, ...; the task queue's length).
- Our own counters (`counter(...)`), counted in the web processes (registrations).

Multi-process: `bieb serve` gives gunicorn's workers one PROMETHEUS_MULTIPROC_DIR, so that a
scrape adds up all workers' counters (prometheus_client's multiprocess mode).

Protected: a request needs `Authorization: Bearer $BIEB_METRICS_TOKEN`, or comes from an
address in BIEB_METRICS_ALLOWED (addresses or networks, comma-separated; in demo mode the
loopback addresses); anything else gets 404, so the page is not even seen to exist.
"""

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bieb.core.http import client_address

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricSource:
    name: str
    help: str
    labels: tuple[str, ...]
    read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]


SOURCES: dict[str, MetricSource] = {}


def metric_source(
    name: str, help: str, *, labels: tuple[str, ...] = ()
) -> Callable[[Callable[[], Iterable[tuple[tuple[str, ...], float]]]], object]:
    """Register a gauge read from the database at each scrape: the function returns
    (label values, value) pairs (one pair with () when there are no labels)."""

    def register(read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]) -> object:
        SOURCES[name] = MetricSource(name=name, help=help, labels=labels, read=read)
        return read

    return register


_COUNTERS: dict[str, Counter] = {}


def counter(name: str, help: str, labels: tuple[str, ...] = ()) -> Counter:
    """One process-wide counter by name (created once, also under test reloads)."""
    if name not in _COUNTERS:
        _COUNTERS[name] = Counter(name, help, labels)
    return _COUNTERS[name]


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for source in SOURCES.values():
            family = GaugeMetricFamily(source.name, source.help, labels=list(source.labels))
            try:
                for labels, value in source.read():
                    family.add_metric(list(labels), value)
            except Exception:  # one source failing must not hide the others
                logger.warning("metric %s could not be read", source.name, exc_info=True)
                continue
            yield family


_DATABASE = DatabaseCollector()
REGISTRY.register(_DATABASE)


def _allowed(request: HttpRequest) -> bool:
    token = settings.BIEB_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    address = client_address(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(net, strict=False) for net in settings.BIEB_METRICS_ALLOWED
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_DATABASE)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@metric_source(
    "bieb_tasks_waiting",
    "Background tasks waiting to run: in the database queue, or on Redis (RQ) with REDIS_URL",
)
def tasks_waiting() -> Iterable[tuple[tuple[str, ...], float]]:
    import django_rq
    from django_tasks import TaskResultStatus, task_backends
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult
    from django_tasks_rq import RQBackend

    backend = task_backends["default"]
    if isinstance(backend, DatabaseBackend):
        return [((), DBTaskResult.objects.filter(status=TaskResultStatus.READY).count())]
    if isinstance(backend, RQBackend):
        return [((), sum(django_rq.get_queue(name).count for name in sorted(backend.queues)))]
    return []


@metric_source("bieb_task_queue_up", "1 when the task queue (the database's, or Redis) answers")
def task_queue_up() -> Iterable[tuple[tuple[str, ...], float]]:
    from bieb.core.health import task_queue_check

    try:
        task_queue_check()
    except Exception:
        logger.warning("the task queue does not answer", exc_info=True)
        return [((), 0)]
    return [((), 1)]
