import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from bieb.core.periodic import JOBS

logger = logging.getLogger("bieb.periodic")


class Command(BaseCommand):
    help = "Run the periodic jobs (purge, retention, outbox retry, ...): once, or in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="keep running, each job on its own interval"
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
        if not options["loop"]:
            for name in names:
                self._run(name)
            return
        last_run: dict[str, float] = {}
        try:
            while True:
                now = time.monotonic()
                for name in names:
                    due = last_run.get(name, -1e18) + JOBS[name].every.total_seconds()
                    if now >= due:
                        last_run[name] = now
                        self._run(name)
                close_old_connections()
                time.sleep(options["tick"])
        except KeyboardInterrupt:
            return

    def _run(self, name: str) -> None:
        started = timezone.now()
        try:
            result = JOBS[name].run()
        except Exception:
            # One failing job must not stop the others; the next interval tries again.
            logger.exception("periodic job %s failed", name)
            return
        elapsed = (timezone.now() - started).total_seconds()
        logger.info("periodic job %s: %s (%.2fs)", name, result, elapsed)
