"""Writes of the outbox: queue a mail, send it, and retry the due ones.

A mail is stored in the caller's transaction and sent by a task after that transaction commits,
so a rolled-back registration never mails anyone. Sending claims the row first (queued → sending,
one conditional UPDATE), so two workers or a replayed task cannot send the same message at once.
The claim is a lease of SEND_LEASE: a worker that dies mid-send (killed, out of memory, the
machine restarted) leaves the message "sending", and once the lease has run out the periodic
retry claims and sends it again. That makes delivery at least once, not exactly once: the server
may have accepted the mail just before the worker died. Every attempt carries the Message-ID
fixed when the mail was queued, so such a second copy is the same message, recognisably.
Without SMTP (no EMAIL_URL) nothing leaves the machine: the message is kept in the outbox,
readable at /dev/mail/ in demo mode.
"""

import datetime as dt
import logging
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection, make_msgid
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bieb.core.bulk import bulk_insert
from bieb.core.periodic import retry_delay
from bieb.core.requestid import request_id_current
from bieb.mail.models import OutboxMessage, OutboxStatus
from bieb.mail.selectors import outbox_message_due_ids
from bieb.mail.tasks import mail_send_many_task, mail_send_task

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ERROR_MAX_LENGTH = 2000
# How long a claim to send holds. Far longer than one SMTP conversation can take (each step of
# it times out after EMAIL_TIMEOUT), so only a worker that died loses its claim.
SEND_LEASE = dt.timedelta(minutes=5)


def _send_lease() -> dt.timedelta:
    # Settings may shorten it: the tests that kill a real worker wait for its claim to run out.
    seconds = getattr(settings, "BIEB_MAIL_SEND_LEASE_SECONDS", None)
    return SEND_LEASE if seconds is None else dt.timedelta(seconds=seconds)


DIED_WHILE_SENDING = (
    "Het verzenden is afgebroken (het proces stopte tijdens het verzenden); "
    "na de laatste poging niet opnieuw geprobeerd."
)


def mail_message_id() -> str:
    """A new Message-ID in the sender's own domain (not this machine's name)."""
    return make_msgid(domain=_sender_domain())


def _sender_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "bieb.localhost"


def mail_queue(
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    kind: str = "",
    reference: str = "",
) -> OutboxMessage:
    """Store a mail in the outbox; it is sent by a task once the current transaction commits.

    `kind` (e.g. "kb.activation") and `reference` (e.g. an account id) let the caller find its
    mail again. Raises ValidationError for an invalid address or an empty text.
    """
    message = OutboxMessage(
        to=to.strip(),
        # A subject rendered from a template may end in a newline; headers cannot hold one.
        subject=" ".join(subject.split()),
        text_body=text,
        html_body=html,
        kind=kind,
        reference=reference,
        message_id=mail_message_id(),
        status=OutboxStatus.QUEUED,
        next_attempt_at=timezone.now(),
    )
    message.full_clean()
    message.save()
    message_id = message.pk

    request_id = request_id_current()  # the commit may come outside this request's context

    def enqueue_send() -> None:
        mail_send_task.enqueue(message_id=message_id, request_id=request_id)

    # Robust: the commit has happened, so a failing enqueue must not fail the caller's request;
    # the periodic retry picks the message up.
    transaction.on_commit(enqueue_send, robust=True)
    return message


def mail_queue_many(messages: list[dict[str, str]]) -> int:
    """Store many mails at once (the renewal run), each a dict of `mail_queue`'s arguments
    (to, subject, text, kind, reference); one task sends them after the commit. The addresses
    are the customers' own, checked when they were saved."""
    if not messages:
        return 0
    now = timezone.now()
    domain = _sender_domain()  # parsed once, not per message
    rows = bulk_insert(
        OutboxMessage,
        [
            OutboxMessage(
                to=m["to"].strip(),
                subject=" ".join(m["subject"].split()),
                text_body=m["text"],
                html_body="",
                kind=m.get("kind", ""),
                reference=m.get("reference", ""),
                message_id=make_msgid(domain=domain),
                status=OutboxStatus.QUEUED,
                next_attempt_at=now,
            )
            for m in messages
        ],
    )
    ids = [row.pk for row in rows]

    request_id = request_id_current()

    def enqueue_send() -> None:
        mail_send_many_task.enqueue(message_ids=ids, request_id=request_id)

    transaction.on_commit(enqueue_send, robust=True)
    return len(rows)


