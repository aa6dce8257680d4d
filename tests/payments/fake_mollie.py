"""A local fake of the Mollie API (v2 payments: create and get), answering as documented at
docs.mollie.com/reference/create-payment and /get-payment, on 127.0.0.1 over real HTTP.

Tests set what the "bank" decided with `set_status(id, status)`, or script the answers of the
next GETs with `script(id, [...])` (a stale replica answering out of order).
"""

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "test_" + "f4k3" * 8


class FakeMollie:
    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.scripts: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def set_status(self, payment_id: str, status: str) -> None:
        with self._lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            if status in {"paid", "failed", "canceled", "expired"}:
                payment[f"{status}At"] = stamp
            payment.pop("_links", None)
            payment["_links"] = self._links(payment_id, with_checkout=status == "open")

    def script(self, payment_id: str, statuses: list[str]) -> None:
        """The next GETs of this payment answer these statuses, in order."""
        with self._lock:
            self.scripts[payment_id] = list(statuses)

    def gets(self, payment_id: str) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and payment_id in path)

    def _links(self, payment_id: str, *, with_checkout: bool) -> dict[str, Any]:
        links: dict[str, Any] = {
            "self": {
                "href": f"{self.url}/v2/payments/{payment_id}",
                "type": "application/hal+json",
            },
            "dashboard": {
                "href": f"https://my.mollie.com/dashboard/payments/{payment_id}",
                "type": "text/html",
            },
            "documentation": {
                "href": "https://docs.mollie.com/reference/get-payment",
                "type": "text/html",
            },
        }
        if with_checkout:
            links["checkout"] = {
                "href": f"{self.url}/checkout/select-issuer/ideal/{payment_id[3:]}",
                "type": "text/html",
            }
        return links

    def _create(self, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if key and key in self.by_idempotency_key:
                return 201, self.payments[self.by_idempotency_key[key]]
            amount = body.get("amount") or {}
            value = str(amount.get("value", ""))
            if (
                amount.get("currency") != "EUR"
                or "." not in value
                or len(value.split(".")[1]) != 2
                or not body.get("description")
                or not body.get("redirectUrl")
            ):
                return 422, _error(422, "Unprocessable Entity", "The amount is invalid")
            payment_id = "tr_" + secrets.token_hex(5)
            now = dt.datetime.now(dt.UTC)
            payment = {
                "resource": "payment",
                "id": payment_id,
                "mode": "test",
                "createdAt": now.isoformat(timespec="seconds"),
                "amount": {"value": value, "currency": "EUR"},
                "description": body["description"],
                "method": body.get("method"),
                "metadata": body.get("metadata"),
                "status": "open",
                "isCancelable": False,
                "expiresAt": (now + dt.timedelta(minutes=15)).isoformat(timespec="seconds"),
                "locale": body.get("locale"),
                "profileId": "pfl_f4k3f4k3",
                "sequenceType": "oneoff",
                "redirectUrl": body["redirectUrl"],
                "webhookUrl": body.get("webhookUrl"),
                "_links": self._links(payment_id, with_checkout=True),
            }
            self.payments[payment_id] = payment
            if key:
                self.by_idempotency_key[key] = payment_id
            return 201, payment

    def _get(self, payment_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, _error(404, "Not Found", f"No payment exists with token {payment_id}.")
            answer = dict(payment)
            script = self.scripts.get(payment_id)
            if script:
                answer["status"] = script.pop(0)
            return 200, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/hal+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {API_KEY}":
                    return True
                self._send(
                    401,
                    _error(
                        401,
                        "Unauthorized Request",
                        "Missing authentication, or failed to authenticate",
                    ),
                )
                return False

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self._authorised():
                    return
                if self.path != "/v2/payments":
                    self._send(404, _error(404, "Not Found", "Unknown endpoint"))
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, _error(400, "Bad Request", "Invalid JSON"))
                    return
                self._send(*fake._create(body, self.headers.get("Idempotency-Key", "")))

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                if not self._authorised():
                    return
                prefix = "/v2/payments/"
                if not self.path.startswith(prefix):
                    self._send(404, _error(404, "Not Found", "Unknown endpoint"))
                    return
                self._send(*fake._get(self.path[len(prefix) :].split("?")[0]))

        return Handler


def _error(status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "status": status,
        "title": title,
        "detail": detail,
        "_links": {
            "documentation": {
                "href": "https://docs.mollie.com/overview/handling-errors",
                "type": "text/html",
            }
        },
    }


@pytest.fixture
def fake_mollie() -> Iterator[FakeMollie]:
    from django.test import override_settings

    server = FakeMollie()
    server.start()
    try:
        with override_settings(BIEB_MOLLIE_API_KEY=API_KEY, BIEB_MOLLIE_API_ENDPOINT=server.url):
            yield server
    finally:
        server.stop()
