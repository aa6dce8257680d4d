"""The customer's "Inzage" and "Historie" at the counter in real Chromium: reached from the
customer page's tabs, the JSON file downloaded, and axe-core with 0 violations on both pages."""

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer
from tests.axe import axe_violations
from tests.counter.test_browser import base, log_in, step  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inzage_and_historie_of_a_customer(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,
    oost_customer: Customer,
    tmp_path: Path,
) -> None:
    page = browser_page
    log_in(page, base)
    page.goto(f"{base}/balie/klanten/{tester.number}/")
    page.get_by_role("navigation", name="Klant").get_by_role("link", name="Inzage").click()
    page.get_by_role("heading", name="Inzage", level=1).wait_for()
    expect(page.locator("main")).to_contain_text("04-01-1991")
    expect(page.locator("main")).to_contain_text("0141 Digital only")
    step(page, "inzage")
    assert axe_violations(page) == []
    with page.expect_download() as started:
        page.get_by_role("link", name="Download als bestand (JSON)").click()
    target = tmp_path / "inzage.json"
    started.value.save_as(target)
    assert json.loads(target.read_text())["customer"]["number"] == tester.number
    assert oost_customer.number not in target.read_text()

    page.get_by_role("navigation", name="Klant").get_by_role("link", name="Historie").click()
    page.get_by_role("heading", name="Historie", level=1).wait_for()
    history = page.locator("table.history")
    expect(history).to_contain_text("Gegevens ingezien of gedownload")  # the Inzage just now
    expect(history).to_contain_text("Ingeschreven")
    step(page, "historie")
    assert axe_violations(page) == []

    page.goto(f"{base}/balie/klanten/{oost_customer.number}/historie/")
    expect(page.get_by_role("heading", name="Niet gevonden")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Verhuizer")
