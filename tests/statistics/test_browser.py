"""Both statistics pages in real Chromium: reached by keyboard (the counter's menu), axe-core
finds 0 violations, the period form works with Enter, nothing is wider than the screen (also on
a phone), on a desktop every table shows all its columns, and each step's screenshot is saved
with BIEB_SCREENSHOTS."""

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from bieb.core.dates import local_today
from bieb.kb.statistics.aggregate import kb_figures_day_compute
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from bieb.statistics.aggregate import figures_day_compute
from tests.axe import axe_violations
from tests.counter.test_browser import log_in, step
from tests.otp import admin_login
from tests.statistics.test_aggregate import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def today_figures(demo: None) -> None:
    """Three registrations today (two paid), their login accounts made at the KB, and the
    day's figures of both sides."""
    balie = User.objects.get(username="balie")
    branch = Branch.objects.get(number="5280")
    for code, surname, birth, pay in (
        ("0141", "Digitaal", dt.date(1991, 1, 4), "pin"),
        ("0110", "Compleet", dt.date(1958, 7, 1), "contant"),
        ("0101", "Jong", dt.date(2014, 2, 2), ""),
    ):
        subscription = SubscriptionType.objects.get(library__code="bind", code=code)
        register(
            balie, branch, subscription, surname=surname, birth=birth, on=local_today(), pay=pay
        )
    figures_day_compute(day=local_today())
    kb_figures_day_compute(day=local_today())


def checked(page: Any, name: str) -> None:
    step(page, name)  # nothing wider than the screen, no table's columns cut on a desktop
    assert axe_violations(page) == [], name


def test_the_library_page_by_keyboard(
    live_server: Any, browser_page_for: Any, today_figures: None
) -> None:
    page = browser_page_for()
    log_in(page, live_server.url, "manager")
    page.get_by_role("navigation", name="Balie").get_by_role("link", name="Statistiek").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiek")
    expect(page.get_by_text("3 nieuwe abonnementen van")).to_be_visible()
    expect(page.get_by_role("img", name="Nieuwe abonnementen per maand")).to_be_visible()
    checked(page, "statistiek-maand")
    page.get_by_label("Per", exact=True).select_option("week")
    with page.expect_navigation():
        page.get_by_label("Tot en met", exact=True).press("Enter")
    expect(page.get_by_role("img", name="Nieuwe abonnementen per week")).to_be_visible()
    checked(page, "statistiek-week")

    # A period that ends before it starts: said at the field, the focus there to correct it,
    # what was typed kept.
    page.get_by_label("Tot en met", exact=True).fill("2025-01-01")
    with page.expect_navigation():
        page.get_by_label("Tot en met", exact=True).press("Enter")
    wrong = page.get_by_label("Tot en met", exact=True)
    expect(wrong).to_be_focused()
    expect(wrong).to_have_value("2025-01-01")
    expect(wrong).to_have_accessible_description("De einddatum ligt vóór de begindatum.")
    checked(page, "statistiek-fout")

    phone = browser_page_for(390, 844)
    log_in(phone, live_server.url, "manager")
    phone.goto(f"{live_server.url}/balie/statistiek/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Statistiek")
    checked(phone, "statistiek-telefoon")

    # Staff without the manager's right: no menu item, and the address says why in Dutch.
    desk = browser_page_for()
    log_in(desk, live_server.url, "balie")
    menu = desk.get_by_role("navigation", name="Balie")
    expect(menu.get_by_role("link", name="Statistiek")).to_have_count(0)
    desk.goto(f"{live_server.url}/balie/statistiek/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    checked(desk, "statistiek-geen-toegang")


def test_the_kb_page_for_an_operator(
    live_server: Any, browser_page_for: Any, today_figures: None
) -> None:
    client = Client()
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    page = browser_page_for()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/kb/beheer/statistiek/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiek")
    expect(page.get_by_text("3 inlogaccounts aangemaakt van")).to_be_visible()
    expect(
        page.get_by_role("img", name="Aandeel ongebruikt verlopen, per bibliotheek")
    ).to_be_visible()
    checked(page, "kb-statistiek")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()

    page.goto(f"{live_server.url}/kb/beheer/statistiek/?van=1-2-2026&per=jaar")
    wrong = page.get_by_label("Van", exact=True)
    expect(wrong).to_be_focused()  # the first of the two fields that were wrong
    expect(wrong).to_have_accessible_description("Vul een datum in als dd-mm-jjjj.")
    expect(page.get_by_label("Per", exact=True)).to_have_accessible_description(
        "Kies week of maand."
    )
    checked(page, "kb-statistiek-fout")
