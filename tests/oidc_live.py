"""The login service on pytest-django's live server, as its relying parties (the sign-up and the
Online Bibliotheek) reach it over HTTP: BIEB_BASE_URL and the OIDC issuer point at the live
server, and both clients are registered with redirect URIs there."""

import re
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from bieb.kb.clients import online_client_register, website_client_register


@pytest.fixture
def kb_live(live_server: object, demo: None) -> Iterator[str]:
    base = str(live_server.url)  # type: ignore[attr-defined]
    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": f"{base}/kb"}
    with override_settings(BIEB_BASE_URL=base, OAUTH2_PROVIDER=provider):
        online_client_register()
        website_client_register()
        yield base


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
