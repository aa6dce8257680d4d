"""The login service (KB) as its relying parties see it: OpenID Connect over HTTP, with Authlib.

The library website (sign-up) and the Online Bibliotheek both learn who a member is this way:
discovery at `<BIEB_BASE_URL>/kb/.well-known/openid-configuration`, the authorization code flow
with PKCE (S256), the ID token checked against the provider's JWKS (signature, issuer, audience,
expiry, nonce), then userinfo. Neither reads the login service's tables or its session: the
login service could move to its own host without them noticing.
"""

import os
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

SCOPE = "openid profile email"
HTTP_TIMEOUT = 10
METADATA_TTL = 300.0  # seconds a fetched discovery document (and JWKS) is reused

# Discovery document + JWKS per issuer, shared by the requests of this process.
_metadata_cache: dict[str, dict[str, Any]] = {}


class LoginFailed(Exception):
    """The login at the login service did not give us a verified member (any cause)."""


@dataclass(frozen=True)
class Member:
    """Who logged in, from a verified ID token and the userinfo that belongs to it."""

    sub: str
    username: str
    email: str
    email_verified: bool
    memberships: list[dict[str, Any]] = field(default_factory=list)
    id_token_expires: int = 0


def secret_from_env(variable: str, client_id: str) -> str:
    """A client's secret: the environment variable `variable`, or else the secret derived from
    SECRET_KEY as the login service derives it when it registers the client, so that both sides
    of one installation agree without a secret in the repository."""
    return (
        os.environ.get(variable) or salted_hmac(f"bieb.kb.{client_id}", "client-secret").hexdigest()
    )


def issuer() -> str:
    return f"{settings.BIEB_BASE_URL}/kb"


def _client(client_id: str, secret: str) -> DjangoOAuth2App:
    metadata_url = f"{issuer()}/.well-known/openid-configuration"
    oauth = OAuth()
    oauth.register(
        name="kb",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=metadata_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": HTTP_TIMEOUT,
        },
    )
    client: DjangoOAuth2App = oauth.create_client("kb")
    cached = _metadata_cache.get(metadata_url)
    if cached and time.time() - cached.get("_loaded_at", 0) < METADATA_TTL:
        client.server_metadata.update(cached)
    return client


def _remember_metadata(client: DjangoOAuth2App) -> None:
    metadata = dict(client.server_metadata)
    if "_loaded_at" in metadata and metadata.get("issuer"):
        _metadata_cache[f"{metadata['issuer']}/.well-known/openid-configuration"] = metadata


def login_redirect(
    request: HttpRequest, *, client_id: str, secret: str, redirect_uri: str
) -> HttpResponse:
    """Send the browser to the login service's authorization endpoint (state, nonce and PKCE
    verifier are kept in this site's session until the callback)."""
    client = _client(client_id, secret)
    try:
        response: HttpResponse = client.authorize_redirect(request, redirect_uri)
    except (OSError, ValueError, RuntimeError) as error:  # requests' errors are OSErrors
        raise LoginFailed(f"discovery failed: {error}") from error
    _remember_metadata(client)
    return response


def login_complete(request: HttpRequest, *, client_id: str, secret: str) -> Member:
    """Finish the login on the callback: exchange the code (with the PKCE verifier), verify the
    ID token, read userinfo. Raises LoginFailed for anything that is not a verified member."""
    client = _client(client_id, secret)
    try:
        metadata = client.load_server_metadata()
        # RFC 9207: the provider names itself in the response; another one is a mix-up attack.
        returned_issuer = request.GET.get("iss")
        if returned_issuer is not None and returned_issuer != metadata.get("issuer"):
            raise LoginFailed("authorization response from another issuer")
        token = client.authorize_access_token(request)
        claims = token.get("userinfo")
        if not claims:
            raise LoginFailed("no ID token")
        info = client.userinfo(token=token)
    except LoginFailed:
        raise
    except Exception as error:
        # OAuthError (state, error responses), requests' OSErrors, joserfc's token errors
        # (signature, claims) and malformed answers: for the member it is all "not logged in".
        raise LoginFailed(f"{type(error).__name__}: {error}") from error
    _remember_metadata(client)
    # OIDC Core 5.3.2: userinfo is only about the ID token's subject if `sub` matches.
    if str(info.get("sub")) != str(claims["sub"]):
        raise LoginFailed("userinfo is about another subject")
    username = info.get("preferred_username") or claims.get("preferred_username")
    if not username:
        raise LoginFailed("no username")
    return Member(
        sub=str(claims["sub"]),
        username=str(username),
        email=str(info.get("email") or ""),
        email_verified=bool(info.get("email_verified")),
        memberships=list(info.get("memberships") or []),
        id_token_expires=int(claims.get("exp") or 0),
    )
