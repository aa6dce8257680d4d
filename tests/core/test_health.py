"""`/health/` (alive) and `/ready/` (database and task queue answer), for a load balancer."""

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_and_ready_answer_ok(client: Client) -> None:
    assert client.get("/health/").content == b"ok"
    ready = client.get("/ready/")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert "no-cache" in ready["Cache-Control"]


def test_ready_says_503_when_the_database_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # type: ignore[attr-defined]

    def refuse(*args: object, **kwargs: object) -> object:
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    ready = client.get("/ready/")
    assert ready.status_code == 503
    assert ready.json()["database"] == "niet bereikbaar"
    assert ready.json()["queue"] == "niet bereikbaar"
