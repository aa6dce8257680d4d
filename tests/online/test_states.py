"""The Online Bibliotheek tells a member without rights why, and how to pay: from the state and
the payment link in the login service's copy (the memberships claim), and paying restores the
access at once."""

import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from bieb.core.dates import date_nl, local_today
from bieb.customers.models import Membership, MembershipStatus
from bieb.customers.services import customer_register
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.libraries.models import Branch, SubscriptionType
from bieb.online.selectors import access_from_claims
from tests.customers.factories import details
from tests.online.test_online import log_in
from tests.signup.factories import active_account

TODAY = dt.date(2026, 6, 10)
PAY = "https://bieb.example/betalen/verlengen/abc/"


def claim(state: str, valid_through: dt.date | None, pay_url: str = "") -> dict[str, Any]:
    return {
        "library": "bind",
        "library_name": "Bibliotheken Bind",
        "subscription": "0141",
        "digital_rights": "compleet",
        "valid_through": valid_through.isoformat() if valid_through else None,
        "state": state,
        "pay_url": pay_url,
    }


ENDED = dt.date(2026, 5, 31)


@pytest.mark.parametrize(
    ("state", "valid_through", "pay_url", "reason", "pays", "label"),
    [
        (
            "wacht_op_betaling",
            None,
            PAY,
            "Je abonnement bij Bibliotheken Bind wacht op betaling.",
            "Betalen",
            "wacht op betaling",
        ),
        (
            "wacht_op_betaling",
            ENDED,
            PAY,
            "was geldig t/m 31-05-2026: de nieuwe periode is nog niet betaald.",
            "Betalen",
            "wacht op betaling",
        ),
        (
            "beeindigd",
            ENDED,
            PAY,
            "was geldig t/m 31-05-2026 en is niet verlengd.",
            "Verlengen en betalen",
            "niet verlengd",
        ),
        (
            "betalingsachterstand",
            ENDED,
            PAY,
            "was geldig t/m 31-05-2026 en heeft een betalingsachterstand.",
            "Betalen",
            "betalingsachterstand",
        ),
        (
            "uitgeschreven",
            ENDED,
            "",
            "Je bent bij Bibliotheken Bind uitgeschreven wegens een betalingsachterstand.",
            "",
            "uitgeschreven",
        ),
        (
            "opgezegd",
            ENDED,
            "",
            "Je abonnement bij Bibliotheken Bind is opgezegd en was geldig t/m 31-05-2026.",
            "",
            "opgezegd",
        ),
        ("", ENDED, "", "Je abonnement bij Bibliotheken Bind was geldig t/m 31-05-2026.", "", ""),
    ],
)
def test_each_state_says_why_and_what_to_pay(
    state: str, valid_through: dt.date | None, pay_url: str, reason: str, pays: str, label: str
) -> None:
    access = access_from_claims([claim(state, valid_through, pay_url)], today=TODAY)
    assert not access.ebooks
    [why] = access.reasons
    assert reason in why
    assert (access.to_pay.pay_label if access.to_pay else "") == pays
    assert access.memberships[0].state_label == label


def test_a_payment_term_gives_access_and_still_says_it_waits_for_payment() -> None:
    access = access_from_claims(
        [claim("wacht_op_betaling", TODAY + dt.timedelta(days=13), PAY)], today=TODAY
    )
    assert access.ebooks and access.to_pay is None
    assert access.memberships[0].waits_for_payment


def test_only_a_web_link_is_offered() -> None:
    access = access_from_claims(
        [claim("wacht_op_betaling", None, "javascript:alert(1)")], today=TODAY
    )
    assert access.to_pay is None


# --- the page, on a live server with the login service in process ---------------------------


def link(account: LoginAccount, state: str, valid_through: dt.date | None, pay_url: str) -> None:
    LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number="25280000000017",
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=valid_through,
        state=state,
        pay_url=pay_url,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
@pytest.mark.parametrize(
    ("state", "days", "pay_url", "says"),
    [
        ("wacht_op_betaling", None, PAY, ['<h2 id="h-pay">Zo betaal je</h2>', ">Betalen</a>"]),
        ("beeindigd", -10, PAY, ["Verleng je abonnement", ">Verlengen en betalen</a>"]),
        ("uitgeschreven", -100, "", ["Neem contact op met de bibliotheek om weer lid te worden."]),
        (
            "opgezegd",
            -1,
            "",
            ["is opgezegd en was geldig t/m", 'href="/word-lid/bind/">Word lid</a>'],
        ),
    ],
)
def test_the_page_says_why_and_how_to_pay(
    kb_live: str, state: str, days: int | None, pay_url: str, says: list[str]
) -> None:
    account = active_account("e.b.tester")
    until = local_today() + dt.timedelta(days=days) if days is not None else None
    link(account, state, until, pay_url)
    _, home = log_in(kb_live)
    html = home.text
    assert "Je hebt nu geen toegang tot e-books en luisterboeken." in html
    for text in says:
        assert text in html
    if pay_url:
        assert f'href="{pay_url}"' in html
        assert "Of betaal aan de balie van Bibliotheken Bind." in html
        assert "Word lid</a>" not in html
    if state == "uitgeschreven":
        # the library's own phone and e-mail, from its settings
        assert '<a href="tel:0592123456">0592 123 456</a>' in html
        assert "info@bind.example" in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kb_live", ["in-process"], indirect=True)
def test_paying_the_link_from_the_online_page_restores_access_at_once(
    kb_live: str, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    account = active_account("e.b.tester")
    customer_register(
        actor=None,
        account_id=account.pk,
        branch=branch_5280,
        details=details(),
        subscription_type=digital_only,
    )
    browser, home = log_in(kb_live)
    assert "Je abonnement bij Bibliotheken Bind wacht op betaling." in home.text
    assert "<dd>wacht op betaling</dd>" in home.text
    pay_url = re.search(r'<a class="button wide" id="pay" href="([^"]+)">Betalen</a>', home.text)
    assert pay_url is not None

    page = browser.get(pay_url.group(1))
    assert "<h1>Abonnement betalen</h1>" in page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    checkout = browser.post(page.url, data={"csrfmiddlewaretoken": token.group(1)})
    assert "/betalen/demo/" in checkout.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', checkout.text)
    assert token is not None
    paid = browser.post(
        checkout.url, data={"csrfmiddlewaretoken": token.group(1), "uitkomst": "betaald"}
    )
    assert "Betaald, dank je wel" in paid.text
    membership = Membership.objects.get()
    assert membership.status == MembershipStatus.ACTIVE
    # "Naar de Online Bibliotheek" signs in again (silently: the KB knows the member), so the
    # page reads the login service's copy as the payment left it
    online = re.search(r'href="([^"]+)">Naar de Online Bibliotheek</a>', paid.text)
    assert online is not None
    again = browser.get(urljoin(paid.url, online.group(1)))
    assert again.url == f"{kb_live}/online/"
    until = date_nl(membership.rights_through)
    assert f"e-books en luisterboeken t/m <strong>{until}</strong>" in again.text
    assert isinstance(browser, requests.Session)
