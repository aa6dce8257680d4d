"""The request id through web, task and mail, and the JSON log lines (BIEB_LOG_FORMAT=json)."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from bieb.core.requestid import JsonFormatter, RequestIdFilter, request_id_bound
from bieb.mail.models import OutboxMessage
from bieb.mail.services import mail_queue
from bieb.mail.tasks import mail_send_task
from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The log as BIEB_LOG_FORMAT=json writes it, of every logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_request_has_an_id_in_its_answer_and_in_its_log_lines(
    client: Client, json_log: io.StringIO
) -> None:
    response = client.get("/bestaat-niet/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = [e for e in lines(json_log) if e["logger"] == "django.request"]
    assert line["request_id"] == request_id and line["level"] == "WARNING"
    assert line["message"] == "Not Found: /bestaat-niet/" and line["time"].endswith("Z")
    assert client.get("/health/")["X-Request-ID"] != request_id


def test_a_client_chooses_no_id_unless_a_trusted_proxy_sends_it(
    client: Client, settings: object
) -> None:
    assert client.get("/health/", HTTP_X_REQUEST_ID="mijn-eigen-id")["X-Request-ID"] != (
        "mijn-eigen-id"
    )
    settings.BIEB_TRUSTED_PROXIES = 1  # type: ignore[attr-defined]
    assert client.get("/health/", HTTP_X_REQUEST_ID="lb-1234")["X-Request-ID"] == "lb-1234"
    odd = client.get("/health/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert odd != "<script>" and len(odd) == 32


def test_a_mail_is_queued_with_the_request_id_and_sent_under_it(
    settings: object,
    json_log: io.StringIO,
    django_capture_on_commit_callbacks: object,
    smtp_server: SmtpServer,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # type: ignore[attr-defined]
    with (
        request_id_bound("verzoek-42"),
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        message = mail_queue(to="lid@example.nl", subject="Welkom", text="Hallo", kind="test")
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"] == {"message_id": message.pk, "request_id": "verzoek-42"}
    # The worker, later and elsewhere, runs it under that id.
    mail_send_task.call(**task.args_kwargs["kwargs"])
    assert OutboxMessage.objects.get(pk=message.pk).status == "sent"
    assert len(smtp_server.received) == 1
    sent = [e for e in lines(json_log) if e["logger"] == "bieb.mail.services"]
    assert sent and all(e["request_id"] == "verzoek-42" for e in sent)


def test_bieb_log_format_json_writes_json_lines() -> None:
    env = {**os.environ, "BIEB_LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "bieb.test_settings"}
    probe = "import django, logging; django.setup(); logging.getLogger('bieb.x').warning('hallo')"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hallo" and entry["request_id"] == "-"
