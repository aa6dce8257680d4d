"""The API's readable page in real Chromium: Swagger UI from this server's own static files,
under the site's Content-Security-Policy (the browser fixture fails on any violation), with no
request leaving the server."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_shows_every_operation_offline(live_server: object, browser_page) -> None:  # type: ignore[no-untyped-def]
    base = str(live_server.url)  # type: ignore[attr-defined]
    elsewhere: list[str] = []
    browser_page.on(
        "request",
        lambda request: None if request.url.startswith(base) else elsewhere.append(request.url),
    )
    browser_page.goto(f"{base}/kb/api/v1/docs")
    browser_page.get_by_text("KB-API (inlogdienst)").first.wait_for()
    browser_page.locator(".opblock-summary-path", has_text="/libraries/{library}/events").wait_for()
    paths = browser_page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) == 16, paths  # every operation of the document (test_openapi.py)
    assert elsewhere == []
