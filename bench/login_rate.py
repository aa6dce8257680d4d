"""Password logins per second through the login page, against the Argon2id hash alone.

Both are measured in this one process, one after the other, on a throwaway database:
    .venv/bin/python -m bench.login_rate [N]
The login goes through the whole stack (middleware, form, throttle counts, session, event row).
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bieb.test_settings")

import django

django.setup()

from django.contrib.auth.hashers import check_password, make_password
from django.test import Client
from django.test.runner import DiscoverRunner
from django.test.utils import setup_test_environment

PASSWORD = "Leeslamp-Duinpan-42"


def main(n: int) -> None:
    setup_test_environment()
    runner = DiscoverRunner(verbosity=0)
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
        client.post("/kb/inloggen/", {"username": "bench.lezer", "password": PASSWORD})
        started = time.perf_counter()
        for _ in range(n):
            response = client.post(
                "/kb/inloggen/", {"username": "bench.lezer", "password": PASSWORD}
            )
            assert response.status_code == 302, response.status_code
        login_rate = n / (time.perf_counter() - started)
    finally:
        runner.teardown_databases(old)
    print(f"Argon2id verify alone   : {hash_rate:8.1f} /s  (m=19 MiB, t=2, p=1)")
    print(f"Login through the page  : {login_rate:8.1f} /s")
    print(f"Ratio (goal >= 0.9)     : {login_rate / hash_rate:8.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
