"""Periodic jobs, run by `bieb runperiodic` (once, from a scheduler such as cron, or `--loop`).

Apps register their jobs here with `@periodic_job(every=...)`; each job is a plain function
that calls services and returns a short summary for the log.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    run: Callable[[], object]


JOBS: dict[str, PeriodicJob] = {}


def periodic_job(*, every: dt.timedelta) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[func.__name__] = PeriodicJob(name=func.__name__, every=every, run=func)
        return func

    return register


# A task runs for seconds; one "running" for longer than this lost its worker (killed, machine
# restarted). The database backend never looks at it again.
TASK_RUNNING_AT_MOST = dt.timedelta(days=1)


@periodic_job(every=dt.timedelta(hours=6))
def prune_task_results() -> object:
    """Finished background-task results are kept 14 days for inspection, then removed. A task
    left "running" by a worker that died is closed as failed first, so that it is removed too.
    Its work is not lost: each task's periodic job redoes it (the outbox retry sends the mail,
    the payment check asks the provider)."""
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

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
