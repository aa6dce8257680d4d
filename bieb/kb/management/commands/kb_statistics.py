import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bieb.core.dates import day_argument
from bieb.kb.statistics.aggregate import kb_figures_range_compute

MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "Compute the login service's daily figures anew for a day or a range of days (a "
        "backfill, from its security log). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", type=day_argument, help="first day, YYYY-MM-DD (default: today)"
        )
        parser.add_argument(
            "--to", dest="end", type=day_argument, help="last day, YYYY-MM-DD (default: --from)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start: dt.date = options["start"] or timezone.localdate()
        end: dt.date = options["end"] or start
        if end < start:
            raise CommandError("--to ligt vóór --from.")
        if (end - start).days >= MAX_DAYS:
            raise CommandError(f"Hoogstens {MAX_DAYS} dagen per keer.")
        for day, rows in kb_figures_range_compute(start=start, end=end).items():
            self.stdout.write(f"{day.isoformat()}: {rows} regels")