def mail_send(*, message_id: int) -> OutboxMessage:
    """Send one queued, due message (or one whose sender died: its claim has run out), or
    keep it when no SMTP is configured.

    Safe to call repeatedly and concurrently: only the call that claims the row sends it. Any
    other call returns the message as it is.
    """
    if not settings.BIEB_SMTP_CONFIGURED:
        OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.QUEUED).update(
            status=OutboxStatus.KEPT, next_attempt_at=None
        )
        return OutboxMessage.objects.get(pk=message_id)

    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, next_attempt_at__lte=now)
        .filter(_claimable())
        .update(
            status=OutboxStatus.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + _send_lease(),
        )
    )
    message = OutboxMessage.objects.get(pk=message_id)
    if not claimed:
        return message
    if not message.message_id:  # queued before Message-IDs were stored
        message.message_id = mail_message_id()
        message.save(update_fields=["message_id"])

    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={
            # RFC 3834: tells mail servers and autoresponders not to answer.
            "Auto-Submitted": "auto-generated",
            "Message-ID": message.message_id,
        },
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")

    connection = get_connection()
    try:
        # Opened here, so that send_messages leaves closing to us: an error while saying goodbye
        # after the server accepted the mail must not lead to a second copy.
        connection.open()
        connection.send_messages([email])
    except OSError as error:  # smtplib.SMTPException is an OSError
        _close_quietly(connection)
        return _record_failure(message, error)
    except Exception as error:
        _close_quietly(connection)
        # Not a delivery problem but a fault in the message or the set-up: retrying won't help.
        _record_failure(message, error, final=True)
        raise

    message.status = OutboxStatus.SENT
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(update_fields=["status", "sent_at", "next_attempt_at", "last_error"])
    _close_quietly(connection)
    logger.info("mail %s (%s) sent after %s attempt(s)", message.pk, message.kind, message.attempts)
    return message


def _claimable() -> Q:
    """Queued, or left "sending" by a worker that died, with attempts left."""
    return Q(status=OutboxStatus.QUEUED) | Q(status=OutboxStatus.SENDING, attempts__lt=MAX_ATTEMPTS)


def mail_enqueue_due(*, batch_size: int = 100) -> int:
    """Enqueue a send task for every message that is due; returns how many. Due are queued
    messages whose attempt has come, and messages whose sender died mid-send (the claim ran
    out); one whose sender died at its last attempt is given up.

    A message may be enqueued again before an earlier task ran (a slow or stopped worker); the
    claim in mail_send makes the extra tasks do nothing.
    """
    now = timezone.now()
    given_up = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, next_attempt_at__lte=now, attempts__gte=MAX_ATTEMPTS
    ).update(status=OutboxStatus.FAILED, next_attempt_at=None, last_error=DIED_WHILE_SENDING)
    if given_up:
        logger.error("%s mail(s) given up: the sender died during the last attempt", given_up)
    enqueued = 0
    last_id = 0
    while ids := outbox_message_due_ids(now=now, after_id=last_id, limit=batch_size):
        for message_id in ids:
            mail_send_task.enqueue(message_id=message_id, request_id=request_id_current())
        enqueued += len(ids)
        last_id = ids[-1]
    return enqueued


def _record_failure(
    message: OutboxMessage, error: BaseException, *, final: bool = False
) -> OutboxMessage:
    message.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
    if final or message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
        message.next_attempt_at = None
        logger.error(
            "mail %s (%s) failed after %s attempt(s): %s",
            message.pk,
            message.kind,
            message.attempts,
            message.last_error,
        )
    else:
        message.status = OutboxStatus.QUEUED
        message.next_attempt_at = timezone.now() + retry_delay(attempts=message.attempts)
        logger.warning(
            "mail %s (%s) attempt %s failed, retry at %s: %s",
            message.pk,
            message.kind,
            message.attempts,
            message.next_attempt_at.isoformat(),
            message.last_error,
        )
    message.save(update_fields=["status", "next_attempt_at", "last_error"])
    return message


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:
        logger.warning("closing the mail connection failed", exc_info=True)
