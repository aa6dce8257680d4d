"""2. Password logins through the login page, against the Argon2id hash alone.

Both are measured in this one process, one after the other, with the production settings on the
bench database: the login goes through the whole stack (middleware, CSRF, form, throttle counts,
the account, the hash, the event row, the new session; two commits: the attempt is counted
before the hash). The limit is `check_password` on the same stored hash, as many times, in the
same process.
    .venv/bin/python -m bench.login
"""

import time
from urllib.parse import urlencode

from bench.harness import Figure, main

PASSWORD = "Leeslamp-Duinpan-42"
USERNAME = "bench.lezer"
FORM = "application/x-www-form-urlencoded"
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def _account() -> str:
    from django.contrib.auth.hashers import make_password

    from bieb.kb.models import AccountState, LoginAccount

    account, _ = LoginAccount.objects.update_or_create(
        username=USERNAME,
        defaults={
            "email": "bench.lezer@example.nl",
            "origin": "online",
            "state": AccountState.ACTIVE,
            "password": make_password(PASSWORD),
        },
    )
    return account.password


def _clean() -> None:
    """The bench's own throttle rows and events, so that repeated runs start alike."""
    from django.db.models import Q

    from bieb.core.models import Throttle
    from bieb.kb.models import AccountEvent

    Throttle.objects.filter(
        Q(key__startswith=f"kb-login:{USERNAME}") | Q(key="kb-login-ip:127.0.0.1")
    ).delete()
    AccountEvent.objects.filter(username=USERNAME).delete()


def run(scale: float) -> list[Figure]:
    from django.contrib.auth.hashers import check_password
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # The login page links its stylesheet: the production storage needs the collected files.
    call_command("collectstatic", interactive=False, verbosity=0)
    n = max(20, round(300 * scale))
    encoded = _account()
    _clean()
    client = Client(REMOTE_ADDR="127.0.0.1")
    # As a browser posts the form: urlencoded, not multipart.
    body = urlencode({"username": USERNAME, "password": PASSWORD})

    def post():
        return client.post("/kb/inloggen/", body, content_type=FORM)

    for _ in range(3):  # warm up: imports, templates, connection
        check_password(PASSWORD, encoded)
        post()
    # One login as the loop does them: with the session cookie of the previous one.
    with CaptureQueriesContext(connection) as queries:
        assert post().status_code == 302
    logged = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    statements = sum(word not in TRANSACTION_CONTROL for word in logged)
    commits = logged.count("COMMIT")

    # Alternate the two in rounds so that a burst of load elsewhere hits both alike.
    hash_time = login_time = 0.0
    rounds = 5
    per_round = n // rounds
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            assert check_password(PASSWORD, encoded)
        hash_time += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(per_round):
            response = post()
            assert response.status_code == 302, response.status_code
        login_time += time.perf_counter() - started
    done = per_round * rounds
    # For scale: the same page shown (GET, no database work) costs what Django costs anyway.
    for _ in range(20):
        client.get("/kb/inloggen/")
    started = time.perf_counter()
    for _ in range(done):
        client.get("/kb/inloggen/")
    page_ms = (time.perf_counter() - started) / done * 1000
    hash_rate = done / hash_time
    login_rate = done / login_time
    ratio = login_rate / hash_rate
    beyond_ms = (login_time - hash_time) / done * 1000
    _clean()
    return [
        Figure(
            "2 login",
            "password logins through /kb/inloggen/, one process",
            login_rate,
            "/s",
            "Argon2id verify alone (m=19 MiB, t=2, p=1)",
            hash_rate,
            ratio,
            "ratio >= 0.9",
            ratio >= 0.9,
        ),
        Figure("2 login", "time per login beyond the hash", beyond_ms, "ms"),
        Figure("2 login", "for scale: GET /kb/inloggen/ (the page, no query)", page_ms, "ms"),
        Figure(
            "2 login",
            f"SQL statements per login ({commits} commit)",
            statements,
            "",
        ),
    ]


if __name__ == "__main__":
    main(run)
