"""The outbox against a real SMTP server: sent after commit, exactly once, retried with backoff."""

import datetime as dt
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from email.message import EmailMessage

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from django.utils import timezone

from bieb.core.periodic import JOBS, retry_delay
from bieb.mail.models import OutboxMessage, OutboxStatus
from bieb.mail.services import (
    MAX_ATTEMPTS,
    SEND_LEASE,
    mail_queue,
    mail_send,
)
from bieb.mail.tasks import mail_send_task
from tests.smtp import SmtpServer

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

TO = "e.tester@example.nl"
SUBJECT = "Activeer uw inlogaccount bij Bibliotheken Bind: één stap"
TEXT = (
    "Beste lezer,\n\n"
    "Uw gebruikersnaam is 25280000000012. Kies binnen 24 uur een wachtwoord:\n"
    "http://127.0.0.1:8000/kb/activeren/abc/\n"
)
HTML = (
    "<p>Beste lezer,</p><p>Uw gebruikersnaam is <b>25280000000012</b>.</p>"
    '<p><a href="http://127.0.0.1:8000/kb/activeren/abc/">Wachtwoord kiezen</a></p>'
)


def queue(**kwargs: str) -> OutboxMessage:
    fields = {"to": TO, "subject": SUBJECT, "text": TEXT, "html": HTML} | kwargs
    return mail_queue(**fields)


def subject(received: EmailMessage) -> str:
    # Django folds a long encoded subject onto a continuation line, and the email package keeps
    # that fold's leading space, which mail clients drop.
    return str(received["Subject"]).strip()


def retry_job() -> object:
    return JOBS["mail_outbox_retry"].run()


