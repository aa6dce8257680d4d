"""SIGTERM to `bieb serve --role web` (what systemd sends to stop the unit) lets gunicorn finish
the requests it has: a request whose body is still arriving when the signal comes is answered
in full, and then the server stops by itself. (The worker's half: tests/mail/
test_worker_processes.py, a mail in the middle of being sent is finished first.)"""

import socket
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.processes import database_url, serve, wait_until
from tests.smtp import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sigterm_lets_gunicorn_answer_the_request_it_is_reading(tmp_path: Path) -> None:
    port = free_port()
    env = {"DATABASE_URL": database_url(), "BIEB_VAR_DIR": str(tmp_path / "var")}
    web = serve("web", env=env, log=tmp_path / "web.log", port=port)
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            try:
                return requests.get(f"{base}/health/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until("gunicorn answers", answers, timeout=30, why=web.output)
        form = requests.get(f"{base}/kb/wachtwoord-vergeten/", timeout=10)
        token = form.cookies["csrftoken"]
        body = urlencode({"csrfmiddlewaretoken": token, "username": "niemand.bekend"}).encode()
        head = (
            f"POST /kb/wachtwoord-vergeten/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: csrftoken={token}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.sendall(head + body[:10])  # a slow client: the rest comes later
            time.sleep(0.5)
            web.process.terminate()  # SIGTERM to `bieb serve`, as systemd sends it
            time.sleep(1)
            assert web.process.poll() is None  # still there for the request it has
            client.sendall(body[10:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        exit_code = web.wait(timeout=20)
    finally:
        web.stop()
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 200 OK", answer[:500]
    assert "Kijk in je mail" in answer.decode()
    assert exit_code == 0, web.output()
    assert "Bieb stopped." in web.output()
