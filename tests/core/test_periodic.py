"""Core periodic jobs: background-task results, including those a dead worker left behind."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bieb.core.periodic import JOBS

pytestmark = [
    pytest.mark.django_db,
    # The suite runs tasks at once; the task results live in the database backend.
    pytest.mark.usefixtures("database_tasks"),
]


@pytest.fixture
def database_tasks(settings: object) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # type: ignore[attr-defined]


def task_result(*, status: str, started: dt.datetime | None) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        started_at=started,
        args_kwargs={"args": [], "kwargs": {"message_id": 1}},
        task_path="bieb.mail.tasks.mail_send_task",
        backend_name="default",
        run_after=timezone.now(),
        worker_ids=["worker-that-was-killed"],
    )


def test_a_task_left_running_by_a_dead_worker_is_closed_as_failed_then_pruned() -> None:
    now = timezone.now()
    dead = task_result(status=TaskResultStatus.RUNNING, started=now - dt.timedelta(days=2))
    busy = task_result(status=TaskResultStatus.RUNNING, started=now - dt.timedelta(minutes=5))

    JOBS["prune_task_results"].run()

    dead.refresh_from_db()
    busy.refresh_from_db()
    assert dead.status == TaskResultStatus.FAILED and dead.finished_at is not None
    assert "stopped" in dead.traceback
    assert busy.status == TaskResultStatus.RUNNING  # may still be at work

    # then it goes the way of every failed result: kept 14 days for inspection
    JOBS["prune_task_results"].run()
    assert DBTaskResult.objects.filter(pk=dead.pk).exists()
    DBTaskResult.objects.filter(pk=dead.pk).update(finished_at=now - dt.timedelta(days=15))
    JOBS["prune_task_results"].run()
    assert not DBTaskResult.objects.filter(pk=dead.pk).exists()
