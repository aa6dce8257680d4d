"""The Content-Security-Policy in real Chromium: the pages outside the flows that the other
browser tests walk (the admin, the demo mailbox with a mail's HTML, the error pages, the
login service's side pages) run under it without a single violation. The shared browser
fixture (tests/browser.py) fails any browser test whose pages break the policy."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.browser import csp_violation
from tests.customers.factories import details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base(live_server: Any, demo: None) -> Iterator[str]:
    with override_settings(BIEB_BASE_URL=live_server.url, BIEB_SMTP_CONFIGURED=False):
        yield live_server.url


def visit(page: Any, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response.status == status, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page.wait_for_load_state("load")


def test_pages_outside_the_flows_keep_to_the_policy(base: str, browser_page: Any) -> None:
    page = browser_page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if csp_violation(m.text) else None)

    # The operator in the admin: login, index, a change form with its scripts.
    visit(page, f"{base}/admin/login/")
    page.get_by_label("Gebruikersnaam").fill("beheer")
    page.get_by_label("Wachtwoord").fill(settings.BIEB_DEMO_PASSWORD)
    # the second factor: the demo shows the operator's current code under the form
    page.get_by_label("Verificatiecode").fill(page.locator("#demo-code").inner_text())
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()
    page.get_by_text("Configuratie").first.wait_for()
    visit(page, f"{base}/admin/libraries/subscriptiontype/")
    visit(page, f"{base}/admin/libraries/subscriptiontype/add/")

    # The demo mailbox, a mail with HTML (its own inline style, in its own framed page).
    customer_register(
        actor=User.objects.get(username="balie"),
        branch=Branch.objects.get(number="5280"),
        details=details(),
        subscription_type=SubscriptionType.objects.get(library__code="bind", code="0141"),
    )
    visit(page, f"{base}/dev/mail/")
    with page.expect_navigation():
        page.locator("a[href^='/dev/mail/']").first.click()
    frame = page.frame_locator("iframe")
    frame.get_by_role("link").first.wait_for()
    assert frame.get_by_role("link").first.evaluate("a => getComputedStyle(a).color") == (
        "rgb(255, 255, 255)"  # the mail's inline style applies inside its frame
    )

    # The login service's side pages, the Online Bibliotheek, the sign-up's start.
    for path in ["/kb/inloggen/", "/kb/aanmelden/", "/kb/wachtwoord-vergeten/", "/online/"]:
        visit(page, base + path)
    visit(page, f"{base}/word-lid/")
    visit(page, f"{base}/word-lid/bind/")

    # Error pages in each part's look.
    for prefix in ["/balie/", "/kb/", "/word-lid/bind/", "/online/", "/dev/mail/"]:
        visit(page, f"{base}{prefix}bestaat-niet/nergens/", status=404)
        assert page.get_by_role("heading", name="Pagina niet gevonden").is_visible()
    visit(page, f"{base}/balie/?q=a%00b", status=400)
    assert page.get_by_role("heading", name="Dit verzoek klopt niet").is_visible()

    assert violations == []


def test_a_broken_rule_is_seen(base: str, chromium: Any) -> None:
    """The watch itself: an inline script on a page of ours is refused, and Chromium says so
    on the console in the words the shared fixture listens for. (Its own context: the shared
    fixture would rightly fail this test.)"""
    context = chromium.new_context()
    try:
        page = context.new_page()
        seen: list[str] = []
        page.on("console", lambda m: seen.append(m.text))
        visit(page, f"{base}/kb/inloggen/")
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = 1'; document.head.appendChild(s); }"
        )
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.ran") is None
        assert any(csp_violation(text) for text in seen), seen
    finally:
        context.close()
