"""The Online Bibliotheek as an OpenID Connect relying party of the login service, on a live
server: log in (code + PKCE, ID token checked against the JWKS), see what you may use, log out."""

import datetime as dt
import re
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.sessions.models import Session

from bieb.core.dates import date_nl, local_today
from bieb.integrations.kb import client as kb_client
from bieb.kb.models import LinkedMembership, LoginAccount, OIDCAccessToken, OIDCRefreshToken
from bieb.kb.services import MembershipData, membership_update
from tests.oidc_live import KB_MODES, csrf, kb_login
from tests.signup.factories import PASSWORD, active_account

pytestmark = pytest.mark.django_db(transaction=True)


def link(account: LoginAccount, *, valid_through: dt.date | None, rights: str = "compleet") -> None:
    LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number="25280000000017",
        subscription_code="0141",
        digital_rights=rights,
        valid_through=valid_through,
    )


def live_tokens(account: LoginAccount) -> tuple[int, int]:
    """(access tokens, unrevoked refresh tokens) of the account."""
    return (
        OIDCAccessToken.objects.filter(user=account).count(),
        OIDCRefreshToken.objects.filter(user=account, revoked__isnull=True).count(),
    )


def log_in(base: str, username: str = "e.b.tester") -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    start = browser.get(f"{base}/online/inloggen/")
    assert "/kb/inloggen/" in start.url  # sent to the login service's own page
    location = kb_login(browser, start.url, username, PASSWORD)
    return browser, browser.get(urljoin(base, location))


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_log_in_see_access_until_the_valid_through_date_and_log_out(kb_live: str) -> None:
    account = active_account("e.b.tester")
    until = local_today() + dt.timedelta(days=200)
    link(account, valid_through=until)
    browser, home = log_in(kb_live)
    assert home.url == f"{kb_live}/online/"
    assert "Hallo e.b.tester" in home.text
    assert f"e-books en luisterboeken t/m <strong>{date_nl(until)}</strong>" in home.text

    # the membership is valid through its date, and not a day longer
    membership_update(
        membership=MembershipData(
            "bind", "Bibliotheken Bind", "25280000000017", "0141", "compleet", local_today()
        )
    )
    _, today = log_in(kb_live)
    assert f"t/m <strong>{date_nl(local_today())}</strong>" in today.text

    # "Uitloggen" goes on through the KB's end_session_endpoint (RP-initiated logout): out of
    # both, and back at the Online Bibliotheek
    assert live_tokens(account) == (2, 2)
    out = browser.post(f"{kb_live}/online/uitloggen/", data={"csrfmiddlewaretoken": csrf(home)})
    assert out.url == f"{kb_live}/online/uitgelogd/"
    assert "uitgelogd bij de Online Bibliotheek en bij de inlogdienst van de KB" in out.text
    assert ">Inloggen</a>" in browser.get(f"{kb_live}/online/").text
    assert browser.get(f"{kb_live}/kb/account/").url.startswith(f"{kb_live}/kb/inloggen/")
    # the Online Bibliotheek gave its tokens back (the other sign-in keeps its own)
    assert live_tokens(account) == (1, 1)


@pytest.mark.parametrize(
    ("valid_through", "rights", "why"),
    [
        (-1, "compleet", "Je abonnement bij Bibliotheken Bind was geldig t/m "),
        (30, "none", "geeft geen toegang tot e-books en luisterboeken"),
        (None, "", "nog niet gekoppeld aan een abonnement"),
    ],
)
def test_no_access_says_why_and_links_to_sign_up(
    kb_live: str, valid_through: int | None, rights: str, why: str
) -> None:
    account = active_account("e.b.tester")
    if valid_through is not None:
        link(account, valid_through=local_today() + dt.timedelta(days=valid_through), rights=rights)
    _, home = log_in(kb_live)
    assert "Je hebt nu geen toegang tot e-books en luisterboeken." in home.text
    assert why in home.text
    signup = "/word-lid/bind/" if valid_through is not None else "/word-lid/"
    assert f'href="{signup}">Word lid</a>' in home.text


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_an_id_token_signed_with_another_key_is_refused(
    kb_live: str, caplog: pytest.LogCaptureFixture
) -> None:
    from joserfc.jwk import RSAKey

    account = active_account("e.b.tester")
    link(account, valid_through=local_today())
    log_in(kb_live)  # fills the relying party's cache of discovery + JWKS
    url = f"{kb_live}/kb/.well-known/openid-configuration"
    cached = kb_client._metadata_cache[url]
    real = cached["jwks"]["keys"][0]
    impostor = RSAKey.generate_key(2048).as_dict(private=False)
    cached["jwks"] = {"keys": [{**impostor, "kid": real["kid"], "alg": "RS256", "use": "sig"}]}
    try:
        _, home = log_in(kb_live)
    finally:
        kb_client._metadata_cache.pop(url, None)
    assert "Inloggen is niet gelukt" in home.text and "Hallo" not in home.text
    assert "BadSignatureError" in caplog.text


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_a_callback_without_our_state_or_from_another_issuer_is_refused(kb_live: str) -> None:
    browser = requests.Session()
    forged = browser.get(f"{kb_live}/online/callback/?code=abc&state=xyz")
    assert forged.status_code == 400 and "Inloggen is niet gelukt" in forged.text
    start = browser.get(f"{kb_live}/online/inloggen/", allow_redirects=False)
    state = re.search(r"state=([^&]+)", start.headers["Location"])
    assert state is not None
    mixed_up = browser.get(
        f"{kb_live}/online/callback/",
        params={"code": "abc", "state": state.group(1), "iss": "https://evil.example/kb"},
    )
    assert mixed_up.status_code == 400


@pytest.mark.parametrize("kb_live", KB_MODES, indirect=True)
def test_each_page_asks_the_kb_again_refreshing_the_token_and_ends_with_the_kb_sign_in(
    kb_live: str,
) -> None:
    import time_machine
    from django.utils import timezone

    from bieb.kb.self_service import sessions_end_everywhere

    account = active_account("e.b.tester")
    link(account, valid_through=local_today() + dt.timedelta(days=200))
    browser, home = log_in(kb_live)
    assert "Hallo e.b.tester" in home.text
    # a member's session is not a staff login: it does not end after the counter's idle time
    assert not [s for s in Session.objects.all() if "staff:since" in s.get_decoded()]
    # The library ends the membership: the next page says so, without a new login.
    link_state = LinkedMembership.objects.get(account=account)
    link_state.valid_through = local_today() - dt.timedelta(days=1)
    link_state.save()
    assert "geen toegang" in browser.get(f"{kb_live}/online/").text

    # Two hours on, the access token (an hour) has expired: refreshed, still signed in.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=False):
        later = browser.get(f"{kb_live}/online/")
        assert "Hallo e.b.tester" in later.text
        assert OIDCRefreshToken.objects.filter(user=account, revoked__isnull=False).exists()
        # "Overal uitloggen" at the KB: the next page of the Online Bibliotheek is signed out.
        sessions_end_everywhere(account=account, ip=None)
        out = browser.get(f"{kb_live}/online/")
    assert "Je bent uitgelogd" in out.text and ">Inloggen</a>" in out.text
