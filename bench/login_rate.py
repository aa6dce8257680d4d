"""Password logins per second through the login page, against the Argon2id hash alone.

Both are measured in this one process, one after the other, on a throwaway database:
    .venv/bin/python -m bench.login_rate [N]
The login goes through the whole stack (middleware, form, throttle counts, session, event row).
It prints numbers only; it asserts nothing about them.
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bieb.test_settings")

import django

django.setup()

from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.test import Client
from django.test.runner import DiscoverRunner
from django.test.utils import CaptureQueriesContext, setup_test_environment

PASSWORD = "Leeslamp-Duinpan-42"
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def main(n: int) -> None:
    setup_test_environment()
    own_database = connection.vendor != "sqlite" and not os.environ.get("BIEB_TEST_DB_NAME")
    if own_database:
        # Not the test suite's database: a test run may be using that one at the same time.
        connection.settings_dict["TEST"]["NAME"] = "test_bench_login_rate"
    # The bench's own database, left by an interrupted run, is replaced without asking.
    runner = DiscoverRunner(verbosity=0, interactive=not own_database)
    old = runner.setup_databases()
    try:
        from bieb.kb.models import AccountState, LoginAccount

        account = LoginAccount.objects.create(
            username="bench.lezer",
            email="bench@example.nl",
            origin="online",
            state=AccountState.ACTIVE,
            password=make_password(PASSWORD),
        )
        encoded = account.password
        check_password(PASSWORD, encoded)  # warm up

        started = time.perf_counter()
        for _ in range(n):
            assert check_password(PASSWORD, encoded)
        hash_rate = n / (time.perf_counter() - started)

        client = Client()
        form = {"username": "bench.lezer", "password": PASSWORD}
        client.post("/kb/inloggen/", form)
        # One login as the loop does them: with the session cookie of the previous one.
        with CaptureQueriesContext(connection) as queries:
            client.post("/kb/inloggen/", form)
        logged = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
        commits = logged.count("COMMIT")
        control = sum(word in TRANSACTION_CONTROL for word in logged)
        started = time.perf_counter()
        for _ in range(n):
            response = client.post("/kb/inloggen/", form)
            assert response.status_code == 302, response.status_code
        login_rate = n / (time.perf_counter() - started)
    finally:
        runner.teardown_databases(old)
    print(f"Database                : {connection.vendor}")
    print(f"Argon2id verify alone   : {hash_rate:8.1f} /s  (m=19 MiB, t=2, p=1)")
    print(f"Login through the page  : {login_rate:8.1f} /s")
    print(f"Login minus verify      : {1000 / login_rate - 1000 / hash_rate:8.2f} ms")
    print(
        f"SQL queries per login   : {len(logged):8d}  "
        f"({len(logged) - control} statements, {commits} commit, {control} transaction control)"
    )
    print(f"Ratio (goal >= 0.9)     : {login_rate / hash_rate:8.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
