"""Redis down (REDIS_URL set, the server stopped): no mail is lost. The request that queues a
mail succeeds, since the mail is in the outbox once its transaction commits; the task that
could not be queued is logged; the periodic retry fails (and says so) while Redis is away and
queues the mail once it is back; an RQ worker then sends it, once. A task that was on Redis
when it stopped is lost with it (Redis keeps nothing on disk here); its mail is not."""

import logging
from collections.abc import Iterator
from typing import Any

import django_rq
import pytest
from django.test import Client, override_settings
from django_tasks_rq import Job
from rq.worker import SimpleWorker

from bieb.core.models import JobLease
from bieb.core.periodic import job_run_due
from bieb.mail.models import OutboxMessage, OutboxStatus
from tests.redis import RedisServer
from tests.signup.factories import active_account
from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, real on_commit

RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.fixture
def on_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    with override_settings(TASKS=RQ, RQ_QUEUES={"default": {"URL": redis_server.url}}):
        yield redis_server


def test_with_redis_down_a_mail_waits_in_the_outbox_and_goes_out_once_redis_is_back(
    on_redis: RedisServer, smtp_server: SmtpServer, caplog: Any
) -> None:
    active_account("e.b.tester")  # its activation mail's task is on Redis...
    assert django_rq.get_queue("default").count == 1
    on_redis.stop()  # ...and lost with it: Redis keeps nothing on disk

    caplog.set_level(logging.ERROR)
    page = Client().post("/kb/wachtwoord-vergeten/", {"username": "e.b.tester"})
    assert page.status_code == 200
    assert "Kijk in je mail" in page.content.decode()  # the usual answer, no error page
    reset = OutboxMessage.objects.get(kind="kb.reset")
    assert reset.status == OutboxStatus.QUEUED
    assert "on_commit" in caplog.text and "Connection refused" in caplog.text

    # The periodic retry, while Redis is still away: it fails, and is due again in a minute.
    run = job_run_due("mail_outbox_retry", holder="server-1", force=True)
    assert run is not None and not run.ok and "ConnectionError" in run.result  # type: ignore[attr-defined]
    lease = JobLease.objects.get(name="mail_outbox_retry")
    assert (lease.due_at - run.started_at).total_seconds() == 60  # type: ignore[attr-defined]

    # Redis is back, empty; the next retry queues the reset mail and the activation mail.
    on_redis.start()
    assert django_rq.get_queue("default").count == 0
    run = job_run_due("mail_outbox_retry", holder="server-1", force=True)
    assert run is not None and run.ok and run.result == "2 enqueued"  # type: ignore[attr-defined]

    # An RQ worker takes it from Redis (in this process, so that it sees the test database).
    queue = django_rq.get_queue("default", job_class=Job)
    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    assert worker.work(burst=True)
    mails = OutboxMessage.objects.order_by("pk")
    assert [m["Message-ID"] for m in smtp_server.received] == [m.message_id for m in mails]
    assert {(m.kind, m.status, m.attempts) for m in mails} == {
        ("kb.activation", OutboxStatus.SENT, 1),
        ("kb.reset", OutboxStatus.SENT, 1),
    }
    run = job_run_due("mail_outbox_retry", holder="server-1", force=True)
    assert run is not None and run.result == "0 enqueued"  # type: ignore[attr-defined]
