from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.core.dates import day_range_arguments, day_range_of
from bieb.libraries.models import Library
from bieb.statistics.aggregate import figures_range_compute


class Command(BaseCommand):
    help = (
        "Compute the statistics' daily figures anew for a day or a range of days (a backfill). "
        "Idempotent: a day computed again gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        day_range_arguments(parser)
        parser.add_argument("--library", default="", help="only this library (its code)")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = day_range_of(options)
        ids = None
        code = options["library"].strip()
        if code:
            library = Library.objects.filter(code=code).first()
            if library is None:
                raise CommandError(f"Geen bibliotheek met code '{code}'.")
            ids = [library.pk]
        for day, rows in figures_range_compute(start=start, end=end, library_ids=ids).items():
            self.stdout.write(f"{day.isoformat()}: {rows} regels")
