"""10. The national load test: Locust, headless, against two web servers, one task worker,
PostgreSQL and (when the RQ backend is installed) Redis, all on this machine.

    .venv/bin/python -m bench.load [--scale 0.1] [--multiples 1,2,4,8] [--step-seconds 60]

The national peak (1x) is estimated in bench/README.md, section 10, from published figures
(CBS and the KB): per second, password logins to the Online Bibliotheek through the OIDC code
flow, the e-book platform's entitlement checks, counter searches as staff type, counter
registrations and online sign-ups. Each step runs that mix at a multiple of the peak for
`--step-seconds` (after a warm-up at 1x) and reports the throughput, the 95th percentile of all
requests and the failures. The figure asked for: the highest multiple at which the 95th
percentile stays under 300 ms with 0 errors, as requests and logins per second, as a ratio to the
machine's limit (Argon2id verifications per second on one core, measured here, times the cores)
and as a multiple of the national peak.

The servers are run as docs/deployment.md runs them: `bieb serve --role web --workers 1` twice
(each its own port and var directory, one signing key, one SECRET_KEY), `bieb serve --role
worker` once, the production settings (not the demo). Locust stands where the reverse proxy
stands (bench/locustfile.py). The data: the 4 million customers of bench/data.py (the searches
run in its largest library), bench library 970 for registrations and sign-ups, and
`accounts` active login accounts (bench-load-000000 ...) with a valid Digital only membership
at the KB. Only loopback is a target.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import Figure, bench_library, bench_staff, main

SECTION = "10 load"
PUBLIC = "bieb.bench.invalid"
PASSWORD = "Bench-Lezer-Leeslamp-10"
STAFF_PASSWORD = "Bench-Balie-Duinpan-10"
ACCOUNTS = 20_000
SIGNUP_INDEX = 970
P95_GOAL_MS = 300.0

# The national peak (bench/README.md, section 10): per second.
PEAK = {
    "logins": 5.0,  # Online Bibliotheek sign-ins (password, code flow, token, userinfo)
    "entitlements": 25.0,  # the e-book platform's checks
    "searches": 1.0,  # counter searches (each a few requests as staff type)
    "registrations": 0.25,  # counter registrations with a login account
    "signups": 0.05,  # online sign-ups (each also a sign-in at the KB)
}
# Seconds between the starts of one virtual user's iterations (Locust's constant_pacing).
PACING = {"member": 10.0, "platform": 1.0, "desk": 5.0, "registrar": 20.0, "signup": 30.0}


def _users(multiple: float) -> dict[str, int]:
    """How many virtual users of each kind carry `multiple` x the national peak."""

    def n(rate: float, pacing: float) -> int:
        return max(1, round(rate * multiple * pacing))

    return {
        "member": n(PEAK["logins"], PACING["member"]),
        "platform": n(PEAK["entitlements"], PACING["platform"]),
        "desk": n(PEAK["searches"], PACING["desk"]),
        "registrar": n(PEAK["registrations"], PACING["registrar"]),
        "signup": n(PEAK["signups"], PACING["signup"]),
    }


# --- the data ----------------------------------------------------------------------------------


def _accounts(count: int) -> None:
    """`count` active login accounts with one password (one hash for all: Argon2id hashes
    carry their salt, so a shared one verifies the same way and saves minutes of setup), each
    with a valid Digital only membership at the KB."""
    from django.contrib.auth.hashers import make_password

    from bieb.kb.models import AccountState, LinkedMembership, LoginAccount

    have = LoginAccount.objects.filter(username__startswith="bench-load-").count()
    if have >= count:
        LinkedMembership.objects.filter(library_code="bench-load").update(
            valid_through=dt.date.today() + dt.timedelta(days=300)
        )
        return
    encoded = make_password(PASSWORD)
    now = dt.datetime.now(dt.UTC)
    accounts = [
        LoginAccount(
            username=f"bench-load-{i:06d}",
            email=f"bench-load-{i:06d}@example.nl",
            email_verified=True,
            origin="online",
            state=AccountState.ACTIVE,
            password=encoded,
            activated_at=now,
        )
        for i in range(have, count)
    ]
    LoginAccount.objects.bulk_create(accounts, batch_size=2000)
    made = LoginAccount.objects.filter(username__in=[a.username for a in accounts])
    LinkedMembership.objects.bulk_create(
        [
            LinkedMembership(
                account=account,
                library_code="bench-load",
                library_name="Bibliotheek Bench (load)",
                customer_number=f"9{int(account.username[-6:]):013d}",
                subscription_code="0141",
                digital_rights="compleet",
                valid_through=dt.date.today() + dt.timedelta(days=300),
                state="actief",
            )
            for account in made
        ],
        batch_size=2000,
    )


def _staff(library: Any, username: str) -> Any:
    user = bench_staff(library, username=username)
    if not user.check_password(STAFF_PASSWORD):
        user.set_password(STAFF_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _samples(library: Any, count: int, rng: random.Random) -> list[dict[str, str]]:
    from django.db.models import Max, Min

    from bieb.customers.models import Customer

    customers = Customer.objects.filter(library=library, anonymised_at=None)
    bounds = customers.aggregate(low=Min("id"), high=Max("id"))
    out: list[dict[str, str]] = []
    while len(out) < count and bounds["low"] is not None:
        start = rng.randint(bounds["low"], bounds["high"])
        for c in customers.filter(id__gte=start).order_by("id")[:10]:
            postcode = c.postcode
            out.append(
                {
                    "number": c.number,
                    "surname": c.surname,
                    "postcode": f"{postcode[:4]} {postcode[4:]} {c.house_number}",
                }
            )
    return out[:count]


def prepare(scale: float) -> dict[str, Any]:
    from django.conf import settings
    from django.core.management import call_command

    from bench.data import ensure_customers
    from bieb.kb.clients import clients_register_defaults

    call_command("collectstatic", interactive=False, verbosity=0)
    clients_register_defaults()  # the redirect URIs at the public name (BIEB_BASE_URL)
    rng = random.Random(10)
    dataset = ensure_customers(scale)
    accounts = max(1000, round(ACCOUNTS * scale))
    _accounts(accounts)
    large = dataset.largest
    desks = []
    for i in range(2):
        staff = _staff(large, f"bench-load-{large.code}-{i}")
        desks.append({"username": staff.username, "samples": _samples(large, 300, rng)})
    signup_library = bench_library(SIGNUP_INDEX)
    # Members pay online there (Mollie); the run stops at the payment step, before Mollie.
    type(signup_library).objects.filter(pk=signup_library.pk).update(payment_provider="mollie")
    registrar = _staff(signup_library, f"bench-load-{signup_library.code}")
    return {
        "public_host": PUBLIC,
        "accounts": accounts,
        "password": PASSWORD,
        "staff_password": STAFF_PASSWORD,
        "desks": desks,
        "registrar": registrar.username,
        "signup_library": signup_library.code,
        "entitlements_token": settings.BIEB_ENTITLEMENTS_TOKEN,
        "dataset": f"{dataset.total:,} customers".replace(",", " "),
    }


def _clean() -> None:
    """What a run leaves that would change the next: sessions and tokens of the bench
    accounts, their sign-in records and throttles (the registrations stay, as real ones do)."""
    from django.contrib.sessions.models import Session

    from bieb.core.models import Throttle

    Throttle.objects.filter(key__contains="bench-load-").delete()
    Session.objects.all().delete()


# --- the servers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    """Redis for the task queue when the RQ backend is installed and Redis answers."""
    url = os.environ.get("BIEB_LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        import django_tasks_rq  # noqa: F401
    except ImportError:
        return ""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=1):
        return url
    return ""


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[dict[str, Any]]:
    """Two web servers and a worker, as docs/deployment.md runs them; yields their URLs."""
    from django.conf import settings

    key_file = folder / "oidc.pem"
    key_file.write_text(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])
    redis = _redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": f"{PUBLIC},127.0.0.1",
        "BIEB_BASE_URL": f"https://{PUBLIC}",
        "BIEB_TRUSTED_PROXIES": "1",
        "BIEB_OIDC_PRIVATE_KEY_FILE": str(key_file),
        "BIEB_ENTITLEMENTS_TOKEN": settings.BIEB_ENTITLEMENTS_TOKEN,
        "BIEB_LOG_LEVEL": "WARNING",
        "REDIS_URL": redis,
        # Sign-ups stop at the payment step: Mollie (outside this machine) is never called; a
        # closed loopback port would answer if it were.
        "BIEB_MOLLIE_API_KEY": "test_" + "b" * 30,
        "BIEB_MOLLIE_API_ENDPOINT": "http://127.0.0.1:9",
    }
    env.pop("BIEB_DEMO", None)
    bieb = [sys.executable, "-m", "bieb", "serve"]
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    hosts = []
    try:
        for i in range(2):
            port = _free_port()
            var = folder / f"web{i}"
            var.mkdir(exist_ok=True)
            # the files collected once (STATIC_ROOT is in the var directory)
            if not (var / "static").exists():
                (var / "static").symlink_to(settings.STATIC_ROOT)
            log = open(folder / f"web{i}.log", "wb")  # noqa: SIM115
            logs.append(log)
            processes.append(
                subprocess.Popen(  # noqa: S603 (our own server)
                    [*bieb, "--role=web", "--workers=1", f"--port={port}"],
                    env={**env, "BIEB_VAR_DIR": str(var)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            hosts.append(f"http://127.0.0.1:{port}")
        log = open(folder / "worker.log", "wb")  # noqa: SIM115
        logs.append(log)
        processes.append(
            subprocess.Popen(  # noqa: S603
                [*bieb, "--role=worker"],
                env={**env, "BIEB_VAR_DIR": str(folder / "worker")},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        for host in hosts:
            _wait_ready(host, processes, folder)
        yield {"hosts": hosts, "redis": redis, "pids": [p.pid for p in processes]}
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs:
            log.close()


def _wait_ready(host: str, processes: list[subprocess.Popen[bytes]], folder: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = "\n".join(p.read_text()[-2000:] for p in folder.glob("*.log"))
                raise RuntimeError(f"a server stopped before the run:\n{logs}")
        request = urllib.request.Request(  # noqa: S310 (http on loopback)
            f"{host}/ready/", headers={"Host": PUBLIC, "X-Forwarded-Proto": "https"}
        )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(request, timeout=2) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{host} was not ready within 90 s")


# --- Locust ------------------------------------------------------------------------------------


def _locust(setup: dict[str, Any], multiple: float, seconds: int, folder: Path) -> dict[str, Any]:
    """One step: Locust headless with the mix at `multiple` x the peak; its statistics."""
    users = _users(multiple)
    config = {**setup, "counts": users, "pacing": PACING}
    prefix = folder / f"step-{multiple:g}"
    command = [
        os.path.join(os.path.dirname(sys.executable), "locust"),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(sum(users.values())),
        "--spawn-rate",
        str(max(5, sum(users.values()) // 5)),
        "--run-time",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--only-summary",
        "--reset-stats",  # from the moment every user is started
        "--loglevel",
        "WARNING",
        "--host",
        setup["hosts"][0],
    ]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (our own Locust run)
        command,
        env={**os.environ, "BIEB_LOAD_SETUP": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    elapsed = time.monotonic() - started
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115
    total = next(r for r in rows if r["Name"] == "Aggregated")
    by_name = {r["Name"]: r for r in rows if r["Name"] != "Aggregated"}
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv")))  # noqa: SIM115
    logins = sum(int(r["Request Count"]) for name, r in by_name.items() if "Argon2id" in name)
    return {
        "multiple": multiple,
        "users": users,
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "logins_per_s": logins / seconds,
        "by_name": {
            name: (int(r["Request Count"]), float(r["50%"]), float(r["95%"]))
            for name, r in by_name.items()
        },
        "failure_lines": [f"{f['Occurrences']}x {f['Name']}: {f['Error'][:120]}" for f in failures],
        "locust_exit": done.returncode,
        "locust_tail": (done.stderr or "")[-1500:],
        "elapsed": elapsed,
    }


def _argon2_rate(seconds: float = 5.0) -> float:
    """Argon2id verifications per second on one core, with the project's parameters."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    check_password(PASSWORD, encoded)
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        check_password(PASSWORD, encoded)
        n += 1
    return n / (time.perf_counter() - started)


