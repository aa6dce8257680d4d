"""The provider's discovery document says what the provider does, and no more; `prompt=none`
(advertised) answers the client without ever showing a page (OIDC Core 3.1.2.6)."""

import base64
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.core.exceptions import ValidationError
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from bieb.kb.clients import ONLINE_CLIENT_ID, online_client_register, online_client_secret
from bieb.kb.models import LoginAccount, OIDCApplication
from tests.signup.factories import PASSWORD, active_account

pytestmark = pytest.mark.django_db

REDIRECT = "http://127.0.0.1:8000/online/callback/"
DISCOVERY = "/kb/.well-known/openid-configuration"
ALL_RESPONSE_TYPES = [
    "code",
    "token",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
]


@pytest.fixture
def app(db: None) -> OIDCApplication:
    return online_client_register()


@pytest.fixture
def member(db: None) -> LoginAccount:
    return active_account("e.b.tester")


def signed_in() -> Client:
    browser = Client()
    response = browser.post("/kb/inloggen/", {"username": "e.b.tester", "password": PASSWORD})
    assert response.status_code == 302
    return browser


def authorize(browser: Client, verifier: str = "v" * 50, **params: str):  # type: ignore[no-untyped-def]
    query = {
        "response_type": "code",
        "client_id": ONLINE_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": "st8",
        "nonce": "n0nce",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        **params,
    }
    return browser.get("/kb/authorize/", query)


def answer(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The parameters the provider sends the client back with (query and fragment)."""
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert location.startswith(REDIRECT), location
    parts = urlsplit(location)
    return {**parse_qs(parts.query), **parse_qs(parts.fragment)}


def test_prompt_none_without_a_session_answers_login_required(app: OIDCApplication) -> None:
    sent = answer(authorize(Client(), prompt="none"))
    assert sent["error"] == ["login_required"] and sent["state"] == ["st8"]
    assert "code" not in sent


def test_prompt_none_with_a_session_issues_the_code(
    app: OIDCApplication, member: LoginAccount
) -> None:
    sent = answer(authorize(signed_in(), prompt="none"))
    assert sent["code"] and sent["state"] == ["st8"] and "error" not in sent


def test_prompt_none_never_shows_the_consent_page(
    app: OIDCApplication, member: LoginAccount
) -> None:
    OIDCApplication.objects.filter(pk=app.pk).update(skip_authorization=False)
    browser = signed_in()
    assert authorize(browser).status_code == 200  # without prompt=none: the consent page
    sent = answer(authorize(browser, prompt="none"))
    assert sent["error"] == ["consent_required"] and "code" not in sent


def test_prompt_none_never_sends_to_an_unregistered_address(app: OIDCApplication) -> None:
    response = authorize(Client(), prompt="none", redirect_uri="https://evil.example/cb")
    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")


def exchange(code: str, verifier: str = "v" * 50) -> dict[str, str]:
    credentials = base64.b64encode(f"{ONLINE_CLIENT_ID}:{online_client_secret()}".encode())
    response = Client().post(
        "/kb/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=f"Basic {credentials.decode()}",
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)  # type: ignore[no-any-return]


def test_discovery_says_what_the_provider_does(app: OIDCApplication, member: LoginAccount) -> None:
    doc = json.loads(Client().get(DISCOVERY).content)
    browser = signed_in()

    # response types: each advertised one works, every other one is refused (also for a
    # client registered for the hybrid flow)
    assert doc["response_types_supported"] == ["code"]
    for response_type in ALL_RESPONSE_TYPES:
        sent = answer(authorize(browser, response_type=response_type))
        if response_type in doc["response_types_supported"]:
            assert sent["code"], response_type
        else:
            assert "error" in sent and not {"code", "access_token", "id_token"} & set(sent)
    OIDCApplication.objects.filter(pk=app.pk).update(
        authorization_grant_type=OIDCApplication.GRANT_OPENID_HYBRID
    )
    sent = answer(authorize(browser, response_type="code id_token"))
    assert "error" in sent and "code" not in sent and "id_token" not in sent
    OIDCApplication.objects.filter(pk=app.pk).update(
        authorization_grant_type=OIDCApplication.GRANT_AUTHORIZATION_CODE
    )

    # signing: RS256 only, and no client can be registered with another algorithm
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    verifier = secrets.token_urlsafe(48)
    token = exchange(answer(authorize(browser, verifier=verifier))["code"][0], verifier)
    keys = KeySet.import_key_set(json.loads(Client().get(doc["jwks_uri"]).content))
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    for algorithm in (OIDCApplication.HS256_ALGORITHM, OIDCApplication.NO_ALGORITHM):
        app.algorithm = algorithm
        with pytest.raises(ValidationError, match="alleen met RS256"):
            app.full_clean()

    # claims: the advertised ones are the ones given (the JWT's own jti/at_hash aside)
    info = json.loads(
        Client()
        .get(doc["userinfo_endpoint"], HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
        .content
    )
    given = (set(id_token.claims) | set(info)) - {"jti", "at_hash"}
    assert sorted(doc["claims_supported"]) == sorted(given)

    # prompt values: "none" above; "login" sends a signed-in member to the login page again
    assert doc["prompt_values_supported"] == ["none", "login"]
    again = authorize(browser, prompt="login")
    assert again.status_code == 302 and again["Location"].startswith("/kb/inloggen/")


def test_prompt_none_with_a_hint_about_another_member_answers_login_required(
    app: OIDCApplication, member: LoginAccount
) -> None:
    verifier = secrets.token_urlsafe(48)
    own = signed_in()
    hint = exchange(answer(authorize(own, verifier=verifier))["code"][0], verifier)["id_token"]
    active_account("a.n.ander")
    other = Client()
    other.post("/kb/inloggen/", {"username": "a.n.ander", "password": PASSWORD})

    sent = answer(authorize(other, prompt="none", id_token_hint=hint))
    assert sent["error"] == ["login_required"] and "code" not in sent
    assert answer(authorize(own, prompt="none", id_token_hint=hint))["code"]
    garbled = answer(authorize(own, prompt="none", id_token_hint="not.a.token"))
    assert garbled["error"] == ["login_required"]
