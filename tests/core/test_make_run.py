"""`make run` sets up the demo and serves it with gunicorn, the worker and the periodic jobs;
Ctrl-C stops all of it."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from bieb.core.demo_logins import DEMO_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, response.read().decode()


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
    }
    env.update(BIEB_VAR_DIR=str(tmp_path / "var"), PORT=str(port), BIEB_DEMO="1")
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while True:
            try:
                status, _ = get(f"{base}/health/")
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, "not serving after 150 s"
                time.sleep(0.5)
        assert status == 200
        status, login = get(f"{base}/admin/login/")
        assert "Gebruikersnaam" in login and "Wachtwoord" in login
        assert "Verificatiecode" in login and 'id="demo-code"' in login  # beheer's code
        _, discovery = get(f"{base}/kb/.well-known/openid-configuration")
        assert f'"issuer": "{base}/kb"' in discovery  # links and issuer follow PORT
        # The page's stylesheet, by the hashed name collectstatic gave it (only those are kept).
        stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login)
        assert stylesheet is not None, login
        status, css = get(f"{base}{stylesheet.group(1)}")
        assert status == 200 and "body" in css

        output = (tmp_path / "run.log").read_text()
        assert f"{base}/admin/" in output
        assert "balie" in output and "balie-oost" in output and "demo-balie" in output
        assert DEMO_TOTP_SECRET in output  # for an authenticator app, as README says
        processes = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-g", str(process.pid)], capture_output=True, text=True
        ).stdout
        assert "gunicorn" in processes
        assert "db_worker" in processes
        assert "runperiodic" in processes
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    time.sleep(1)
    leftovers = subprocess.run(
        ["ps", "-o", "pid=", "-g", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "processes left after Ctrl-C"
    assert "Bieb stopped." in (tmp_path / "run.log").read_text()
