from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bieb.demo.loader import LIBRARIES, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo libraries, subscriptions, tariffs and staff users (idempotent). "
        "--library loads only that library (repeatable): a library installation of its own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--library",
            action="append",
            dest="libraries",
            choices=[spec["code"] for spec in LIBRARIES],
            help="only this demo library (bind or oost); default both",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demo_load(only=options["libraries"])
        self.stdout.write("Demo data loaded.")
