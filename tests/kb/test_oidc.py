"""The OpenID Connect provider against a real client (Authlib) over HTTP on a live server:
discovery, the authorization code flow with PKCE (S256), ID token verified against the JWKS,
and userinfo with the memberships."""

import datetime as dt
import re
import secrets
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import KeySet

from bieb.kb.clients import ONLINE_CLIENT_ID, online_client_register, online_client_secret
from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import MembershipData, account_create

PASSWORD = "Leeslamp-Duinpan-42"
REDIRECT = "http://127.0.0.1:8000/online/callback/"


@pytest.fixture
def member(transactional_db: None) -> LoginAccount:
    account_create(
        username="e.b.tester",
        email="e.b.tester@example.nl",
        origin="online",
        actor="test",
        membership=MembershipData(
            library_code="bind",
            library_name="Bibliotheken Bind",
            customer_number="25280000000017",
            subscription_code="0141",
            digital_rights="compleet",
            valid_through=dt.date(2027, 10, 31),
        ),
    )
    account = LoginAccount.objects.get(username="e.b.tester")
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.email_verified = True
    account.save()
    return account


def browser_login(browser: requests.Session, base: str, next_url: str) -> requests.Response:
    """Sign in at the login service's page the way a browser does (CSRF token included)."""
    page = browser.get(f"{base}/kb/inloggen/", params={"next": next_url})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    return browser.post(
        f"{base}/kb/inloggen/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": "e.b.tester",
            "password": PASSWORD,
            "next": next_url,
        },
        allow_redirects=False,
    )


def test_a_real_client_logs_in_with_pkce_and_reads_the_memberships(
    live_server: object, member: LoginAccount
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": f"{base}/kb"}
    with override_settings(BIEB_BASE_URL=base, OAUTH2_PROVIDER=provider):
        online_client_register()
        run_flow(base, member)


def run_flow(base: str, member: LoginAccount) -> None:
    from bieb.kb.models import OIDCApplication

    OIDCApplication.objects.filter(client_id=ONLINE_CLIENT_ID).update(redirect_uris=REDIRECT)
    discovery = requests.get(f"{base}/kb/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == f"{base}/kb"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    assert jwks["keys"][0]["kty"] == "RSA"

    client = OAuth2Session(
        ONLINE_CLIENT_ID,
        online_client_secret(),
        scope="openid profile email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert f"code_challenge={create_s256_code_challenge(verifier)}" in url

    browser = requests.Session()
    first = browser.get(url, allow_redirects=False)
    assert first.status_code == 302 and "/kb/inloggen/" in first.headers["Location"]
    next_url = first.headers["Location"].split("next=", 1)[1]
    logged_in = browser_login(browser, base, unquote(next_url))
    assert logged_in.status_code == 302
    back = browser.get(base + logged_in.headers["Location"], allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"].startswith(REDIRECT)

    token = client.fetch_token(
        discovery["token_endpoint"],
        authorization_response=back.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import RSAKey

    with pytest.raises(BadSignatureError):  # signed with our key, not just any key
        jwt.decode(token["id_token"], RSAKey.generate_key(2048), algorithms=["RS256"])
    id_token = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": f"{base}/kb"},
        aud={"essential": True, "value": ONLINE_CLIENT_ID},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True, "value": str(member.pk)},
        exp={"essential": True},
    ).validate(id_token.claims)

    info = client.get(discovery["userinfo_endpoint"]).json()
    assert info["sub"] == str(member.pk)
    assert info["preferred_username"] == "e.b.tester"
    assert (info["email"], info["email_verified"]) == ("e.b.tester@example.nl", True)
    assert info["memberships"] == [
        {
            "library": "bind",
            "library_name": "Bibliotheken Bind",
            "customer_number": "25280000000017",
            "subscription": "0141",
            "digital_rights": "compleet",
            "valid_through": "2027-10-31",
            "state": "",
            "pay_url": "",
        }
    ]

    # RFC 6749 4.1.2: the code works once, and presenting it again revokes what it gave
    code = re.search(r"code=([^&]+)", back.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert userinfo(discovery, token["access_token"]).status_code == 200
    assert exchange(discovery, code, verifier).status_code == 400
    assert userinfo(discovery, token["access_token"]).status_code == 401
    with pytest.raises(OAuthError, match="invalid_grant"):
        client.refresh_token(discovery["token_endpoint"], refresh_token=token["refresh_token"])

    # PKCE: for a fresh code a wrong verifier, or none, gets nothing; the right one still works
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    answer = browser.get(url, allow_redirects=False)
    code = re.search(r"code=([^&]+)", answer.headers["Location"]).group(1)  # type: ignore[union-attr]
    wrong = exchange(discovery, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = exchange(discovery, code, None)
    assert missing.status_code == 400 and "access_token" not in missing.json()
    right = exchange(discovery, code, verifier)
    assert right.status_code == 200, right.text

    # a replay also revokes the tokens that came from the code by refreshing
    rotated = client.refresh_token(
        discovery["token_endpoint"], refresh_token=right.json()["refresh_token"]
    )
    assert userinfo(discovery, rotated["access_token"]).status_code == 200
    assert exchange(discovery, code, verifier).status_code == 400
    assert userinfo(discovery, rotated["access_token"]).status_code == 401
    with pytest.raises(OAuthError, match="invalid_grant"):
        client.refresh_token(discovery["token_endpoint"], refresh_token=rotated["refresh_token"])


def exchange(discovery: dict[str, Any], code: str, verifier: str | None) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(
        discovery["token_endpoint"],
        data=data,
        auth=(ONLINE_CLIENT_ID, online_client_secret()),
        timeout=10,
    )


def userinfo(discovery: dict[str, Any], access_token: str) -> requests.Response:
    return requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def test_pkce_is_required(live_server: object, member: LoginAccount) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    online_client_register()
    from bieb.kb.models import OIDCApplication

    OIDCApplication.objects.filter(client_id=ONLINE_CLIENT_ID).update(redirect_uris=REDIRECT)
    browser = requests.Session()
    browser_login(browser, base, "/kb/")
    response = browser.get(
        f"{base}/kb/authorize/",
        params={
            "response_type": "code",
            "client_id": ONLINE_CLIENT_ID,
            "redirect_uri": REDIRECT,
            "scope": "openid",
        },
        allow_redirects=False,
    )
    location = response.headers.get("Location", "")
    assert "code=" not in location
    assert "error=invalid_request" in location or response.status_code == 400
