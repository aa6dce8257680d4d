"""A login service that cannot be reached, does not answer in time or fails: the HTTP adapter
raises KBUnavailable (which the library's outbox retries), never a ValidationError that would
read as the KB's refusal, and never waits longer than its timeouts."""

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bieb.kb.interface import KBUnavailable
from bieb.kb.remote import HttpKB
from tests.kb.contract.conftest import membership, new_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_kb_that_is_down_raises_kb_unavailable() -> None:
    kb = HttpKB(base_url=f"http://127.0.0.1:{free_port()}", client_id="x", client_secret="y")
    with pytest.raises(KBUnavailable):
        kb.create_account(email="a@example.nl", membership=membership("25280000000017"), actor="b")
    with pytest.raises(KBUnavailable):
        kb.account_status_by_id(account_id=new_id())


def test_what_the_counter_tells_of_the_activation_link_needs_no_kb(settings: Any) -> None:
    """Every customer page says how long the activation link works; a KB that is down (and a
    library server that never asked it since its start) still gives the page its sentence."""
    kb = HttpKB(base_url=f"http://127.0.0.1:{free_port()}", client_id="x", client_secret="y")
    assert kb.activation_lifetime_label() == "24 uur"
    settings.BIEB_ACTIVATION_HOURS = 0.5
    assert kb.activation_lifetime_label() == "30 minuten"
    # what the KB said last, once it said anything
    kb._service = ({"activation_lifetime": "48 uur", "libraries": ["bind"]}, 0.0)
    assert kb.activation_lifetime_label() == "48 uur"


class _Silent(BaseHTTPRequestHandler):
    """Takes the request and answers too late, or with a server error (by path)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/kb/token/"):
            body = b'{"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "/slow/" in self.server.mode:  # type: ignore[attr-defined]
            time.sleep(2)
        # The KB's own answer to a fault of its own (bieb.kb.api.problems, server-error).
        body = (
            b'{"type": "urn:bieb:kb-api:server-error", "title": "Fout in de inlogdienst", '
            b'"status": 500, "detail": "Er ging iets mis.", "instance": "/kb/api/v1/x"}'
        )
        self.send_response(500)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def silent_kb() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Silent)
    server.daemon_threads = True
    server.mode = "/slow/"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_kb_that_answers_too_late_or_fails_raises_kb_unavailable(
    silent_kb: ThreadingHTTPServer,
) -> None:
    base = f"http://127.0.0.1:{silent_kb.server_address[1]}"
    kb = HttpKB(base_url=base, client_id="x", client_secret="y", read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(KBUnavailable):
        kb.create_account(email="a@example.nl", membership=membership("25280000000017"), actor="b")
    assert time.monotonic() - started < 1.5
    silent_kb.mode = "/fails/"  # type: ignore[attr-defined]
    with pytest.raises(KBUnavailable):
        kb.create_account(email="a@example.nl", membership=membership("25280000000017"), actor="b")
    # A 404 that is not the KB's problem answer (a wrong BIEB_KB_URL) is no "nothing to do".
    with pytest.raises(KBUnavailable):
        kb.library_events(library_code="bind", after=0)
