"""`/health/`: the process answers (for a load balancer's liveness check). `/ready/`: it can do
its work: the database answers, and so does the task queue (the database's task table, or
Redis when the tasks go there).

Without the database nothing works: 503, for the load balancer to take this server out until it
recovers by itself. Without Redis the server still does its work (a task that cannot be queued
waits in the database until the periodic retry queues it, bieb.mail.services), and every server
shares the one Redis: a 503 would take them all out, an outage instead of delayed mail. So the
answer stays 200, with `"status": "beperkt"` and the queue named, for monitoring to alert on."""

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def task_queue_check() -> None:
    """Raises unless the task queue answers."""
    import django_rq
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult
    from django_tasks_rq import RQBackend

    backend = task_backends["default"]
    if isinstance(backend, DatabaseBackend):
        DBTaskResult.objects.only("pk").first()
    elif isinstance(backend, RQBackend):
        django_rq.get_connection("default").ping()


@never_cache
def ready(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    for name, check in (("database", _database), ("queue", task_queue_check)):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure means: not reachable
            logger.warning("ready check %s failed: %s", name, error)
            checks[name] = "niet bereikbaar"
    if checks["database"] != "ok":
        return JsonResponse({"status": "niet gereed", **checks}, status=503)
    status = "ok" if checks["queue"] == "ok" else "beperkt"
    return JsonResponse({"status": status, **checks})