def run(scale: float) -> list[Figure]:
    multiples = [float(m) for m in os.environ.get("BIEB_LOAD_MULTIPLES", "1,2,4,6,8").split(",")]
    seconds = int(os.environ.get("BIEB_LOAD_STEP_SECONDS", "60"))
    if scale < 1:
        seconds = max(15, round(seconds * scale))
    setup = prepare(scale)
    _clean()
    hash_rate = _argon2_rate()
    cores = os.cpu_count() or 1
    limit = hash_rate * cores
    steps = []
    with tempfile.TemporaryDirectory(prefix="bieb-load-") as tmp:
        folder = Path(os.environ.get("BIEB_LOAD_KEEP") or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with servers(folder) as running:
            setup = {**setup, "hosts": running["hosts"]}
            _locust(setup, 1, max(10, seconds // 3), folder)  # warm-up, not reported
            for multiple in multiples:
                step = _locust(setup, multiple, seconds, folder)
                steps.append(step)
                print(_step_line(step), file=sys.stderr, flush=True)
                if step["p95"] > 3 * P95_GOAL_MS and step["failures"]:
                    break  # far past the limit: the next steps only queue
        queue = "Redis (RQ)" if running["redis"] else "database queue"
    _clean()
    good = [s for s in steps if s["p95"] < P95_GOAL_MS and s["failures"] == 0]
    best = max(good, key=lambda s: s["multiple"]) if good else None
    figures = [
        Figure(
            SECTION, f"Argon2id verifications, one core ({cores} cores: limit)", hash_rate, "/s"
        ),
        Figure(SECTION, f"task queue: {queue}; data: {setup['dataset']}", 0, ""),
    ]
    for s in steps:
        figures.append(
            Figure(
                SECTION,
                f"{s['multiple']:g}x peak: {s['rps']:.0f} req/s, logins {s['logins_per_s']:.1f}/s, "
                f"p50 {s['p50']:.0f} ms, p99 {s['p99']:.0f} ms, failures {s['failures']}",
                s["p95"],
                "ms p95",
                goal=f"p95 < {P95_GOAL_MS:.0f} ms, 0 errors",
                met=s["p95"] < P95_GOAL_MS and s["failures"] == 0,
            )
        )
    if best is not None:
        figures.append(
            Figure(
                SECTION,
                f"highest step within the goal: {best['multiple']:g}x the national peak, "
                f"{best['rps']:.0f} req/s",
                best["logins_per_s"],
                "logins/s",
                "Argon2id rate x cores",
                limit,
                best["logins_per_s"] / limit,
            )
        )
    print(json.dumps({"steps": steps}, default=str), file=sys.stderr)
    return figures


def _step_line(step: dict[str, Any]) -> str:
    head = (
        f"{step['multiple']:g}x: {step['requests']} requests, {step['rps']:.1f}/s, "
        f"p50 {step['p50']:.0f} ms, p95 {step['p95']:.0f} ms, p99 {step['p99']:.0f} ms, "
        f"failures {step['failures']}, logins {step['logins_per_s']:.2f}/s"
    )
    worst = sorted(step["by_name"].items(), key=lambda kv: -kv[1][2])[:5]
    lines = [
        head,
        *[f"    {n}: {c} requests, p50 {a:.0f}, p95 {b:.0f} ms" for n, (c, a, b) in worst],
    ]
    lines += [f"    ! {f}" for f in step["failure_lines"][:8]]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("BIEB_BASE_URL", f"https://{PUBLIC}")
    os.environ.setdefault("BIEB_ENTITLEMENTS_TOKEN", secrets.token_urlsafe(32))
    main(run)
