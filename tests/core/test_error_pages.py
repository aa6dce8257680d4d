"""Error pages are Dutch, in the look of the part of the site they appear in, with a way onward;
never Django's English ones (DEBUG is off in the tests, as in production)."""

import pytest
from django.test import Client, override_settings

from bieb.staff.models import User
from tests.otp import admin_login

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.error_urls")]

# Each part: a path under it, the style sheet that gives its look, and where "onward" leads.
PARTS = {
    "balie": ("/balie/", "counter/counter.css", "/balie/"),
    "kb": ("/kb/", "kb/kb.css", "/kb/"),
    "word-lid": ("/word-lid/bind/", "signup/signup.css", "/word-lid/bind/"),
    "online": ("/online/", "online/online.css", "/online/"),
    "mijn": ("/mijn/bind/", "mijn/mijn.css", "/mijn/"),
    "admin": ("/admin/", "admin/css/base.css", "/admin/"),
    "rest": ("/dev/mail/", "core/site.css", "/"),
}
ENGLISH = ["Not Found", "Server Error", "Forbidden", "Bad Request", "CSRF verification failed"]


def _assert_page(response: object, status: int, title: str, part: str) -> None:
    _, sheet, home = PARTS[part]
    assert response.status_code == status  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert title in page
    assert sheet in page, f"{part}: not in its own look"
    assert f'href="{home}"' in page, f"{part}: no way onward"
    assert 'lang="nl"' in page
    for english in ENGLISH:
        assert english not in page
    assert response["Content-Type"].startswith("text/html")  # type: ignore[index]
    assert "default-src 'self'" in response["Content-Security-Policy"]  # type: ignore[index]


@pytest.mark.parametrize("part", PARTS)
def test_not_found(part: str) -> None:
    client = Client()
    if part == "admin":  # anonymous visitors of the admin are sent to its login first
        operator = User.objects.create_superuser("operator", password="lang-genoeg-wachtwoord-1")
        admin_login(client, operator, "lang-genoeg-wachtwoord-1")
    response = client.get(PARTS[part][0] + "bestaat/niet/hier/")
    _assert_page(response, 404, "Pagina niet gevonden", part)


@pytest.mark.parametrize("part", PARTS)
def test_bad_request(part: str) -> None:
    response = Client().get(PARTS[part][0] + "?q=a%00b")
    _assert_page(response, 400, "Dit verzoek klopt niet", part)


@pytest.mark.parametrize("part", PARTS)
def test_the_database_unreachable_is_a_503_that_asks_to_try_again(part: str) -> None:
    response = Client(raise_request_exception=False).get(PARTS[part][0] + "test-fout/503/")
    _assert_page(response, 503, "Even niet bereikbaar", part)
    assert "Probeer het over een minuut opnieuw" in response.content.decode()
    assert response["Retry-After"] == "30"


@pytest.mark.parametrize("part", PARTS)
def test_server_error(part: str) -> None:
    response = Client(raise_request_exception=False).get(PARTS[part][0] + "test-fout/500/")
    _assert_page(response, 500, "Er ging iets mis", part)


@pytest.mark.parametrize("part", PARTS)
def test_forbidden(part: str) -> None:
    response = Client().get(PARTS[part][0] + "test-fout/403/")
    _assert_page(response, 403, "Geen toegang", part)


@pytest.mark.parametrize("part", PARTS)
def test_csrf_failure(part: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(PARTS[part][0] + "test-fout/formulier/", {"x": "1"})
    _assert_page(response, 403, "Het formulier is verlopen", part)


@override_settings(DEBUG=False)
def test_a_server_error_page_needs_no_database() -> None:
    """The 500 page is rendered without the request: no session or user lookup that could
    fail the same way as what broke."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/balie/test-fout/500/")
    assert response.status_code == 500
    assert queries.captured_queries == []
