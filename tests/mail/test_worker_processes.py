"""The task worker as a real `bieb serve --role worker` process (the database queue's worker,
or RQ's on Redis), sending mail to a real SMTP server: stopped with SIGTERM in the middle of a
mail it finishes the mail first; killed (SIGKILL to it and all its processes) in the middle of
the SMTP conversation it loses nothing, and the mail still arrives once.

What brings the mail back is not the queue but the outbox (bieb.mail.services): the killed
worker's claim on the message runs out, the periodic retry enqueues it again, and a new worker
sends it. The lost task itself stays behind (RUNNING in the database queue, in RQ's started
registry until RQ moves it to its failed ones) and is never run again."""

from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from bieb.mail.models import OutboxMessage, OutboxStatus
from bieb.mail.services import mail_queue
from tests.processes import bieb, database_url, serve, wait_until
from tests.redis import RedisServer
from tests.smtp import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.fixture(params=["database", "redis"])
def queue_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment of the processes, and this process's task backend to match."""
    env = {"DATABASE_URL": database_url(), "BIEB_VAR_DIR": str(tmp_path / "var")}
    if request.param == "database":
        overrides = override_settings(TASKS=DATABASE_QUEUE)
    else:
        redis: RedisServer = request.getfixturevalue("redis_server")
        env["REDIS_URL"] = redis.url
        overrides = override_settings(TASKS=RQ, RQ_QUEUES={"default": {"URL": redis.url}})
    overrides.enable()
    request.addfinalizer(overrides.disable)
    return env


def test_a_worker_killed_mid_send_loses_nothing_and_one_stopped_finishes_its_mail(
    queue_env: dict[str, str], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """One worker's life (one test, to start fewer processes): killed in the middle of a mail,
    which a new worker then sends once; that one, stopped with SIGTERM in the middle of the
    next mail, finishes it first."""
    env = {**queue_env, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}"}
    with transaction.atomic():
        message = mail_queue(to="e.tester@example.nl", subject="Welkom", text="Hallo")
    # committed: the send task is on the queue

    # The SMTP server holds the worker at the recipient, mid-conversation; then it dies.
    smtp_server.rcpt_delay = 60
    worker = serve("worker", env=env, log=tmp_path / "worker.log")
    try:
        wait_until(
            "the worker is in the SMTP conversation",
            smtp_server.rcpt_seen.is_set,
            timeout=30,
            why=worker.output,
        )
        # The worker's processes are all alive: the one in the conversation among them.
        worker.kill()
    finally:
        worker.kill()
    smtp_server.rcpt_delay = 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENDING, 1)
    assert smtp_server.received == []

    # The machine comes back: a worker, and the periodic outbox retry (every minute; here once,
    # as cron would run it) once the dead worker's claim has run out.
    again = serve("worker", env=env, log=tmp_path / "worker-again.log")
    try:
        assert message.next_attempt_at is not None
        wait_until(
            "the killed worker's claim runs out",
            lambda: timezone.now() > message.next_attempt_at,  # type: ignore[operator]
            timeout=10,
        )
        retry = bieb("runperiodic", "--job", "mail_outbox_retry", env=env)
        assert "1 enqueued" in retry, retry
        wait_until(
            "the mail arrives and is marked sent",
            lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT,
            timeout=30,
            why=again.output,
        )
        assert len(smtp_server.received) == 1
        assert smtp_server.received[0]["Message-ID"] == message.message_id
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)

        # A slow mail server holds the next mail for two seconds; SIGTERM comes meanwhile (as
        # systemd stops the unit): the worker finishes the mail, then stops.
        smtp_server.rcpt_seen.clear()
        smtp_server.rcpt_delay = 2
        with transaction.atomic():
            second = mail_queue(to="e.tester@example.nl", subject="Tot ziens", text="Dag")
        wait_until(
            "the worker is in the next SMTP conversation",
            smtp_server.rcpt_seen.is_set,
            timeout=30,
            why=again.output,
        )
        exit_code = again.stop(timeout=20)
    finally:
        again.kill()
    assert exit_code == 0, again.output()
    assert [m["Message-ID"] for m in smtp_server.received] == [
        message.message_id,
        second.message_id,
    ]
    second.refresh_from_db()
    assert (second.status, second.attempts) == (OutboxStatus.SENT, 1)
