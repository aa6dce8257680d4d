import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from bieb.core.periodic import JOBS, holder_name, job_run_due

logger = logging.getLogger("bieb.periodic")


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (purge, retention, outbox retry, ...): once, or in a loop. Any "
        "number of servers may run it at once: each due time runs on one of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="keep running, each job when it is due"
        )
        parser.add_argument("--job", action="append", help="run only this job (repeatable)")
        parser.add_argument(
            "--tick", type=float, default=5.0, help="seconds between checks in --loop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["job"] or list(JOBS)
        unknown = [n for n in names if n not in JOBS]
        if unknown:
            self.stderr.write(f"Unknown job(s): {', '.join(unknown)}. Known: {', '.join(JOBS)}")
            raise SystemExit(2)
        holder = holder_name()
        if not options["loop"]:
            # Once (from cron): each job now, due or not, unless another server runs it now.
            for name in names:
                if job_run_due(name, holder=holder, force=True) is None:
                    self.stdout.write(f"{name}: runs elsewhere now; skipped")
            return
        try:
            while True:
                for name in names:
                    try:
                        job_run_due(name, holder=holder)
                    except Exception:
                        # The database away for a moment: the next tick tries again.
                        logger.exception("periodic job %s could not be started", name)
                close_old_connections()
                time.sleep(options["tick"])
        except KeyboardInterrupt:
            return
