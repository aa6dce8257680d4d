"""Step 2 of the sign-up against the login service on a live server: the library learns which
login account the member has by an OpenID Connect login (Authlib, code + PKCE), not from the
login service's session."""

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from bieb.libraries.models import Library, SubscriptionType
from bieb.payments.models import DemoCheckout
from bieb.payments.services import payment_webhook
from tests.oidc_live import KB_MODES, csrf, kb_login
from tests.signup.factories import PASSWORD, active_account, start_payment

pytestmark = pytest.mark.django_db(transaction=True)


def choose_digital_only(browser: requests.Session, base: str) -> requests.Response:
    page = browser.get(f"{base}/word-lid/bind/abonnement/")
    return browser.post(page.url, data={"csrfmiddlewaretoken": csrf(page), "abonnement": "0141"})


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_the_library_learns_the_login_account_by_openid_connect(kb_live: str) -> None:
    active_account("e.b.tester", email="lezer@example.nl")
    browser = requests.Session()
    account_page = choose_digital_only(browser, kb_live)
    assert account_page.url == f"{kb_live}/word-lid/bind/inlogaccount/"
    login = re.search(r'href="([^"]*/kb/inloggen/\?next=[^"]+)"', account_page.text)
    assert login is not None

    # being logged in at the KB tells the library nothing: its session is the KB's own
    location = kb_login(browser, html.unescape(login.group(1)), "e.b.tester", PASSWORD)
    assert browser.get(f"{kb_live}/word-lid/bind/gegevens/").url.endswith("/inlogaccount/")

    assert location.startswith(f"{kb_live}/word-lid/bind/inlogaccount/koppelen/")
    details = browser.get(location)  # → the KB's authorization endpoint → our callback
    hops = [response.headers["Location"] for response in details.history]
    authorize = next(h for h in hops if "/kb/authorize/" in h)
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == ["bibliotheek-website"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["state"]
    assert query["redirect_uri"] == [f"{kb_live}/word-lid/inlogaccount/terug/"]
    assert details.url == f"{kb_live}/word-lid/bind/gegevens/"
    assert 'value="lezer@example.nl"' in details.text  # userinfo's e-mail, to start from

    again = browser.get(f"{kb_live}/word-lid/bind/inlogaccount/")
    assert "gebruikersnaam <strong>e.b.tester</strong>" in again.text


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_a_forged_or_replayed_callback_is_refused(kb_live: str) -> None:
    active_account("e.b.tester")
    browser = requests.Session()
    choose_digital_only(browser, kb_live)
    start = browser.get(f"{kb_live}/word-lid/bind/inlogaccount/koppelen/", allow_redirects=False)
    authorize = start.headers["Location"]
    to_login = browser.get(authorize, allow_redirects=False).headers["Location"]
    location = kb_login(browser, urljoin(kb_live, to_login), "e.b.tester", PASSWORD)
    callback = browser.get(urljoin(kb_live, location), allow_redirects=False).headers["Location"]
    assert callback.startswith(f"{kb_live}/word-lid/inlogaccount/terug/?")

    # another state than the one we sent: refused
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    browser.get(f"{kb_live}/word-lid/bind/inlogaccount/koppelen/", allow_redirects=False)
    refused = browser.get(forged)
    assert "Inloggen bij de KB is niet gelukt" in refused.text

    # the real callback works once; replaying it gets nothing
    browser.get(f"{kb_live}/word-lid/bind/inlogaccount/koppelen/", allow_redirects=False)
    assert browser.get(callback).url == f"{kb_live}/word-lid/bind/gegevens/"
    browser.get(f"{kb_live}/word-lid/bind/inlogaccount/koppelen/", allow_redirects=False)
    assert "Inloggen bij de KB is niet gelukt" in browser.get(callback).text


def test_an_existing_member_hears_it_right_after_the_kb_login(kb_live: str) -> None:
    active_account("e.b.tester")
    bind = Library.objects.get(code="bind")
    paid = start_payment(bind, SubscriptionType.objects.get(library=bind, code="0141"))
    DemoCheckout.objects.filter(pk=paid.provider_id).update(status="paid")
    payment_webhook(provider_code="demo", provider_id=paid.provider_id)

    browser = requests.Session()  # another browser, another day: signing up again
    account_page = choose_digital_only(browser, kb_live)
    login = re.search(r'href="([^"]*/kb/inloggen/\?next=[^"]+)"', account_page.text)
    assert login is not None
    location = kb_login(browser, html.unescape(login.group(1)), "e.b.tester", PASSWORD)
    landed = browser.get(location)  # the OpenID Connect login, then the next page

    # not the details form: the news, at once, with the way to the Online Bibliotheek
    assert landed.url == f"{kb_live}/word-lid/bind/inlogaccount/"
    assert "Je bent al lid van Bibliotheken Bind" in landed.text
    assert 'href="/online/"' in landed.text
    assert "Voorletters" not in landed.text
    # and the later steps stay closed for this account
    assert browser.get(f"{kb_live}/word-lid/bind/gegevens/").url.endswith("/inlogaccount/")
