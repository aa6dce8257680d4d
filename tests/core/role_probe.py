"""Run in a process of its own with BIEB_ROLE set (tests/core/test_roles.py): what this role
installs, which paths it serves, what its admin manages, the system checks, and
(PROBE_MIGRATE=1) the tables that `migrate` makes. Prints one JSON object."""

import json
import os
import sys

import django


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve

    call_command("check", fail_level="WARNING", verbosity=0)
    answer: dict[str, object] = {
        "apps": list(settings.INSTALLED_APPS),
        "adapter": settings.BIEB_KB_ADAPTER,
        "admin": sorted(str(model._meta) for model in admin.site._registry),
    }
    resolves = {}
    for path in sys.argv[1:]:
        try:
            resolve(path)
            resolves[path] = True
        except Resolver404:
            resolves[path] = False
    answer["resolves"] = resolves
    if os.environ.get("PROBE_MIGRATE"):
        call_command("migrate", verbosity=0, interactive=False)
        answer["tables"] = sorted(connection.introspection.table_names())
        client = Client(HTTP_HOST="127.0.0.1")
        answer["status"] = {path: client.get(path).status_code for path in sys.argv[1:]}
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
