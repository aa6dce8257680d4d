"""The login service on a live server, as its relying parties (the sign-up and the Online
Bibliotheek) reach it: BIEB_BASE_URL and the OIDC issuer point at the live server, and both
clients are registered with redirect URIs there.

A relying party reaches the login service in one of two ways (bieb.integrations.kb.client), and
the fixtures say which: "in-process" (the all-in-one default: the provider's views are called in
the same thread) or "remote" (over HTTP, as to a KB on another host; here the live server plays
that host). `kb_live` is remote unless a test asks otherwise with
`@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)`.

`kb_pooled` is a live server that serves like gunicorn's threaded worker (`bieb serve`: a fixed
number of threads, further requests wait in line) and keeps an access log, so that a test can
see a server wait on itself and count the requests that reached it over HTTP.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test import override_settings
from django.test.testcases import LiveServerThread

from bieb.kb.clients import online_client_register, website_client_register

KB_MODES = ["in-process", "remote"]
SERVER_THREADS = 4  # as `bieb serve` runs gunicorn: --threads=4


def _kb_settings(base: str, mode: str) -> override_settings:
    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": f"{base}/kb"}
    return override_settings(
        BIEB_BASE_URL=base,
        BIEB_KB_URL="",
        BIEB_KB_IN_PROCESS=mode == "in-process",
        OAUTH2_PROVIDER=provider,
    )


@pytest.fixture
def kb_live(request: pytest.FixtureRequest, live_server: object, demo: None) -> Iterator[str]:
    base = str(live_server.url)  # type: ignore[attr-defined]
    with _kb_settings(base, getattr(request, "param", "remote")):
        online_client_register()
        website_client_register()
        yield base


class _PooledWSGIServer(WSGIServer):
    """Serves each connection on one of SERVER_THREADS threads; further connections wait in
    line. Not a ThreadingMixIn server, so Django's handler closes every connection after its
    response: an idle keep-alive connection would hold a thread here (gunicorn's gthread worker
    keeps those off its threads)."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override or {}
        self.pool = ThreadPoolExecutor(SERVER_THREADS)
        self.access_log: list[str] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        for alias, connection in self.connections_override.items():
            connections[alias] = connection
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def close_request(self, request: Any) -> None:
        connections.close_all()
        super().close_request(request)

    def set_app(self, application: Callable[..., Iterable[bytes]]) -> None:
        def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            self.access_log.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
            return application(environ, start_response)

        super().set_app(logged)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class _PooledLiveServerThread(LiveServerThread):
    server_class = _PooledWSGIServer


@dataclass
class PooledServer:
    url: str
    thread: _PooledLiveServerThread = field(repr=False)

    @property
    def access_log(self) -> list[str]:
        return self.thread.httpd.access_log  # type: ignore[no-any-return]


def pooled_kb(request: pytest.FixtureRequest) -> Iterator[PooledServer]:
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    thread = _PooledLiveServerThread(
        "localhost", static_handler=StaticFilesHandler, connections_override=shared
    )
    thread.daemon = True
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    try:
        server = PooledServer(url=f"http://localhost:{thread.port}", thread=thread)
        with _kb_settings(server.url, getattr(request, "param", "in-process")):
            online_client_register()
            website_client_register()
            yield server
    finally:
        thread.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


@pytest.fixture
def kb_pooled(
    request: pytest.FixtureRequest, transactional_db: None, demo: None
) -> Iterator[PooledServer]:
    """A gunicorn-like live server with the login service in it: "in-process" unless a test
    parametrizes it (indirect) with "remote"."""
    yield from pooled_kb(request)


def csrf(page: requests.Response) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    return token.group(1)


def kb_login(browser: requests.Session, login_url: str, username: str, password: str) -> str:
    """Fill in the KB's login form at `login_url` (with its ?next=) like a browser; returns the
    URL the login redirects to."""
    page = browser.get(login_url)
    response = browser.post(
        page.url,
        data={"csrfmiddlewaretoken": csrf(page), "username": username, "password": password},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return str(response.headers["Location"])


__all__ = ["KB_MODES", "PooledServer", "csrf", "kb_live", "kb_login", "kb_pooled"]
