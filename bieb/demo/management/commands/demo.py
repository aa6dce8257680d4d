from typing import Any

from django.core.management.base import BaseCommand

from bieb.demo.loader import demo_load


class Command(BaseCommand):
    help = "Load the demo libraries, subscriptions, tariffs and staff users (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_load()
        self.stdout.write("Demo data loaded.")
