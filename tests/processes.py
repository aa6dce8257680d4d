"""Real Bieb processes for the fault tests: `bieb serve --role ...` against the test database,
each in a process group of its own (so that a test can kill it whole, as a machine dies), with
its output in a file that a failing assertion shows."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database (PostgreSQL), as the processes we start reach it."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgresql://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class BiebProcess:
    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115 (closed in wait)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bieb", *args],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.fault_settings", **env},
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL to `bieb serve` and every process below it, at once: the machine died,
        nothing runs to its end. (Not only the process group: RQ runs each task in a forked
        process that starts a session of its own.)"""
        if self.process.poll() is not None:
            return  # ended already: its number may belong to another process by now
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._file.close()

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM to `bieb serve` only (as systemd's KillMode=mixed does); the group is killed
        if it has not stopped after `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
            raise
        finally:
            # Whatever the serve left (it stops its children itself; this is the safety net).
            self.signal_group(signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (children, their children, ...)."""
    table = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True
    ).stdout
    children: dict[int, list[int]] = {}
    for line in table.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def bieb(*args: str, env: dict[str, str]) -> str:
    """Run a `bieb` command to its end; its output (stdout and stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "bieb", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.fault_settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def serve(role: str, *, env: dict[str, str], log: Path, port: int | None = None) -> BiebProcess:
    args = ["serve", "--role", role]
    if port is not None:
        args += ["--port", str(port), "--workers", "1"]
    return BiebProcess(args, env=env, log=log)


def wait_until(
    what: str, condition: Callable[[], object], *, timeout: float, why: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}\n{why()}")
        time.sleep(0.1)
