from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bieb.core.dates import day_range_arguments, day_range_of
from bieb.kb.statistics.aggregate import kb_figures_range_compute


class Command(BaseCommand):
    help = (
        "Compute the login service's daily figures anew for a day or a range of days (a "
        "backfill, from its security log). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        day_range_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = day_range_of(options)
        for day, rows in kb_figures_range_compute(start=start, end=end).items():
            self.stdout.write(f"{day.isoformat()}: {rows} regels")
