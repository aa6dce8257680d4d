"""Serve Bieb: gunicorn (web), the background-task worker (the database queue's, or RQ's when
REDIS_URL is set) and the periodic jobs, together
(`--role all`, the default, as `make run` does), or one of them (`--role web|worker|periodic`)
on as many servers as needed against one PostgreSQL database: the periodic jobs run once per
due time whichever servers run them (bieb.core.periodic).

Ctrl-C (or SIGTERM) stops them all, each gracefully (gunicorn finishes its requests, the
worker its task). If gunicorn dies, the others are stopped too (and systemd starts the unit
again); a worker or periodic runner that stops by itself is started again after RESTART_DELAY,
as the database queue's worker does when PostgreSQL restarts under it.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

ROLES = ("web", "worker", "periodic")
# Seconds before a worker or periodic runner that stopped by itself is started again.
RESTART_DELAY = 5.0


class Command(BaseCommand):
    help = "Run the web server (gunicorn), the task worker and the periodic jobs until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument(
            "--role",
            choices=[*ROLES, "all"],
            default="all",
            help="which process to run here: web, worker, periodic, or all (default)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bin_dir = os.path.dirname(sys.executable)
        bieb = [sys.executable, "-m", "bieb"]
        rq_job = "--job-class=django_tasks_rq.Job"
        commands = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "bieb.wsgi:application",
                "--config=python:bieb.core.gunicorn_conf",
                f"--bind={options['host']}:{options['port']}",
                f"--workers={options['workers']}",
                "--threads=4",
                "--access-logfile=-",
                # The request id (bieb.core.requestid) in each access line.
                '--access-logformat=%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s',
                "--graceful-timeout=5",
                # One shared control socket per user would clash between installations.
                "--no-control-socket",
            ],
            "worker": (
                # RQ's worker runs each task in a forked process of its own and, with its
                # scheduler, the tasks deferred to later; SIGTERM lets it finish the task.
                [*bieb, "rqworker", "default", rq_job, "--with-scheduler"]
                if settings.REDIS_URL
                else [*bieb, "db_worker", "--queue-name=*", "--no-startup-delay"]
            ),
            "periodic": [*bieb, "runperiodic", "--loop"],
        }
        chosen = ROLES if options["role"] == "all" else (options["role"],)
        if "web" in chosen:
            # One directory for the counters of all web workers (bieb.core.metrics), empty at
            # each start.
            metrics_dir = Path(settings.VAR_DIR) / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        processes = {
            name: subprocess.Popen(commands[name])  # noqa: S603
            for name in chosen
        }
        if "web" in processes:
            self._banner(options["host"], options["port"])
        else:
            self.stdout.write(f"Bieb {options['role']} is running (Ctrl-C stops it)\n")

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        restart_at: dict[str, float] = {}
        while not stopping:
            for name, process in processes.items():
                if process.poll() is None or name in restart_at:
                    continue
                if name == "web":
                    self.stderr.write(f"{name} stopped (exit {process.returncode}); stopping all.")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
                # The worker stops when it loses the database (the database queue's worker) or
                # cannot reach Redis at its start (RQ's); it is started again until they are back.
                self.stderr.write(
                    f"{name} stopped (exit {process.returncode}); "
                    f"starting it again in {RESTART_DELAY:.0f} s."
                )
                restart_at[name] = time.monotonic() + RESTART_DELAY
            for name, at in list(restart_at.items()):
                if not stopping and time.monotonic() >= at:
                    processes[name] = subprocess.Popen(commands[name])  # noqa: S603
                    del restart_at[name]
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Bieb stopped.")
        if exit_code:
            raise SystemExit(exit_code)

    def _banner(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        lines = [
            "",
            f"Bieb is running on {base}   (Ctrl-C stops it)",
            f"  balie:                   {base}/balie/",
            f"  financieel:              {base}/balie/financieel/",
            f"  configuratie (beheer):   {base}/admin/",
            f"  gezondheid:              {base}/health/",
        ]
        if settings.DEMO:
            from bieb.core.demo_logins import DEMO_TOTP_SECRET

            password = settings.BIEB_DEMO_PASSWORD
            lines += [
                "Demo logins (password: " + password + "):",
                "  balie       Bibliotheken Bind, vestiging 5280",
                "  balie-oost  Bibliotheek Oost, vestiging 6100",
                "  manager     Bibliotheken Bind, 5280, met Financieel en Statistiek",
                "  beheer      beheerder (alle bibliotheken, /admin/), plus verificatiecode:",
                "              staat onder het inlogformulier, of app-sleutel " + DEMO_TOTP_SECRET,
            ]
        self.stdout.write("\n".join(lines) + "\n")
