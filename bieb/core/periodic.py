"""Periodic jobs, run by `bieb runperiodic` (once, from a scheduler such as cron, or `--loop`).

Apps register their jobs here with `@periodic_job(every=...)`; each job is a plain function
that calls services and returns a short summary for the log.

Any number of servers may run `bieb runperiodic --loop` (or `bieb serve --role periodic`)
against one database: each job's due time is kept in the database (`JobLease`), and a process
runs a job only after it took the job's lease with one conditional UPDATE (due, and no lease
that is still running), so each due time runs once. The next due time counts from the run's
start. A job that fails gives the lease back and is due again after at most `RETRY`; a process
that dies mid-job holds the lease until it runs out (`lease`, default an hour: longer than any
job runs), and then another server takes it over. Every run is kept in `JobRun`.
"""

import datetime as dt
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(hours=1)
RETRY = dt.timedelta(minutes=5)
# The outboxes' back-off (mail, the library's calls to the KB): the wait after a row's n-th
# failed attempt doubles from a minute up to this.
RETRY_DELAY_MAX = dt.timedelta(hours=1)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    run: Callable[[], object]
    lease: dt.timedelta = LEASE


JOBS: dict[str, PeriodicJob] = {}


def periodic_job(
    *, every: dt.timedelta, lease: dt.timedelta = LEASE
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[func.__name__] = PeriodicJob(name=func.__name__, every=every, run=func, lease=lease)
        return func

    return register


def holder_name() -> str:
    """This process, as a lease names it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def job_claim(name: str, *, holder: str, force: bool = False) -> dt.datetime | None:
    """Take the lease of job `name` if it is due (or `force`: whenever no lease runs) and no
    other process holds a lease that still runs; returns the due time taken, or None."""
    from bieb.core.models import JobLease

    now = timezone.now()
    JobLease.objects.bulk_create([JobLease(name=name, due_at=now)], ignore_conflicts=True)
    free = JobLease.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now), name=name
    )
    if not force:
        free = free.filter(due_at__lte=now)
    if not free.update(holder=holder, leased_until=now + JOBS[name].lease):
        return None
    return JobLease.objects.filter(name=name, holder=holder).values_list("due_at", flat=True)[0]


def job_run_due(name: str, *, holder: str, force: bool = False) -> object | None:
    """Run job `name` here if this process gets its lease (see the module docstring); the
    JobRun it made, or None when the job was not due or ran elsewhere."""
    from bieb.core.models import JobLease, JobRun

    due_at = job_claim(name, holder=holder, force=force)
    if due_at is None:
        return None
    job = JOBS[name]
    run = JobRun.objects.create(name=name, due_at=due_at, holder=holder, started_at=timezone.now())
    try:
        result = job.run()
        run.ok, run.result = True, str(result)[:2000]
        next_due = run.started_at + job.every
    except Exception:
        # One failing job must not stop the others; it is due again soon.
        logger.exception("periodic job %s failed", name)
        run.ok, run.result = False, traceback.format_exc()[-2000:]
        next_due = run.started_at + min(job.every, RETRY)
    run.finished_at = timezone.now()
    run.save(update_fields=["ok", "result", "finished_at"])
    # Only while the lease is still ours: one that ran out was taken over, and its new holder
    # sets the next due time.
    JobLease.objects.filter(name=name, holder=holder).update(
        due_at=next_due, holder="", leased_until=None
    )
    elapsed = (run.finished_at - run.started_at).total_seconds()
    logger.info("periodic job %s: %s (%.2fs)", name, run.result[:200], elapsed)
    return run


# A task runs for seconds; one "running" for longer than this lost its worker (killed, machine
# restarted). The database backend never looks at it again.
TASK_RUNNING_AT_MOST = dt.timedelta(days=1)


@periodic_job(every=dt.timedelta(hours=6))
def prune_task_results() -> object:
    """Finished background-task results are kept 14 days for inspection, then removed. A task
    left "running" by a worker that died is closed as failed first, so that it is removed too.
    Its work is not lost: each task's periodic job redoes it (the outbox retry sends the mail,
    the payment check asks the provider)."""
    from django_tasks import TaskResultStatus, task_backends
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends["default"], DatabaseBackend):
        return {"skipped": "the tasks are not kept in the database"}
    now = timezone.now()
    closed = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lte=now - TASK_RUNNING_AT_MOST
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        traceback="The worker stopped while running this task; its periodic job redoes the work.",
    )
    call_command("prune_db_task_results", "--min-age-days=14", verbosity=0)
    return {"closed_running": closed}


@periodic_job(every=dt.timedelta(hours=1))
def prune_core_attempts() -> object:
    """Attempt counters (rate limits) are kept while they matter (bieb.core.attempts); once-only
    form keys a week (a form left open longer than that can be submitted again, which only
    matters for a repeat)."""
    from bieb.core.attempts import attempts_prune
    from bieb.core.submissions import submissions_prune

    return {
        "attempts": attempts_prune(),
        "submissions": submissions_prune(older_than=dt.timedelta(days=7)),
    }


@periodic_job(every=dt.timedelta(days=1))
def prune_job_runs() -> object:
    """The runs of the periodic jobs are kept 30 days."""
    from bieb.core.models import JobRun

    deleted, _ = JobRun.objects.filter(
        started_at__lt=timezone.now() - dt.timedelta(days=30)
    ).delete()
    return {"job_runs": deleted}


def retry_delay(*, attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt of an outbox row: 1, 2, 4, ... minutes,
    at most an hour (the exponent is bounded, so a row tried for weeks never overflows)."""
    return min(dt.timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), RETRY_DELAY_MAX)
