from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bieb.core.dates import day_argument, local_today
from bieb.core.retention import RETENTION_PARTS


class Command(BaseCommand):
    help = (
        "Apply the retention rule for a day: anonymise customers whose last membership ended "
        "longer ago than the library's retention period with nothing open, delete their "
        "financial records after the financial retention, warn and later delete login accounts "
        "unused for years. --dry-run prints what it would do and changes nothing. A second run "
        "of the same day changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            dest="dry_run",
            help="only print what would be done; write nothing",
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            type=day_argument,
            help="the day to run, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["as_of"] or local_today()
        dry_run = bool(options["dry_run"])
        if dry_run:
            self.stdout.write(
                f"Proefdraaien ({day.isoformat()}): er wordt niets gewijzigd; dit zou er gebeuren."
            )
        for _, part in sorted(RETENTION_PARTS.items()):  # the libraries, then the KB
            for line in part.run(today=day, dry_run=dry_run):
                self.stdout.write(line)
