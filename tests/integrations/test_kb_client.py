"""How the relying parties reach the login service (bieb.integrations.kb.client): never over
HTTP to their own server (a server whose every thread waits on itself stalls), and with short
timeouts and a bounded number of calls when the login service is on another host."""

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin

import pytest
import requests
from django.test import Client, override_settings

from bieb.kb.clients import online_client_register
from tests.oidc_live import KB_MODES, PooledServer, kb_login
from tests.signup.factories import PASSWORD, active_account

pytestmark = pytest.mark.django_db(transaction=True)

OIDC_ENDPOINTS = ("/kb/token/", "/kb/userinfo/", "/kb/.well-known/")


def started_login(base: str) -> tuple[requests.Session, str]:
    """A browser that has started the Online Bibliotheek's login: its session holds a state."""
    browser = requests.Session()
    start = browser.get(f"{base}/online/inloggen/", allow_redirects=False, timeout=30)
    state = re.search(r"[?&]state=([^&]+)", start.headers.get("Location", ""))
    assert state, (start.status_code, start.text[:500])
    return browser, state.group(1)


@pytest.mark.postgres
def test_parallel_callbacks_with_a_bogus_code_finish_at_once_and_health_answers(
    kb_pooled: PooledServer,
) -> None:
    """More callbacks than the server has threads, each exchanging a bogus code: with the token
    endpoint reached over HTTP every thread waited on a request queued behind it (20 s, and
    /health/ with them). In process they fail at once, as they should."""
    base = kb_pooled.url
    browsers = [started_login(base) for _ in range(16)]

    def callback(browser: requests.Session, state: str) -> requests.Response:
        return browser.get(
            f"{base}/online/callback/", params={"code": "bogus", "state": state}, timeout=60
        )

    began = time.monotonic()
    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = [pool.submit(callback, browser, state) for browser, state in browsers]
        time.sleep(0.3)
        asked = time.monotonic()
        health = requests.get(f"{base}/health/", timeout=60)
        health_took = time.monotonic() - asked
        responses = [answer.result() for answer in answers]
    took = time.monotonic() - began

    assert health.status_code == 200 and health_took < 5, health_took
    assert [r.status_code for r in responses] == [400] * 16
    assert all("Inloggen is niet gelukt" in r.text for r in responses)
    assert took < 10, took


@pytest.mark.parametrize("kb_pooled", KB_MODES, indirect=True)
def test_the_co_hosted_login_service_is_asked_without_http(
    kb_pooled: PooledServer, request: pytest.FixtureRequest
) -> None:
    """A whole login at the Online Bibliotheek: with the login service in the process, none of
    discovery, JWKS, token and userinfo reaches the server over HTTP (its access log); as a
    remote one (the live server playing the KB's host) they all do."""
    active_account("e.b.tester")
    base = kb_pooled.url
    browser = requests.Session()
    start = browser.get(f"{base}/online/inloggen/", timeout=30)
    location = kb_login(browser, start.url, "e.b.tester", PASSWORD)
    home = browser.get(urljoin(base, location), timeout=30)
    assert home.url == f"{base}/online/" and "Hallo e.b.tester" in home.text

    log = kb_pooled.access_log
    to_provider = [line for line in log if line.split()[1].startswith(OIDC_ENDPOINTS)]
    assert "GET /online/callback/" in log  # the log does see the requests of the browser
    if request.node.callspec.params["kb_pooled"] == "in-process":
        assert to_provider == []
    else:
        assert "POST /kb/token/" in to_provider and "GET /kb/userinfo/" in to_provider


class _SlowKB(BaseHTTPRequestHandler):
    """A login service on another host that answers discovery but then takes its time."""

    slow_paths: tuple[str, ...] = ()
    delay = 30.0

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}/kb"
        if self.path.startswith(self.slow_paths):
            time.sleep(self.delay)
        if self.path.startswith("/kb/.well-known/openid-configuration"):
            body = json.dumps(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize/",
                    "token_endpoint": f"{base}/token/",
                    "userinfo_endpoint": f"{base}/userinfo/",
                    "jwks_uri": f"{base}/.well-known/jwks.json",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b'{"error": "invalid_grant"}'
            self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_kb(request: pytest.FixtureRequest) -> Iterator[str]:
    """The address of a slow login service on loopback; the parameter: the paths it stalls on."""
    handler = type("Handler", (_SlowKB,), {"slow_paths": tuple(request.param)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # callers that gave up
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def remote(kb_url: str) -> override_settings:
    return override_settings(BIEB_KB_URL=kb_url, BIEB_KB_IN_PROCESS=False)


@pytest.mark.parametrize("slow_kb", [["/kb/.well-known/"]], indirect=True)
def test_a_login_service_that_does_not_answer_gets_a_clear_page_in_seconds(
    slow_kb: str, demo: None
) -> None:
    with remote(slow_kb):
        began = time.monotonic()
        page = Client().get("/online/inloggen/")
    assert time.monotonic() - began < 8
    assert page.status_code == 503
    assert "De inlogdienst reageert niet; probeer het zo opnieuw." in page.content.decode()


@pytest.mark.parametrize("slow_kb", [["/kb/token/"]], indirect=True)
def test_a_token_endpoint_that_does_not_answer_gets_a_clear_page_in_seconds(
    slow_kb: str, demo: None
) -> None:
    online_client_register()
    browser = Client()
    with remote(slow_kb):
        start = browser.get("/online/inloggen/")
        assert start.status_code == 302 and start["Location"].startswith(slow_kb)
        state = re.search(r"[?&]state=([^&]+)", start["Location"])
        assert state
        began = time.monotonic()
        page = browser.get("/online/callback/", {"code": "abc", "state": state.group(1)})
    assert time.monotonic() - began < 8
    assert page.status_code == 503
    assert "De inlogdienst reageert niet; probeer het zo opnieuw." in page.content.decode()


@pytest.mark.postgres
@pytest.mark.parametrize("slow_kb", [["/kb/token/"]], indirect=True)
@pytest.mark.parametrize("kb_pooled", ["remote"], indirect=True)
def test_a_slow_login_service_does_not_take_every_thread(
    slow_kb: str, kb_pooled: PooledServer
) -> None:
    base = kb_pooled.url
    with remote(slow_kb):
        browsers = [started_login(base) for _ in range(8)]

        def callback(browser: requests.Session, state: str) -> requests.Response:
            return browser.get(
                f"{base}/online/callback/", params={"code": "abc", "state": state}, timeout=60
            )

        with ThreadPoolExecutor(len(browsers)) as pool:
            answers = [pool.submit(callback, browser, state) for browser, state in browsers]
            time.sleep(0.5)
            asked = time.monotonic()
            health = requests.get(f"{base}/health/", timeout=60)
            health_took = time.monotonic() - asked
            responses = [answer.result() for answer in answers]
    assert health.status_code == 200 and health_took < 5, health_took
    assert {r.status_code for r in responses} == {503}
    assert all("De inlogdienst reageert niet" in r.text for r in responses)


@pytest.mark.parametrize("slow_kb", [["/kb/.well-known/"]], indirect=True)
def test_the_sign_up_says_so_too_and_keeps_the_choice(slow_kb: str, demo: None) -> None:
    browser = Client()
    with remote(slow_kb):
        began = time.monotonic()
        page = browser.get("/word-lid/bind/inlogaccount/koppelen/", {"abonnement": "0141"})
    assert time.monotonic() - began < 8
    assert "De inlogdienst reageert niet; probeer het zo opnieuw." in page.content.decode()
    assert browser.get("/word-lid/bind/").url.endswith("/inlogaccount/")  # 0141 still chosen
