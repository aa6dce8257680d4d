"""An anonymised customer at the counter in real Chromium, with the keyboard alone: the number
still finds the customer, the old name finds nothing; the page says "Geanonimiseerd op
<datum>" and offers nothing to change; a change sent from an old tab is refused in Dutch.
axe-core: 0 violations on each state."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from bieb.customers.models import Customer
from tests.axe import axe_violations
from tests.counter.test_browser import base, log_in, step  # noqa: F401
from tests.oidc_live import kb_live  # noqa: F401
from tests.retention.test_customers import ANONYMISED_ON, retention, tester  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEARCH = "Klantnummer, naam, postcode + huisnummer of e-mail"


def test_an_anonymised_customer_at_the_counter(
    base: str,  # noqa: F811
    browser_page: Any,
    tester: Customer,  # noqa: F811
) -> None:
    page = browser_page
    edit_url = f"{base}/balie/klanten/{tester.number}/wijzigen/"
    log_in(page, base)
    page.goto(edit_url)  # a tab left open on "Wijzigen" before the retention run
    page.get_by_role("heading", level=1).wait_for()

    retention(ANONYMISED_ON)

    search = page.context.new_page()
    search.bieb_test_name, search.bieb_step = page.bieb_test_name, 10
    search.goto(f"{base}/balie/klanten/")
    search.get_by_label(SEARCH).focus()
    keys = search.keyboard
    keys.type("Tester")
    expect(search).to_have_url(re.compile(r"\?q=Tester$"))
    expect(search.locator("#results a.result")).to_have_count(0)
    step(search, "zoeken-oude-naam")
    assert axe_violations(search) == []

    search.get_by_label(SEARCH).fill("")
    keys.type(tester.number)
    expect(search.locator("#results a.result")).to_have_text(tester.number)
    keys.press("ArrowDown")
    with search.expect_navigation():
        keys.press("Enter")
    main = search.locator("main")
    expect(search.get_by_role("heading", level=1)).to_contain_text("Geanonimiseerde klant")
    expect(main.locator("#geanonimiseerd")).to_have_text("Geanonimiseerd op 01-06-2027")
    expect(main).not_to_contain_text("Tester")
    expect(main.locator("form")).to_have_count(0)  # nothing to change
    expect(main.get_by_role("button")).to_have_count(0)
    step(search, "geanonimiseerd")
    assert axe_violations(search) == []

    # the old tab sends its change: refused, the customer stays anonymised
    page.bring_to_front()
    page.get_by_role("button", name=re.compile("Opslaan|Wijzigen")).first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("geanonimiseerd (bewaartermijn verstreken)")
    expect(page.locator("#geanonimiseerd")).to_be_visible()
    step(page, "wijziging-geweigerd")
    assert axe_violations(page) == []
    assert Customer.objects.get(pk=tester.pk).surname == "Geanonimiseerd"