@pytest.mark.django_db
def test_a_queued_mail_is_sent_once_after_commit(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(kind="kb.activation", reference="42")
        assert smtp_server.received == []  # not before the commit

    assert len(callbacks) == 1
    assert len(smtp_server.received) == 1
    assert smtp_server.recipients == [[TO]]
    received = smtp_server.received[0]
    assert subject(received) == SUBJECT
    assert received["To"] == TO
    assert received["From"] == "Bieb <noreply@bieb.localhost>"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"] == message.message_id  # stored before sending
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == TEXT
    assert html.get_content().strip() == HTML

    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert (message.attempts, message.last_error, message.next_attempt_at) == (1, "", None)
    assert (message.kind, message.reference) == ("kb.activation", "42")


@pytest.mark.django_db
def test_a_text_only_mail_has_no_html_part(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        queue(html="")

    [received] = smtp_server.received
    assert received.get_content_type() == "text/plain"
    assert received.get_content() == TEXT


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_rolls_back(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue()
        raise RuntimeError("registration failed")

    assert callbacks == []
    assert smtp_server.received == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_while_the_server_is_down_the_mail_waits_and_the_retry_sends_it_once(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    smtp_server.stop()
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()

    message.refresh_from_db()
    assert message.status == OutboxStatus.QUEUED
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at is not None
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)

    smtp_server.start()
    assert retry_job() == "0 enqueued"  # not due yet
    assert smtp_server.received == []

    with time_machine.travel(message.next_attempt_at + dt.timedelta(seconds=1)):
        assert retry_job() == "1 enqueued"
        assert retry_job() == "0 enqueued"

    assert len(smtp_server.received) == 1
    assert subject(smtp_server.received[0]) == SUBJECT
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert (message.attempts, message.last_error) == (2, "")


@pytest.mark.django_db
def test_the_retry_job_also_sends_a_mail_whose_task_was_lost(smtp_server: SmtpServer) -> None:
    # The test's transaction never commits, so the task after commit never runs.
    message = queue()
    assert smtp_server.received == []

    assert retry_job() == "1 enqueued"

    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_sending_the_same_message_twice_sends_it_once(smtp_server: SmtpServer) -> None:
    message = queue()

    first = mail_send(message_id=message.pk)
    second = mail_send(message_id=message.pk)
    mail_send_task.enqueue(message_id=message.pk)  # a replayed task

    assert len(smtp_server.received) == 1
    assert first.status == second.status == OutboxStatus.SENT
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_a_message_once(smtp_server: SmtpServer) -> None:
    # Created directly: outside a transaction mail_queue would send at once.
    message = OutboxMessage.objects.create(
        to=TO, subject=SUBJECT, text_body=TEXT, next_attempt_at=timezone.now()
    )
    workers = 8
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            mail_send(message_id=message.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


class ProcessDied(BaseException):
    """The worker process is killed: no `except Exception` sees it, nothing after it runs."""


@contextmanager
def process_killed_after(seconds: float) -> Iterator[None]:
    """Kill "the process" (this test's main thread) `seconds` from now, wherever it is."""

    def die(signum: int, frame: object) -> None:
        raise ProcessDied

    previous = signal.signal(signal.SIGALRM, die)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.django_db
def test_a_mail_whose_sender_died_mid_send_is_sent_again_with_the_same_message_id(
    smtp_server: SmtpServer,
) -> None:
    message = queue()  # the test's transaction never commits: no task after commit
    assert message.message_id.startswith("<") and message.message_id.endswith(">")

    # The server takes the message in, but the worker dies before it hears "250".
    smtp_server.reply_delay = 3
    with pytest.raises(ProcessDied), process_killed_after(0.5):
        mail_send(message_id=message.pk)
    smtp_server.reply_delay = 0
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING
    died_at = timezone.now()

    # Within the lease the sender may still be at work: nobody takes the message over.
    with time_machine.travel(died_at + SEND_LEASE - dt.timedelta(seconds=5)):
        assert retry_job() == "0 enqueued"
    assert len(smtp_server.received) == 1

    # After it, the periodic retry sends it again (at least once), with the same Message-ID.
    with time_machine.travel(died_at + SEND_LEASE + dt.timedelta(seconds=1)):
        assert retry_job() == "1 enqueued"
    assert len(smtp_server.received) == 2
    first, again = smtp_server.received
    assert first["Message-ID"] == again["Message-ID"] == message.message_id
    assert subject(again) == SUBJECT and again["To"] == TO
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)

    # A later run finds nothing left to recover: no third copy.
    with time_machine.travel(died_at + 3 * SEND_LEASE):
        assert retry_job() == "0 enqueued"
    assert len(smtp_server.received) == 2


@pytest.mark.django_db
def test_a_mail_whose_sender_keeps_dying_is_given_up_after_the_last_attempt(
    smtp_server: SmtpServer,
) -> None:
    message = queue()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS - 1)
    smtp_server.reply_delay = 3
    with pytest.raises(ProcessDied), process_killed_after(0.5):
        mail_send(message_id=message.pk)
    smtp_server.reply_delay = 0

    with time_machine.travel(timezone.now() + SEND_LEASE + dt.timedelta(seconds=1)):
        assert retry_job() == "0 enqueued"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert "afgebroken" in message.last_error
    assert len(smtp_server.received) == 1


@pytest.mark.django_db
def test_retries_back_off_and_give_up_after_the_last_attempt(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    message = queue()
    now = timezone.now()
    waits = []

    for attempt in range(1, MAX_ATTEMPTS + 1):
        with time_machine.travel(now, tick=False):
            mail_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.attempts == attempt
        assert "ConnectionRefusedError" in message.last_error
        if message.next_attempt_at is None:
            break
        assert message.status == OutboxStatus.QUEUED
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at

    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == MAX_ATTEMPTS
    smtp_server.start()
    assert retry_job() == "0 enqueued"
    assert smtp_server.received == []


def test_the_retry_delay_doubles_up_to_an_hour() -> None:
    delays = [retry_delay(attempts=n) for n in range(1, 10)]
    assert delays == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]


def test_the_retry_job_runs_every_minute() -> None:
    assert JOBS["mail_outbox_retry"].every == dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_without_smtp_the_mail_is_kept_and_not_sent(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with override_settings(BIEB_SMTP_CONFIGURED=False):
        with django_capture_on_commit_callbacks(execute=True):
            message = queue()
        assert retry_job() == "0 enqueued"

    message.refresh_from_db()
    assert message.status == OutboxStatus.KEPT
    assert (message.attempts, message.next_attempt_at, message.sent_at) == (0, None, None)
    assert smtp_server.received == []


@pytest.mark.django_db
def test_an_invalid_address_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(ValidationError) as refused:
        queue(to="geen-adres")
    assert "to" in refused.value.message_dict
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_an_empty_text_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        queue(text="")
    assert "text_body" in refused.value.message_dict


@pytest.mark.django_db
def test_a_subject_rendered_from_a_template_loses_its_line_breaks() -> None:
    message = queue(subject="Activeer uw\ninlogaccount\n", to="  e.tester@example.nl ")
    assert message.subject == "Activeer uw inlogaccount"
    assert message.to == TO
