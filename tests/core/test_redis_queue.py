"""The task queue on Redis (REDIS_URL: django-tasks' RQ backend), against a Redis server of the
test's own: /ready/ and /metrics see it, and what an operator sees when it is down."""

from collections.abc import Iterator
from typing import Any

import django_rq
import pytest
from django.test import Client, override_settings

from bieb.mail.tasks import mail_send_task
from tests.core.test_metrics import value
from tests.redis import RedisServer

pytestmark = pytest.mark.django_db

RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.fixture
def on_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    with override_settings(TASKS=RQ, RQ_QUEUES={"default": {"URL": redis_server.url}}):
        yield redis_server


def test_ready_pings_redis_and_the_metrics_count_its_queue(
    client: Client, on_redis: RedisServer
) -> None:
    assert client.get("/ready/").json() == {"status": "ok", "database": "ok", "queue": "ok"}
    for pk in (1, 2, 3):
        mail_send_task.enqueue(message_id=pk)
    assert django_rq.get_queue("default").count == 3  # on Redis, no worker to take them
    text = client.get("/metrics").content.decode()
    assert value(text, "bieb_tasks_waiting") == 3
    assert value(text, "bieb_task_queue_up") == 1


def test_with_redis_down_the_server_stays_in_the_load_balancer_and_says_so(
    client: Client, on_redis: RedisServer, caplog: Any
) -> None:
    on_redis.stop()
    ready = client.get("/ready/")
    # All servers share the one Redis: a 503 would take every one of them out.
    assert ready.status_code == 200
    assert ready.json() == {"status": "beperkt", "database": "ok", "queue": "niet bereikbaar"}
    text = client.get("/metrics").content.decode()
    assert value(text, "bieb_task_queue_up") == 0
    assert "bieb_tasks_waiting " not in text  # unknown, not 0
    assert "ready check queue failed" in caplog.text
