"""Access tokens travel in the Authorization header only (RFC 6750 2.1): one in the query string
lands in access logs and caches, one in a form body is no better. Every endpoint that takes a
bearer token is held to this. A code presented twice revokes what it gave (RFC 6749 4.1.2; the
full story with a real client is in test_oidc)."""

import base64
import secrets

import pytest
from django.test import Client, override_settings

from bieb.kb.clients import (
    ONLINE_CLIENT_ID,
    WEBSITE_CLIENT_ID,
    online_client_secret,
    website_client_register,
    website_client_secret,
)
from bieb.kb.models import LoginAccount, OIDCApplication
from tests.kb.test_oidc_discovery import answer, app, authorize, exchange, member, signed_in

pytestmark = pytest.mark.django_db

__all__ = ["app", "member"]


@pytest.fixture
def access_token(app: OIDCApplication, member: LoginAccount) -> str:
    verifier = secrets.token_urlsafe(48)
    code = answer(authorize(signed_in(), verifier=verifier))["code"][0]
    return exchange(code, verifier)["access_token"]


def refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_takes_the_token_from_the_header_only(access_token: str) -> None:
    userinfo = "/kb/userinfo/"
    assert Client().get(userinfo, HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code == 200
    assert refused(Client().get(userinfo, {"access_token": access_token}))
    assert refused(Client().post(userinfo, {"access_token": access_token}))
    # a token in the body does not count for one in the header either
    both = Client().post(
        userinfo, {"access_token": access_token}, HTTP_AUTHORIZATION="Bearer nonsense"
    )
    assert refused(both)


@override_settings(BIEB_ENTITLEMENTS_TOKEN="s3cret-entitlements-token")
def test_the_entitlement_endpoint_takes_its_token_from_the_header_only(demo: None) -> None:
    url = "/online/api/entitlements/e.b.tester/"
    token = "s3cret-entitlements-token"
    ok = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200
    assert refused(Client().get(url, {"access_token": token}))
    assert refused(Client().get(url, {"token": token}))


def test_a_replayed_code_revokes_its_tokens_for_its_own_client_only(
    app: OIDCApplication, member: LoginAccount
) -> None:
    website_client_register()
    verifier = secrets.token_urlsafe(48)
    code = answer(authorize(signed_in(), verifier=verifier))["code"][0]
    token = exchange(code, verifier)["access_token"]

    def replay(client_id: str, secret: str) -> int:
        auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return (
            Client()
            .post(
                "/kb/token/",
                {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
                HTTP_AUTHORIZATION=f"Basic {auth}",
            )
            .status_code
        )

    def works() -> bool:
        info = Client().get("/kb/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
        return info.status_code == 200

    assert replay(WEBSITE_CLIENT_ID, website_client_secret()) == 400
    assert works()  # another client cannot revoke this client's tokens
    assert replay(ONLINE_CLIENT_ID, online_client_secret()) == 400
    assert not works()
