from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.core.dates import day_argument, local_today
from bieb.libraries.models import Library
from bieb.statistics.aggregate import figures_range_compute

MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "Compute the statistics' daily figures anew for a day or a range of days (a backfill). "
        "Idempotent: a day computed again gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", type=day_argument, help="first day, YYYY-MM-DD (default: today)"
        )
        parser.add_argument(
            "--to", dest="end", type=day_argument, help="last day, YYYY-MM-DD (default: --from)"
        )
        parser.add_argument("--library", default="", help="only this library (its code)")

    def handle(self, *args: Any, **options: Any) -> None:
        start = options["start"] or local_today()
        end = options["end"] or start
        if end < start:
            raise CommandError("--to ligt vóór --from.")
        if (end - start).days >= MAX_DAYS:
            raise CommandError(f"Hoogstens {MAX_DAYS} dagen per keer.")
        ids = None
        code = options["library"].strip()
        if code:
            library = Library.objects.filter(code=code).first()
            if library is None:
                raise CommandError(f"Geen bibliotheek met code '{code}'.")
            ids = [library.pk]
        for day, rows in figures_range_compute(start=start, end=end, library_ids=ids).items():
            self.stdout.write(f"{day.isoformat()}: {rows} regels")
