import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.kb.api.clients import library_system_register


class Command(BaseCommand):
    help = (
        "Register a library system as a client of the KB's API (client credentials) for the "
        "given libraries, and print its client id and secret (shown once). Run again to change "
        "its libraries; --new-secret gives it a new secret. A library installation of Bieb "
        "(BIEB_ROLE=library) takes them as BIEB_KB_CLIENT_ID and BIEB_KB_CLIENT_SECRET."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--name", required=True)
        parser.add_argument("--library", action="append", required=True, dest="libraries")
        parser.add_argument("--new-secret", action="store_true")
        parser.add_argument(
            "--secret-env",
            metavar="VARIABLE",
            help="take the secret from this environment variable instead of making one (for "
            "scripted set-ups: the same variable is then given to the library installation)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = ""
        if options["secret_env"]:
            secret = os.environ.get(options["secret_env"], "")
            if len(secret) < 20:
                raise CommandError(f"{options['secret_env']} must hold a secret of 20+ characters")
        elif options["new_secret"]:
            secret = secrets.token_urlsafe(32)
        app, secret = library_system_register(
            client_id=options["client_id"],
            name=options["name"],
            library_codes=options["libraries"],
            secret=secret,
        )
        self.stdout.write(f"client_id: {app.client_id}")
        self.stdout.write(f"libraries: {app.library_codes}")
        if options["secret_env"]:
            self.stdout.write(f"client_secret: from {options['secret_env']}")
        elif secret:
            self.stdout.write(f"client_secret: {secret}")
        else:
            self.stdout.write("client_secret: unchanged (--new-secret makes a new one)")
