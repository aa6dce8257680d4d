"""`/health/`: the process answers (for a load balancer's liveness check). `/ready/`: it can do
its work: the database answers, and so does the task queue (the database's task table, or
Redis when the tasks go there). 503 with what failed otherwise, for the load balancer to take
this server out until it recovers by itself."""

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


def _queue() -> None:
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
    for name, check in (("database", _database), ("queue", _queue)):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure means: not ready
            logger.warning("ready check %s failed: %s", name, error)
            checks[name] = "niet bereikbaar"
    status = 200 if all(v == "ok" for v in checks.values()) else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "niet gereed", **checks}, status=status
    )
