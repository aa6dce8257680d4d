"""Signing in at Mijn bibliotheek through the login service on a live server (OpenID Connect,
code + PKCE, its own client "mijn-bibliotheek"), in both ways the library reaches the KB."""

from urllib.parse import urljoin

import pytest
import requests

from bieb.customers.models import Customer
from bieb.kb.clients import MIJN_CLIENT_ID
from bieb.kb.models import LoginAccount, OIDCApplication
from bieb.kb.oidc_models import OIDCAccessToken
from bieb.kb.self_service import password_change
from tests.oidc_live import KB_MODES, csrf, kb_login
from tests.signup.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_sign_in_at_the_kb_lands_on_the_page_asked_for(
    mijn_live: str, account: LoginAccount, member: Customer
) -> None:
    browser = requests.Session()
    start = browser.get(f"{mijn_live}/mijn/bind/betalingen/")
    assert "/kb/inloggen/" in start.url  # the login service's own page
    assert (
        f"client_id%3D{MIJN_CLIENT_ID}" in start.url or f"client_id={MIJN_CLIENT_ID}" in start.url
    )
    location = kb_login(browser, start.url, "e.b.tester", PASSWORD)
    landed = browser.get(urljoin(mijn_live, location))
    assert landed.url == f"{mijn_live}/mijn/bind/betalingen/"
    assert "Betalingen en boekingen" in landed.text and member.number in landed.text

    # signed in at the KB: another library's page needs no password, and says "no member"
    oost = browser.get(f"{mijn_live}/mijn/oost/")
    assert oost.url == f"{mijn_live}/mijn/oost/"
    assert "Je bent geen lid van Bibliotheek Oost" in oost.text

    out = browser.post(
        f"{mijn_live}/mijn/bind/uitloggen/", data={"csrfmiddlewaretoken": csrf(oost)}
    )
    assert "Je bent uitgelogd" in out.text
    again = browser.get(f"{mijn_live}/mijn/bind/", allow_redirects=False)
    assert again.status_code == 302 and "/mijn/bind/inloggen/" in again.headers["Location"]


def test_the_client_is_registered_with_its_own_redirect_uri(mijn_live: str) -> None:
    app = OIDCApplication.objects.get(client_id=MIJN_CLIENT_ID)
    assert app.redirect_uris == f"{mijn_live}/mijn/terug/"
    assert app.name == "Mijn bibliotheek"


def test_a_callback_without_a_sign_in_started_here_is_refused(mijn_live: str) -> None:
    response = requests.Session().get(f"{mijn_live}/mijn/terug/?code=abc&state=xyz")
    assert response.status_code == 400 and "Inloggen verlopen" in response.text
    browser = requests.Session()
    browser.get(f"{mijn_live}/mijn/bind/inloggen/", allow_redirects=False)
    forged = browser.get(f"{mijn_live}/mijn/terug/?code=abc&state=xyz")
    assert forged.status_code == 400 and "Inloggen niet gelukt" in forged.text


def test_next_never_leads_outside_the_library(
    mijn_live: str, account: LoginAccount, member: Customer
) -> None:
    browser = requests.Session()
    start = browser.get(f"{mijn_live}/mijn/bind/inloggen/?next=https://evil.example/")
    location = kb_login(browser, start.url, "e.b.tester", PASSWORD)
    assert browser.get(urljoin(mijn_live, location)).url == f"{mijn_live}/mijn/bind/"
    start = browser.get(f"{mijn_live}/mijn/bind/inloggen/?next=/mijn/oost/")
    assert start.url == f"{mijn_live}/mijn/bind/"  # signed in at the KB already


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_a_password_change_at_the_kb_ends_the_sign_in_at_mijn_bibliotheek(
    mijn_live: str, account: LoginAccount, member: Customer
) -> None:
    """Each page asks the login service again: once the member changed the password (or chose
    "Overal uitloggen"), an open Mijn bibliotheek goes back to the sign-in, and Uitloggen gives
    the tokens back."""
    browser = requests.Session()
    start = browser.get(f"{mijn_live}/mijn/bind/")
    browser.get(urljoin(mijn_live, kb_login(browser, start.url, "e.b.tester", PASSWORD)))
    page = browser.get(f"{mijn_live}/mijn/bind/betalingen/")
    assert page.url == f"{mijn_live}/mijn/bind/betalingen/" and member.number in page.text

    password_change(
        account=LoginAccount.objects.get(pk=account.pk),
        current=PASSWORD,
        password="Boekenkast-Zeewind-73",
        ip=None,
        session_keep=lambda account: None,
    )
    again = browser.get(f"{mijn_live}/mijn/bind/betalingen/", allow_redirects=False)
    assert again.status_code == 302
    assert again.headers["Location"].startswith("/mijn/bind/inloggen/")

    # signed in anew: Uitloggen revokes what the login service issued to Mijn bibliotheek
    browser = requests.Session()
    start = browser.get(f"{mijn_live}/mijn/bind/")
    landed = browser.get(
        urljoin(mijn_live, kb_login(browser, start.url, "e.b.tester", "Boekenkast-Zeewind-73"))
    )
    mijn = OIDCApplication.objects.get(client_id=MIJN_CLIENT_ID)
    assert OIDCAccessToken.objects.filter(application=mijn, user=account).exists()
    browser.post(f"{mijn_live}/mijn/bind/uitloggen/", data={"csrfmiddlewaretoken": csrf(landed)})
    assert not OIDCAccessToken.objects.filter(application=mijn, user=account).exists()
