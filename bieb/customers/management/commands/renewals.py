from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.core.dates import day_argument, local_today
from bieb.core.money import format_euro
from bieb.customers.renewals import renewals_run_all
from bieb.libraries.models import Library


class Command(BaseCommand):
    help = (
        "Run the renewal job for a day: book and offer the next periods, send reminders, move "
        "statuses. Idempotent: running a day again books and mails nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            dest="as_of",
            type=day_argument,
            help="the day to run, YYYY-MM-DD (default: today)",
        )
        parser.add_argument("--library", default="", help="only this library (its code)")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.BIEB_RENEWAL_WORKERS,
            help="run the libraries in this many processes at once (PostgreSQL; default "
            "BIEB_RENEWAL_WORKERS, 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["as_of"] or local_today()
        code = options["library"].strip()
        if code and not Library.objects.filter(code=code).exists():
            raise CommandError(f"Geen bibliotheek met code '{code}'.")
        if options["workers"] < 1:
            raise CommandError("--workers: gebruik 1 of meer.")
        for run in renewals_run_all(
            day=day, library_code=code, started_by="bieb renewals", workers=options["workers"]
        ):
            self.stdout.write(
                f"{run.library.code} {day.isoformat()}: verlengd {run.booked} "
                f"({format_euro(run.booked_amount)}), aangeboden {run.offered} "
                f"({format_euro(run.offered_amount)}), niet verlengd {run.not_renewed}, "
                f"gemaild {run.mailed}, herinneringen {run.reminders}, "
                f"wacht op betaling {run.awaiting}, betalingsachterstand {run.arrears}, "
                f"uitgeschreven {run.deregistered}, beëindigd {run.ended}"
            )
