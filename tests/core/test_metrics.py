"""/metrics for the operators: protected, with django-prometheus' request metrics and our own
figures (registrations, the outbox, the login service's events, the task queue)."""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from bieb.kb.services import event_record
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.services import mail_queue
from bieb.staff.models import User
from tests.customers.year import member

pytestmark = pytest.mark.django_db


def value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in the metrics"
    return float(match[1])


@pytest.fixture
def guarded(settings: Any) -> None:
    settings.BIEB_METRICS_TOKEN = "meet-geheim-" + "x" * 20
    settings.BIEB_METRICS_ALLOWED = ["192.0.2.0/24"]


def test_metrics_need_the_token_or_an_allowed_address(client: Client, guarded: None) -> None:
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in the list
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer fout").status_code == 404
    token = "Bearer meet-geheim-" + "x" * 20
    assert client.get("/metrics", HTTP_AUTHORIZATION=token).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10").status_code == 200


def test_metrics_show_requests_registrations_the_outbox_and_the_kb_events(
    client: Client,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = client.get("/metrics").content.decode()
    registered = value(before, "bieb_registrations_total", '{channel="balie"}')
    with django_capture_on_commit_callbacks(execute=True):
        member(balie, branch_5280, adult, dt.date.today(), pay=False)
    mail_queue(to="lid@example.nl", subject="Hallo", text="Hallo", kind="test")  # not committed
    event_record(event="login.failed", username="iemand")
    event_record(event="login.failed", username="iemand")

    text = client.get("/metrics").content.decode()
    assert value(text, "bieb_registrations_total", '{channel="balie"}') == registered + 1
    assert value(text, "bieb_outbox_messages", '{status="queued"}') >= 1
    assert value(text, "bieb_kb_events_last_hour", '{event="login.failed"}') == 2
    assert value(text, "bieb_kb_events_last_hour", '{event="account.purged"}') == 0
    assert value(text, "bieb_payments_last_hour", '{status="paid"}') == 0
    assert "django_http_requests_total_by_method_total" in text
    assert client.get("/metrics")["Content-Type"].startswith("text/plain")
