from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bieb.kb.api.clients import library_system_register


class Command(BaseCommand):
    help = (
        "Register a library system as a client of the KB's API (client credentials) for the "
        "given libraries, and print its client id and secret (shown once). Run again to change "
        "its libraries; --new-secret gives it a new secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--name", required=True)
        parser.add_argument("--library", action="append", required=True, dest="libraries")
        parser.add_argument("--new-secret", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        import secrets

        app, secret = library_system_register(
            client_id=options["client_id"],
            name=options["name"],
            library_codes=options["libraries"],
            secret=secrets.token_urlsafe(32) if options["new_secret"] else "",
        )
        self.stdout.write(f"client_id: {app.client_id}")
        self.stdout.write(f"libraries: {app.library_codes}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
        else:
            self.stdout.write("client_secret: unchanged (--new-secret makes a new one)")
