"""6. The web pages: memory of one web worker after 10,000 mixed requests, and the number of SQL
queries per counter page with little and with much data.

Memory: a real gunicorn with one worker of 4 threads, with the options `bieb serve` gives it, on
a free loopback port, in a process of its own (collectstatic first, as `make run`). Four clients
in this process drive it at once over HTTP with a mix of what a worker gets: counter staff
logging in (one desk after the other) and searching as they type (number, postcode, postcode
and house number, name, initials and name, e-mail; the page asks 120 ms after the last key),
opening customers, the personal-data and new-customer forms; members on the KB login page and
now and then logging in (Argon2id, so a small share); OpenID Connect discovery and keys; static
files; the online sign-up's start; 404s. The worker's resident set size (VmRSS) is read after
the warm-up (the first 1,000 requests) and after 10,000.

Goal: after 10,000 at most 1.2 times after warm-up. The warm-up has used every kind of page and
several password checks (glibc maps the first Argon2id block of 19 MiB and gives it back, then
keeps the next one in its arena: a warm-up of only the first logins reads 20 MB low), so what may
still grow is bounded (allocator pools, Django's and psycopg's bounded caches) and small; a leak
of 2 kB a request (a cache keyed by user, query or customer) passes 1.2 within the run. The
growth over the second half (kB per 1,000 requests) is printed as
well: a leak grows there as much as before, settling does not.

Queries: each counter page in-process (django.test.Client, production settings) with a
CaptureQueriesContext, once with little data and once with much: the searches and forms at a
small library against the largest library of the bulk dataset (bench.data); the customer's own
pages for a customer with 1 membership and 1 ledger line against one with 30 memberships and 200
ledger lines (both at the small library, bench-950: the bulk dataset is not changed). Goal: the
same count (ratio 1.0).

    .venv/bin/python -m bench.pages [--scale 0.1]

At a scale below 1 the worker gets 10,000 x scale requests (at least 1,000). The module leaves
no sessions behind and makes no login account that waits for activation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import http.client
import http.cookies
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.harness import Figure, bench_library, bench_staff, main

SECTION = "6 pages"
REQUESTS = 10_000
WARM_UP = 1_000
RSS_GOAL = 1.2
STAFF_PASSWORD = "Bench-Balie-Leeslamp-6"
MEMBER_USERNAME = "bench-pages.lezer"
MEMBER_PASSWORD = "Bench-Lezer-Duinpan-6"
SMALL_INDEX = 950  # bench libraries 950-999 belong to this module
HEAVY_MEMBERSHIPS = 30
HEAVY_LEDGER_LINES = 200
SEED = 6
CLIENTS = 4  # at once, as many as the worker's threads


# --- the data the pages are measured with ------------------------------------------------------


@dataclass
class Setup:
    small_library: Any
    large_library: Any
    small_staff: Any  # counter employee of the small library (also holds the two customers)
    large_staff: Any  # counter employee of the largest library
    light: Any  # customer with 1 membership and 1 ledger line
    heavy: Any  # customer with 30 memberships and 200 ledger lines
    other_library_number: str  # a customer number of the large library (a 404 at the small)
    dataset_note: str = ""
    samples: dict[str, list[Any]] = field(default_factory=dict)  # library code -> customers


def _staff(library: Any, username: str) -> Any:
    user = bench_staff(library, username=username)
    if not user.has_usable_password() or not user.check_password(STAFF_PASSWORD):
        user.set_password(STAFF_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _member_account() -> Any:
    """An active login account for the KB logins and for linking the bench customers."""
    from django.contrib.auth.hashers import check_password, make_password

    from bieb.kb.models import AccountState, LoginAccount

    account, _ = LoginAccount.objects.get_or_create(
        username=MEMBER_USERNAME,
        defaults={
            "email": "bench-pages.lezer@example.nl",
            "email_verified": True,
            "origin": "online",
            "state": AccountState.ACTIVE,
            "password": make_password(MEMBER_PASSWORD),
            "activated_at": dt.datetime.now(dt.UTC),
        },
    )
    if account.state != AccountState.ACTIVE or not check_password(
        MEMBER_PASSWORD, account.password
    ):
        account.state = AccountState.ACTIVE
        account.activation_deadline = None
        account.password = make_password(MEMBER_PASSWORD)
        account.save(update_fields=["state", "activation_deadline", "password"])
    return account


def _numbers(library: Any, count: int) -> list[str]:
    """`count` new customer numbers of the library, taken from its sequence in one go."""
    from django.db import transaction
    from django.db.models import F

    from bieb.customers.models import Customer, CustomerNumberSequence
    from bieb.customers.numbers import compose_number

    with transaction.atomic():
        CustomerNumberSequence.objects.get_or_create(library=library)
        sequence = CustomerNumberSequence.objects.select_for_update().get(library=library)
        first = sequence.last_value + 1
        CustomerNumberSequence.objects.filter(pk=sequence.pk).update(
            last_value=F("last_value") + count
        )
    numbers = [
        compose_number(
            prefix=library.customer_number_prefix,
            sequence=first + i,
            length=library.customer_number_length,
        )
        for i in range(count)
    ]
    taken = set(Customer.objects.filter(number__in=numbers).values_list("number", flat=True))
    return [n for n in numbers if n not in taken]


SURNAMES = [
    "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
]  # fmt: skip
INITIALS = ["A.", "B.", "C.J.", "E.B.", "H.", "J.", "K.M.", "L.", "M.", "P.", "R.", "S.T."]


def _customers_fill(library: Any, staff: Any, count: int, rng: random.Random) -> None:
    """Up to `count` plain customers of the library (no login account), for its searches."""
    from bieb.customers.models import Customer

    have = Customer.objects.filter(library=library).count()
    if have >= count:
        return
    branch = staff.branch
    rows = []
    for number in _numbers(library, count - have):
        name = rng.choice(SURNAMES)
        prefix, _, surname = name.rpartition(" ")
        rows.append(
            Customer(
                library=library,
                number=number,
                initials=rng.choice(INITIALS),
                prefix=prefix,
                surname=surname,
                birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(80 * 365)),
                postcode=f"{rng.randrange(1000, 9999)}{rng.choice('ABCDEFGH')}{rng.choice('KLMN')}",
                house_number=rng.randrange(1, 200),
                email=f"{surname.lower()}.{number[-6:]}@example.nl",
                uses_login_account=False,
                registered_branch=branch,
                created_by=staff,
            )
        )
    Customer.objects.bulk_create(rows)


def _customer_with(
    library: Any, staff: Any, *, surname: str, memberships: int, ledger_lines: int
) -> Any:
    """The bench customer `surname` of the library, with that many memberships (one a year,
    youth while under 18) and ledger lines (a fee per paid membership, then payments)."""
    from django.db import transaction

    from bieb.customers.models import Customer

    existing = Customer.objects.filter(library=library, surname=surname).first()
    if existing is not None:
        return existing
    with transaction.atomic():  # all of it or nothing, so a later run finds it whole
        return _customer_create(
            library, staff, surname=surname, memberships=memberships, ledger_lines=ledger_lines
        )


def _customer_create(
    library: Any, staff: Any, *, surname: str, memberships: int, ledger_lines: int
) -> Any:
    from bieb.core.dates import period_valid_through
    from bieb.customers.models import Customer, LedgerKind, LedgerLine, Membership, PaymentMethod
    from bieb.libraries.models import Discount, SubscriptionType, Tariff

    born = dt.date(1990, 3, 14)
    customer = Customer.objects.create(
        library=library,
        number=_numbers(library, 1)[0],
        salutation="mw",
        initials="B.",
        surname=surname,
        birth_date=born,
        postcode="9468BG",
        house_number=41,
        email=f"{surname.lower()}@example.nl",
        identity_checked=True,
        # linked to an active account, so the page shows the account card as well
        uses_login_account=True,
        login_account_id=_member_account().pk,
        registered_branch=staff.branch,
        created_by=staff,
    )
    types = {t.code: t for t in SubscriptionType.objects.filter(library=library)}
    tariffs = {t.code: t for t in Tariff.objects.filter(library=library)}
    discounts = [None, *Discount.objects.filter(library=library).order_by("code")]
    rows = []
    this_year = dt.date.today().year
    for i in range(memberships):
        start = dt.date(this_year - memberships + 1 + i, 3, 1)
        youth = (start - born).days < 18 * 365
        kind = types["0101"] if youth else types["0110" if i % 2 else "0141"]
        tariff = tariffs["0001"] if youth else tariffs["0002"]  # under 18 free, as registered
        through = period_valid_through(start, kind.period_months)
        rows.append(
            Membership(
                library=library,
                customer=customer,
                subscription_type=kind,
                tariff=tariff,
                discount=None if youth else discounts[i % len(discounts)],
                branch=staff.branch,
                start_date=start,
                expiry_month=through.month,
                valid_through=through,
                status="actief" if i == memberships - 1 else "beeindigd",
            )
        )
    saved = Membership.objects.bulk_create(rows)
    lines = []
    for membership in saved[:ledger_lines]:
        lines.append(
            LedgerLine(
                library=library,
                customer=customer,
                membership=membership,
                kind=LedgerKind.FEE,
                amount=membership.subscription_type.price,
                description=f"{membership.subscription_type.label}",
                booked_by=staff,
            )
        )
    while len(lines) < ledger_lines:
        lines.append(
            LedgerLine(
                library=library,
                customer=customer,
                membership=saved[-1],
                kind=LedgerKind.PAYMENT,
                amount=Decimal("-1.50"),
                method=PaymentMethod.CASH if len(lines) % 2 else PaymentMethod.PIN,
                description="Betaling aan de balie",
                booked_by=staff if len(lines) % 3 else None,
            )
        )
    LedgerLine.objects.bulk_create(lines)
    return customer


def _largest_library(scale: float) -> tuple[Any, str]:
    """The largest library of the bulk dataset, and what the dataset holds."""
    from bench.data import ensure_customers

    dataset = ensure_customers(scale)
    return dataset.largest, f"bulk dataset: {dataset.total:,} customers".replace(",", " ")


def prepare(scale: float) -> Setup:
    from django.core.management import call_command

    from bieb.customers.models import Customer

    # The production storage needs the collected files and their manifest (as `make run`).
    call_command("collectstatic", interactive=False, verbosity=0)
    rng = random.Random(SEED)
    _member_account()
    small = bench_library(SMALL_INDEX)
    large, note = _largest_library(scale)
    small_staff = _staff(small, f"bench-pages-{small.code}")
    large_staff = _staff(large, f"bench-pages-{large.code}")
    light = _customer_with(small, small_staff, surname="Lichtklant", memberships=1, ledger_lines=1)
    heavy = _customer_with(
        small,
        small_staff,
        surname="Zwaarklant",
        memberships=HEAVY_MEMBERSHIPS,
        ledger_lines=HEAVY_LEDGER_LINES,
    )
    _customers_fill(small, small_staff, 12, rng)
    other = Customer.objects.filter(library=large).values_list("number", flat=True).first()
    setup = Setup(
        small_library=small,
        large_library=large,
        small_staff=small_staff,
        large_staff=large_staff,
        light=light,
        heavy=heavy,
        other_library_number=other or "0",
        dataset_note=note,
    )
    for library in (small, large):
        setup.samples[library.code] = _sample(library, rng)
    return setup


def _sample(library: Any, rng: random.Random, size: int = 200) -> list[Any]:
    """Customers spread over the library (for the searches and customer pages)."""
    from django.db.models import Max, Min

    from bieb.customers.models import Customer

    customers = Customer.objects.filter(library=library)
    bounds = customers.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return []
    found: dict[int, Any] = {}
    for _ in range(10):
        start = rng.randint(bounds["low"], bounds["high"])
        for customer in customers.filter(id__gte=start).order_by("id")[: size // 10]:
            found[customer.pk] = customer
    return list(found.values())


# --- queries per counter page ----------------------------------------------------------------


def _new_customer_form(step: str) -> dict[str, str]:
    import uuid

    data = {
        "registration_key": str(uuid.uuid4()),
        "number": "v",
        "salutation": "mw",
        "initials": "E.B.",
        "prefix": "",
        "surname": "Bench-Nieuw",
        "first_name": "",
        "birth_date": "04-01-1991",
        "country": "NL",
        "postcode": "9468 BG",
        "house_number": "41",
        "iban": "",
        "bic": "",
        "identity_checked": "ja",
        "identity_document": "",
        "use_login_account": "ja",
        "email": "bench-nieuw@example.nl",
        "account": "",
        "existing_username": "",
        "subscription_type": "",
        "tariff": "",
        "discount": "",
        "action": "next",
        "reached": "1",
    }
    if step == "costs":
        data.update(account="nieuw", subscription_type="0141", reached="4")
    return data


def _search_queries(customer: Any) -> dict[str, str]:
    """One query of each kind the search understands, taken from a real customer."""
    postcode = customer.postcode
    return {
        "number": customer.number[-7:],
        "postcode": f"{postcode[:4]} {postcode[4:]}",
        "postcode + house": f"{postcode[:4]} {postcode[4:]} {customer.house_number}",
        "name": customer.surname,
        "initials + name": f"{customer.initials} {customer.surname}",
        "e-mail": customer.email or "x@example.nl",
        "short (2 letters)": customer.surname[:2],
    }


@dataclass
class Page:
    name: str
    staff: Any  # who asks it
    path: str
    data: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    # The status of the page meant: a login redirect or an error page instead would be counted
    # as a cheap page that costs the same with any data.
    status: int = 200


def _pages(setup: Setup, size: str) -> list[Page]:
    """Each counter page, with little data (size 'small') or much ('large')."""
    library = setup.small_library if size == "small" else setup.large_library
    staff = setup.small_staff if size == "small" else setup.large_staff
    sample = setup.samples[library.code]
    # a customer with a full address and e-mail, as the searches need
    typical = next((c for c in sample if c.postcode and c.house_number and c.email), sample[0])
    results = "/balie/klanten/zoeken/"
    pages = [Page("search page", staff, "/balie/klanten/")]
    for kind, query in _search_queries(typical).items():
        pages.append(Page(f"search results: {kind}", staff, results, {"q": query}))
    pages += [
        Page("search results: no match", staff, results, {"q": "Qxzyvw"}),
        Page("search page with results", staff, "/balie/klanten/", {"q": typical.surname}),
    ]
    # The customer's pages: the light against the heavy customer, both at the small library.
    # (The bulk dataset is not changed; the desk's library size does not enter these pages.)
    customer = setup.light if size == "small" else setup.heavy
    owner = setup.small_staff
    at = f"/balie/klanten/{customer.number}/"
    refused = {"amount": "veel", "method": "contant", "once": ""}
    new = "/balie/klanten/nieuw/"
    pages += [
        Page("customer page", owner, at),
        Page("customer page, payment refused", owner, f"{at}betaling/", refused, "POST", 400),
        Page("registered page", owner, f"{at}ingeschreven/", {"inlogaccount": "bestaand"}),
        Page("personal data form", owner, f"{at}wijzigen/"),
        Page("new customer form", staff, new),
        Page("new customer: 1st step", staff, new, _new_customer_form("first"), "POST"),
        Page("new customer: cost build-up", staff, new, _new_customer_form("costs"), "POST"),
    ]
    foreign = setup.other_library_number if size == "small" else setup.light.number
    pages.append(
        Page("another library's customer (404)", staff, f"/balie/klanten/{foreign}/", status=404)
    )
    return pages


def count_queries(setup: Setup) -> list[tuple[str, int, int]]:
    """(page, queries with little data, queries with much data) of each counter page."""
    results: dict[str, dict[str, int]] = {}
    # The 400s and 404s are meant; their warnings would only fill the output.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    for size in ("small", "large"):
        clients: dict[int, Any] = {}
        _count_pages(setup, size, clients, results)
        _sessions_delete({c.session.session_key for c in clients.values()})
    return [(page, counts["small"], counts["large"]) for page, counts in results.items()]


def _count_pages(
    setup: Setup, size: str, clients: dict[int, Any], results: dict[str, dict[str, int]]
) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for page in _pages(setup, size):
        client = clients.get(page.staff.pk)
        if client is None:
            client = clients[page.staff.pk] = Client()
            client.force_login(page.staff)
            client.get("/balie/klanten/")  # warm: the first request loads what stays
        send = client.get if page.method == "GET" else client.post
        send(page.path, _fresh_keys(page.data))  # once before, so only the page counts
        with CaptureQueriesContext(connection) as queries:
            response = send(page.path, _fresh_keys(page.data))
        if response.status_code != page.status:
            raise RuntimeError(f"{page.name}: {response.status_code}, expected {page.status}")
        results.setdefault(page.name, {})[size] = len(queries.captured_queries)


def _sessions_delete(keys: set[str | None]) -> None:
    """The sessions this run made, so that nothing of it stays behind."""
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys - {None}).delete()


def _fresh_keys(data: dict[str, str]) -> dict[str, str]:
    import uuid

    data = dict(data)
    for key in ("once", "registration_key"):  # a new form each time
        if key in data:
            data[key] = str(uuid.uuid4())
    return data


# --- one web worker, 10,000 requests ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@contextlib.contextmanager
def web_worker() -> Iterator[tuple[str, int]]:
    """gunicorn with one worker, with the options `bieb serve` gives it; yields (base URL,
    worker pid). Its output goes to a temporary file, shown if it fails."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "BIEB_BASE_URL": base, "WEB_CONCURRENCY": "1"}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    command = [
        gunicorn,
        "bieb.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        "--threads=4",
        "--access-logfile=-",
        "--graceful-timeout=5",
        "--no-control-socket",
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(  # noqa: S603 (our own gunicorn)
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield base, _worker(process, base, log)
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped during the run:\n{_tail(log)}")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _worker(process: subprocess.Popen[bytes], base: str, log: Any) -> int:
    """The pid of gunicorn's one worker, once it answers."""
    port = int(base.rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {process.returncode}):\n{_tail(log)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                break
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer within 60 s:\n{_tail(log)}")
        time.sleep(0.2)
    workers = _children(process.pid)
    if len(workers) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {workers}")
    return workers[0]


def _tail(log: Any, lines: int = 30) -> str:
    log.flush()
    log.seek(0)
    return "".join(log.readlines()[-lines:])


class Done(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: Any  # http.client.HTTPMessage
    text: str


class Browser:
    """One visitor: their cookies, over one kept-alive connection (http.client: a fraction of
    the client-side work of `requests`, which would take CPU from the worker on 2 cores)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> Answer:
        headers = {"User-Agent": "bieb-bench-pages", "Accept-Encoding": "gzip"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "GET" and data:
            path = f"{path}?{urllib.parse.urlencode(data)}"
        elif method == "POST":
            body = urllib.parse.urlencode(data or {})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        for attempt in range(3):
            try:
                self.connection.request(method, path, body, headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # gunicorn closes a kept-alive connection after 2 s of quiet; a request sent on
                # it just then was not read, so it is safe to send again (also a POST).
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)  # Django deletes a cookie so
                else:
                    self.cookies[name] = morsel.value
        text = ""
        if response.headers.get("Content-Type", "").startswith(("text/html", "application/json")):
            if response.headers.get("Content-Encoding") == "gzip":
                content = gzip.decompress(content)
            text = content.decode()
        return Answer(response.status, response.headers, text)

    def close(self) -> None:
        self.connection.close()


class Driver:
    """Sends the requests of all clients, counts them, reads the worker's memory at the marks."""

    def __init__(self, base: str, pid: int, total: int, setup: Setup) -> None:
        self.base = base
        self.pid = pid
        self.total = total
        self.setup = setup
        self.lock = threading.Lock()
        self.sent = 0  # requests handed out (a client stops when all are)
        self.answered = 0
        self.stop = False  # a client failed: the others stop too
        self.marks: dict[int, int] = {}  # requests answered -> RSS kB
        self.mark_at = {WARM_UP, total // 2, total, *range(1000, total, 1000)}
        self.statuses: Counter[int] = Counter()
        self.kinds: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)  # kind -> seconds waited for answers
        self.sessions: list[Any] = []
        self.static: set[str] = set()
        self.logged_in = [threading.Event() for _ in range(CLIENTS)]

    def session(self) -> Browser:
        browser = Browser(int(self.base.rsplit(":", 1)[1]))
        with self.lock:
            self.sessions.append(browser)
        return browser

    def hit(
        self,
        session: Any,
        kind: str,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        *,
        expect: tuple[int, ...] = (200,),
    ) -> Answer:
        with self.lock:
            if self.stop or self.sent >= self.total:
                raise Done
            self.sent += 1
        if method == "POST":
            data = {**(data or {}), "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")}
        started = time.perf_counter()
        response = session.request(method, path, data)
        seconds = time.perf_counter() - started
        with self.lock:
            self.answered += 1
            self.statuses[response.status] += 1
            self.kinds[kind] += 1
            self.seconds[kind] += seconds
            if self.answered in self.mark_at:
                self.marks[self.answered] = rss_kb(self.pid)
        if response.status >= 500 or response.status not in expect:
            raise RuntimeError(
                f"{method} {path}: {response.status} (expected {expect})\n{response.text[:500]}"
            )
        if response.text:
            found = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', response.text))
            if found - self.static:
                with self.lock:
                    self.static |= found
        return response


def _counter_login(driver: Driver, session: Any, staff: Any) -> None:
    driver.hit(session, "counter login page", "GET", "/balie/inloggen/")
    form = {"username": staff.username, "password": STAFF_PASSWORD, "next": ""}
    driver.hit(session, "counter login (POST)", "POST", "/balie/inloggen/", form, expect=(302,))


def _typing(query: str, rng: random.Random) -> list[str]:
    """What the search box holds keystroke by keystroke (the page asks from 2 characters), up
    to where staff stop typing because the customer is in the list."""
    stop = min(len(query), rng.randint(4, 12))
    return [query[:n] for n in range(2, stop + 1)]


def _client(driver: Driver, setup: Setup, index: int) -> None:
    """One client: two counter desks (the largest and the small library) and a few visitors,
    each with its own cookies, doing what they do at random until all requests are sent.
    The desks log in one after the other, as staff come in (client `index` after the one
    before it), so the warm-up holds the worker's first logins."""
    rng = random.Random(SEED + index)
    desks = [
        (setup.large_staff, setup.samples[setup.large_library.code]),
        (setup.small_staff, setup.samples[setup.small_library.code]),
    ]
    if index:
        driver.logged_in[index - 1].wait(timeout=120)
    counters = []
    try:
        for staff, sample in desks:
            session = driver.session()
            _counter_login(driver, session, staff)
            counters.append((session, staff, sample))
    finally:
        driver.logged_in[index].set()
    visitors = [driver.session() for _ in range(8)]
    heavy = setup.heavy.number
    signup_code = setup.small_library.code

    def counter_search() -> None:
        session, _, sample = rng.choice(counters)
        customer = rng.choice(sample)
        kind, query = rng.choice(list(_search_queries(customer).items()))
        typing = _typing(query, rng)
        for typed in typing:
            # The page asks 120 ms after the last key: a quick typist skips some in between.
            if typed == typing[-1] or rng.random() < 0.6:
                path = "/balie/klanten/zoeken/"
                driver.hit(session, f"search: {kind}", "GET", path, {"q": typed})
        if rng.random() < 0.3:
            driver.hit(session, "search page", "GET", "/balie/klanten/", {"q": query})
        if rng.random() < 0.7:
            driver.hit(session, "customer page", "GET", f"/balie/klanten/{customer.number}/")

    def counter_customer() -> None:
        session, staff, sample = rng.choice(counters)
        if staff.pk == setup.small_staff.pk and rng.random() < 0.3:
            number = rng.choice([heavy, setup.light.number])  # much data and little
        else:
            number = rng.choice(sample).number
        driver.hit(session, "customer page", "GET", f"/balie/klanten/{number}/")
        if rng.random() < 0.2:
            driver.hit(session, "personal data form", "GET", f"/balie/klanten/{number}/wijzigen/")

    def counter_new() -> None:
        session, _, _ = rng.choice(counters)
        driver.hit(session, "new customer form", "GET", "/balie/klanten/nieuw/")
        if rng.random() < 0.5:
            form = _new_customer_form("first")
            form["surname"] = rng.choice(SURNAMES).rpartition(" ")[2]
            driver.hit(session, "new customer (POST)", "POST", "/balie/klanten/nieuw/", form)

    def counter_relogin() -> None:
        index = rng.randrange(len(counters))
        session, staff, _ = counters[index]
        driver.hit(session, "counter logout (POST)", "POST", "/balie/uitloggen/", expect=(302,))
        _counter_login(driver, session, staff)

    def counter_not_found() -> None:
        session, _, _ = rng.choice(counters)
        driver.hit(session, "counter 404", "GET", "/balie/klanten/99999999999999/", expect=(404,))

    def kb_login_page() -> None:
        driver.hit(rng.choice(visitors), "KB login page", "GET", "/kb/inloggen/")

    def kb_login() -> None:
        session = rng.choice(visitors)
        driver.hit(session, "KB login page", "GET", "/kb/inloggen/")
        form = {"username": MEMBER_USERNAME, "password": MEMBER_PASSWORD}
        # 302 when logged in; 200 with a message if the address is locked by failed logins
        driver.hit(session, "KB login (POST)", "POST", "/kb/inloggen/", form, expect=(200, 302))
        driver.hit(session, "KB home", "GET", "/kb/", expect=(200, 302))

    def oidc() -> None:
        session = rng.choice(visitors)
        driver.hit(session, "OIDC discovery", "GET", "/kb/.well-known/openid-configuration")
        driver.hit(session, "OIDC keys", "GET", "/kb/.well-known/jwks.json")

    def static() -> None:
        session = rng.choice(visitors)
        with driver.lock:
            urls = sorted(driver.static) or ["/static/counter/counter.css"]
        driver.hit(session, "static file", "GET", rng.choice(urls))

    def signup() -> None:
        session = rng.choice(visitors)
        response = driver.hit(
            session, "sign-up start", "GET", f"/word-lid/{signup_code}/", expect=(302,)
        )
        step = response.headers["Location"].replace(driver.base, "")  # a path
        driver.hit(session, "sign-up step", "GET", step)

    def not_found() -> None:
        path = f"/bestaat-niet/{rng.randrange(10**6)}/"
        driver.hit(rng.choice(visitors), "404", "GET", path, expect=(404,))

    actions: list[tuple[float, Callable[[], None]]] = [
        (30, counter_search),
        (20, counter_customer),
        (6, counter_new),
        (0.3, counter_relogin),
        (2, counter_not_found),
        (6, kb_login_page),
        (0.4, kb_login),
        (6, oidc),
        (10, static),
        (5, signup),
        (3, not_found),
    ]
    choices = [a for _, a in actions]
    weights = [w for w, _ in actions]
    while True:
        rng.choices(choices, weights)[0]()


def _cleanup(driver: Driver) -> None:
    """The sessions of the visitors and the counters of this run."""
    _sessions_delete({s.cookies.get("sessionid") for s in driver.sessions})
    for session in driver.sessions:
        session.close()


def memory(setup: Setup, total: int) -> tuple[Driver, float]:
    """`total` requests from CLIENTS clients at once at one worker (of 4 threads)."""
    started = time.monotonic()
    with web_worker() as (base, pid):
        driver = Driver(base, pid, total, setup)
        errors: list[BaseException] = []

        def client(index: int) -> None:
            try:
                _client(driver, setup, index)
            except Done:
                pass
            except BaseException as error:
                errors.append(error)
                driver.stop = True

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            driver.stop = True
            for thread in threads:
                if thread.is_alive():
                    thread.join()
            _cleanup(driver)
        if errors:
            raise errors[0]
    return driver, time.monotonic() - started


# --- the figures -------------------------------------------------------------------------------


def requests_for(scale: float) -> int:
    return REQUESTS if scale >= 1 else max(1000, round(REQUESTS * scale))


def run(scale: float) -> list[Figure]:
    setup = prepare(scale)
    figures: list[Figure] = []
    for page, small, large in count_queries(setup):
        figures.append(
            Figure(
                SECTION,
                f"queries: {page}",
                large,
                "queries",
                limit_label="with little data",
                limit_value=small,
                ratio=large / small if small else None,
                goal="ratio = 1.0",
                met=large == small,
            )
        )
    total = requests_for(scale)
    driver, seconds = memory(setup, total)
    warm = driver.marks[WARM_UP] / 1024
    half = driver.marks[total // 2] / 1024
    end = driver.marks[total] / 1024
    figures += [
        Figure(
            SECTION,
            f"worker RSS after {total:,} requests".replace(",", " "),
            end,
            "MB",
            limit_label=f"after warm-up ({WARM_UP} requests)",
            limit_value=warm,
            ratio=end / warm,
            goal=f"ratio <= {RSS_GOAL}",
            met=end / warm <= RSS_GOAL,
        ),
        Figure(
            SECTION,
            "worker RSS change, second half",
            (end - half) * 1024 / ((total - total // 2) / 1000),
            "kB/1000 req",
        ),
        Figure(
            SECTION, f"requests per second (1 worker, {CLIENTS} clients)", total / seconds, "req/s"
        ),
    ]
    print(
        f"{setup.dataset_note}; largest library {setup.large_library.code}; "
        f"{total} requests in {seconds:.0f} s; statuses {dict(sorted(driver.statuses.items()))}",
        flush=True,
    )
    print(
        "RSS (MB) by requests: "
        + ", ".join(f"{n}: {kb / 1024:.1f}" for n, kb in sorted(driver.marks.items())),
        flush=True,
    )
    print(
        "mix (requests, mean ms): "
        + ", ".join(
            f"{k} {n} {driver.seconds[k] / n * 1000:.1f}" for k, n in driver.kinds.most_common()
        ),
        flush=True,
    )
    return figures


if __name__ == "__main__":
    main(run)
