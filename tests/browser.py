"""Real Chromium (Debian's package, never a downloaded browser) driven by Playwright.

Use the `browser_page` fixture together with pytest-django's `live_server`. Pages are 1280x800
unless a test asks for another size with `browser_page_for(width, height)`. With
BIEB_SCREENSHOTS=<folder> set, `snap(page, "step")` saves a PNG of every step there.

Every page listens for Content-Security-Policy violations (Chromium reports them on the console
as "Refused to ..."): a browser test whose pages broke the policy fails, whatever it tested.
"""

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BIEB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}; .ci/run installs Debian's chromium.")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM, used by the tests
    # between browser steps, would otherwise refuse to run next to it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page_for(
    chromium: object, request: pytest.FixtureRequest
) -> Iterator[Callable[..., object]]:
    contexts = []
    violations: list[str] = []

    def watch(page: object) -> None:
        def on_console(message: object) -> None:
            text = message.text  # type: ignore[attr-defined]
            if csp_violation(text):
                violations.append(f"{page.url}: {text}")  # type: ignore[attr-defined]

        page.on("console", on_console)  # type: ignore[attr-defined]

    def open_page(width: int = 1280, height: int = 800, **options: object) -> object:
        context = chromium.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height}, locale="nl-NL", **options
        )
        context.set_default_timeout(10_000)
        context.on("page", watch)  # every page of the context, also those a test opens later
        contexts.append(context)
        page = context.new_page()
        page.bieb_test_name = request.node.name  # used by snap()
        page.bieb_step = 0
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def csp_violation(console_text: str) -> bool:
    return "Refused to" in console_text or "Content Security Policy" in console_text


@pytest.fixture
def browser_page(browser_page_for: Callable[..., object]) -> object:
    return browser_page_for()


def snap(page: object, step: str) -> None:
    """Save a screenshot of this step when BIEB_SCREENSHOTS names a folder."""
    folder = os.environ.get("BIEB_SCREENSHOTS")
    if not folder:
        return
    page.bieb_step += 1  # type: ignore[attr-defined]
    name = re.sub(r"[^a-z0-9]+", "-", f"{page.bieb_test_name}-{page.bieb_step:02d}-{step}".lower())  # type: ignore[attr-defined]
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def expect_focus(page: Any, element_id: str) -> None:
    """The focus lands on `element_id` (the page may set it a moment after loading)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # the assert below reports it
        page.wait_for_function(
            "id => document.activeElement && document.activeElement.id === id",
            arg=element_id,
            timeout=5000,
        )
    assert focused_id(page) == element_id
