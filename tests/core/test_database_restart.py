"""PostgreSQL restarted under load: a real `bieb serve` (gunicorn, the task worker and the
periodic jobs) against a PostgreSQL server of the test's own, while counter staff register
customers and look around. While the server is away every request is answered with the Dutch
503 page (never a stack trace, never a dropped connection); afterwards the requests succeed
again by themselves, and the worker sends (here: keeps) the new members' mail again; no
registration is half written."""

import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.test import Client

from bieb.staff.models import User
from tests.counter.conftest import new_customer_form, walk_to_costs
from tests.pgcluster import PostgresCluster
from tests.processes import bieb, database_url, serve, wait_until
from tests.smtp import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Answer:
    """A response as the counter tests' helpers read it (status_code, content, headers)."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


@dataclass
class Counter:
    """A counter PC: a browser session of the staff user `balie`, over real HTTP."""

    base: str
    session_key: str
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self.http.cookies.set("sessionid", self.session_key)

    def _keep(self, response: requests.Response) -> Answer:
        answer = Answer(response.status_code, response.content, dict(response.headers))
        with self.lock:
            self.answers.append(answer)
        return answer

    def get(self, path: str) -> Answer:
        return self._keep(self.http.get(self.base + path, allow_redirects=False, timeout=15))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        if "csrftoken" not in self.http.cookies:
            self.get("/balie/klanten/nieuw/")
        data = {**data, "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", "")}
        response = self.http.post(self.base + path, data=data, allow_redirects=False, timeout=15)
        return self._keep(response)

    def register(self, n: int) -> bool:
        """A new customer (Digital only, with a login account), as staff do: section by
        section, then save. False when a step failed (the database was away)."""
        letters = "".join(chr(ord("a") + int(d)) for d in str(n))  # names hold no digits
        form = new_customer_form(
            surname=f"Herstart{letters}", email=f"herstart{n}@example.nl", house_number=str(n + 1)
        )
        try:
            data, _ = walk_to_costs(self, form)  # type: ignore[arg-type]
        except AssertionError:
            return False
        return self.post("/balie/klanten/nieuw/", {**data, "action": "save"}).status_code == 302


def copy_database(url: str, cluster: PostgresCluster) -> None:
    with psycopg.connect(cluster.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
        db.execute("CREATE DATABASE bieb")
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", url], capture_output=True, check=True
    ).stdout
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", cluster.url],
        input=dump,
        capture_output=True,
        check=True,
    )


def half_written(url: str) -> dict[str, int]:
    """Registrations that lack a part that the same transaction writes."""
    checks = {
        "customer without membership": """
            SELECT count(*) FROM customers_customer c WHERE NOT EXISTS
            (SELECT 1 FROM customers_membership m WHERE m.customer_id = c.id)""",
        "membership without period": """
            SELECT count(*) FROM customers_membership m WHERE NOT EXISTS
            (SELECT 1 FROM customers_membershipperiod p WHERE p.membership_id = m.id)""",
        "customer without ledger line": """
            SELECT count(*) FROM customers_customer c WHERE NOT EXISTS
            (SELECT 1 FROM customers_ledgerline l WHERE l.customer_id = c.id)""",
        "customer without login account": """
            SELECT count(*) FROM customers_customer c WHERE NOT EXISTS
            (SELECT 1 FROM kb_loginaccount a WHERE a.username = c.number)""",
        "KB call not made": "SELECT count(*) FROM kboutbox_kbcall WHERE state <> 'done'",
        "login account without activation mail": """
            SELECT count(*) FROM kb_loginaccount a WHERE NOT EXISTS
            (SELECT 1 FROM mail_outboxmessage o WHERE o.kind = 'kb.activation'
             AND o.to = a.email)""",
    }
    with psycopg.connect(url) as db:
        return {name: db.execute(sql).fetchone()[0] for name, sql in checks.items()}  # type: ignore[index]


def last_activation_mail(url: str) -> str:
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT status FROM mail_outboxmessage WHERE kind = 'kb.activation' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return row[0] if row else ""


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_postgresql_restarted_under_load_503_in_dutch_then_recovers_without_half_writes(
    balie: User, tmp_path: Path
) -> None:
    browser = Client()
    browser.force_login(balie)  # a session in the database that is copied below
    cluster = PostgresCluster()
    web = None
    try:
        cluster.start()
        copy_database(database_url(), cluster)
        port = free_port()
        env = {"DATABASE_URL": cluster.url, "BIEB_VAR_DIR": str(tmp_path / "var")}
        web = serve("all", env=env, log=tmp_path / "serve.log", port=port)
        counter = Counter(f"http://127.0.0.1:{port}", browser.cookies["sessionid"].value)

        def answers() -> bool:
            try:
                return requests.get(counter.base + "/health/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until("gunicorn answers", answers, timeout=30, why=web.output)
        assert counter.register(0)

        # A quiet restart: every gunicorn thread holds a connection that died with it; each is
        # checked before its request uses it (CONN_HEALTH_CHECKS), so no request fails.
        assert {
            a.status_code for a in all_at_once([lambda: counter.get("/balie/klanten/nieuw/")] * 8)
        } == {200}
        cluster.restart()
        after = all_at_once([lambda: counter.get("/balie/klanten/nieuw/")] * 8)
        assert [a.status_code for a in after] == [200] * 8

        # Under load: registrations and page views go on while the server stops and starts.
        stop = threading.Event()
        registered: list[tuple[float, bool]] = []

        def register_on() -> None:
            n = 1
            while not stop.is_set():
                registered.append((time.monotonic(), counter.register(n)))
                n += 1

        def look_around() -> None:
            while not stop.is_set():
                counter.get("/balie/klanten/nieuw/")

        load = [threading.Thread(target=register_on), threading.Thread(target=look_around)]
        for thread in load:
            thread.start()
        try:
            time.sleep(1)
            cluster.stop()
            time.sleep(1.5)
            cluster.start()
            back = time.monotonic()
            wait_until(
                "registrations succeed again",
                lambda: sum(ok for at, ok in registered if at > back) >= 2,
                timeout=30,
                why=web.output,
            )
        finally:
            stop.set()
            for thread in load:
                thread.join(timeout=30)
        # The worker (started again if it stopped with the database) takes the new tasks: the
        # last member's activation mail is kept (no SMTP here), not left queued.
        wait_until(
            "the worker handles the last registration's mail",
            lambda: last_activation_mail(cluster.url) == "kept",
            timeout=30,
            why=web.output,
        )
    finally:
        if web is not None:
            web.stop()
        cluster_url = cluster.url
        half = None
        try:
            # The KB calls the outage cut off (a registration committed, its account not yet
            # made) wait in the outbox for their retry; what the periodic job does within the
            # next minutes, done now: then every customer has their account.
            with psycopg.connect(cluster_url) as db:
                db.execute(
                    "UPDATE kboutbox_kbcall SET next_attempt_at = now() WHERE state = 'pending'"
                )
            bieb("kboutbox", "--run", env=env)
            half = half_written(cluster_url)
        finally:
            cluster.remove()

    statuses = [a.status_code for a in counter.answers]
    unavailable = [a for a in counter.answers if a.status_code == 503]
    assert unavailable, "no request came while the database was away"
    assert set(statuses) <= {200, 302, 503}, sorted(set(statuses))
    for answer in unavailable:
        page = answer.content.decode()
        assert "Even niet bereikbaar" in page and "Probeer het over een minuut opnieuw" in page
        assert 'lang="nl"' in page and "counter/counter.css" in page  # the counter's own look
        assert "Traceback" not in page and "OperationalError" not in page
        assert answer["Retry-After"] == "30"
    assert any(not ok for _, ok in registered), "no registration was cut off"
    assert half == dict.fromkeys(half or {}, 0), half
