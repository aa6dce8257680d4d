"""The login service (KB) as its relying parties see it: OpenID Connect, with Authlib.

The library website (sign-up) and the Online Bibliotheek both learn who a member is this way:
discovery at `<KB>/kb/.well-known/openid-configuration`, the authorization code flow with PKCE
(S256), the ID token checked against the provider's JWKS (signature, issuer, audience, expiry,
nonce), then userinfo. Neither reads the login service's tables or its session: the login
service could move to its own host without them noticing.

How the requests travel (DESIGN: no request waits on another request of the same server):
- The KB in this process (the default, `settings.BIEB_KB_IN_PROCESS`): Authlib's requests to
  the provider's endpoints are answered by calling django-oauth-toolkit's views in this thread,
  with the request Authlib built (client authentication, code, PKCE verifier, bearer token all
  as over HTTP). No socket, so no second worker thread is needed: a server whose every thread is
  in a callback still finishes them all. Every check stays where it was: state, nonce and the ID
  token's signature in Authlib, client authentication, PKCE and redirect_uri in the provider.
- The KB elsewhere (`BIEB_KB_URL`): HTTP with short timeouts, and at most a few calls at once
  per process, so that a slow KB cannot take every thread; the member is told it does not answer.
"""

import io
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.crypto import salted_hmac
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

SCOPE = "openid profile email"
# Outgoing calls to a KB on another host: a connection within 2 s, an answer within 5 s, at most
# MAX_PARALLEL_CALLS at once per process (a call waits at most SLOT_WAIT for its turn).
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_PARALLEL_CALLS = 2
SLOT_WAIT = 1.0
METADATA_TTL = 300.0  # seconds a fetched discovery document (and JWKS) is reused

# Discovery document + JWKS per issuer, shared by the requests of this process.
_metadata_cache: dict[str, dict[str, Any]] = {}


class LoginFailed(Exception):
    """The login at the login service did not give us a verified member (any cause)."""


class KBUnavailable(LoginFailed):
    """The login service did not answer in time, or could not be reached."""


class SignedOut(LoginFailed):
    """The login service no longer honours the sign-in (its tokens were ended: a password
    change or reset, "Overal uitloggen", a deleted account)."""


@dataclass(frozen=True)
class Member:
    """Who logged in, from a verified ID token and the userinfo that belongs to it."""

    sub: str
    username: str
    email: str
    email_verified: bool
    memberships: list[dict[str, Any]] = field(default_factory=list)
    id_token_expires: int = 0
    # What the relying party keeps in its session to ask again later (`member_check`) and to
    # sign out (`logout_url`): access and refresh token, their expiry, the ID token.
    token: dict[str, Any] = field(default_factory=dict)


# The parts of a token response a relying party keeps.
TOKEN_KEPT = ("access_token", "refresh_token", "token_type", "expires_at", "id_token")


def _kept(token: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    kept = {key: token[key] for key in TOKEN_KEPT if token.get(key)}
    for key in ("refresh_token", "id_token"):  # a refresh may leave these out
        if key not in kept and previous and previous.get(key):
            kept[key] = previous[key]
    return kept


def secret_from_env(variable: str, client_id: str) -> str:
    """A client's secret: the environment variable `variable`, or else the secret derived from
    SECRET_KEY as the login service derives it when it registers the client, so that both sides
    of one installation agree without a secret in the repository."""
    return (
        os.environ.get(variable) or salted_hmac(f"bieb.kb.{client_id}", "client-secret").hexdigest()
    )


def kb_in_process() -> bool:
    """Is the login service served by this very process (the all-in-one default)?"""
    return bool(settings.BIEB_KB_IN_PROCESS)


def kb_base_url() -> str:
    return str(settings.BIEB_KB_URL or settings.BIEB_BASE_URL).rstrip("/")


def issuer() -> str:
    return f"{kb_base_url()}/kb"


class _InProcess(BaseAdapter):
    """A requests transport that hands a request for the co-hosted provider to its view."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        url = urlsplit(request.url or "")
        base = urlsplit(settings.BIEB_BASE_URL)
        script_name = base.path.rstrip("/")
        path = url.path[len(script_name) :] if url.path.startswith(script_name) else url.path
        try:
            match = resolve(path)
        except Resolver404 as error:
            raise requests.ConnectionError(f"no such endpoint: {path}") from error
        # Only the OpenID Connect endpoints, never a page of the site.
        if match.namespace != "oauth2_provider":
            raise requests.ConnectionError(f"not an OpenID Connect endpoint: {path}")
        raw = request.body or b""
        body = raw.encode() if isinstance(raw, str) else bytes(raw)  # type: ignore[arg-type]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method or "GET",
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": base.hostname or "localhost",
            "SERVER_PORT": str(base.port or (443 if base.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": base.netloc,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": base.scheme,
            "wsgi.errors": io.StringIO(),
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key not in {"HOST", "CONTENT_LENGTH"}:
                environ[f"HTTP_{key}"] = value
        answer = match.func(WSGIRequest(environ), *match.args, **match.kwargs)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response._content = answer.content
        response.encoding = answer.charset
        response.url = request.url or ""
        response.request = request
        response.reason = answer.reason_phrase
        return response

    def close(self) -> None:
        pass


class _Bounded(HTTPAdapter):
    """HTTP to a KB elsewhere: short timeouts, whatever the caller asked, and a few calls at once
    per process. Shared by every session of the process (its connections are reused)."""

    def __init__(self) -> None:
        super().__init__(pool_connections=4, pool_maxsize=MAX_PARALLEL_CALLS)
        self._slots = threading.BoundedSemaphore(MAX_PARALLEL_CALLS)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if not self._slots.acquire(timeout=SLOT_WAIT):
            raise requests.ConnectTimeout("all outgoing calls to the login service are busy")
        try:
            kwargs["timeout"] = (CONNECT_TIMEOUT, READ_TIMEOUT)
            return super().send(request, *args, **kwargs)
        finally:
            self._slots.release()

    def close(self) -> None:
        pass  # Authlib closes its sessions after each call; the pool outlives them


_IN_PROCESS = _InProcess()
_HTTP = _Bounded()


class _Session(OAuth2Session):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mount("http://", _HTTP)
        self.mount("https://", _HTTP)
        if kb_in_process():
            self.mount(f"{issuer()}/", _IN_PROCESS)


class _App(DjangoOAuth2App):
    client_cls = _Session


class _OAuth(OAuth):
    oauth2_client_cls = _App


def _client(client_id: str, secret: str) -> DjangoOAuth2App:
    metadata_url = f"{issuer()}/.well-known/openid-configuration"
    oauth = _OAuth()
    oauth.register(
        name="kb",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=metadata_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": (CONNECT_TIMEOUT, READ_TIMEOUT),
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
    except requests.RequestException as error:
        raise KBUnavailable(f"discovery failed: {type(error).__name__}: {error}") from error
    except (OSError, ValueError, RuntimeError) as error:
        raise LoginFailed(f"discovery failed: {error}") from error
    _remember_metadata(client)
    return response


def login_complete(request: HttpRequest, *, client_id: str, secret: str) -> Member:
    """Finish the login on the callback: exchange the code (with the PKCE verifier), verify the
    ID token, read userinfo. Raises LoginFailed for anything that is not a verified member
    (KBUnavailable when the login service did not answer)."""
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
    except (requests.Timeout, requests.ConnectionError) as error:
        raise KBUnavailable(f"{type(error).__name__}: {error}") from error
    except Exception as error:
        # OAuthError (state, error responses), other requests errors, joserfc's token errors
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
        token=_kept(token),
    )


# A token this close to its expiry is refreshed first.
REFRESH_MARGIN = 30


def member_check(*, client_id: str, secret: str, sub: str, token: dict[str, Any]) -> Member:
    """Ask the login service again who is signed in with `token` (userinfo), refreshing the
    access token first when it is (nearly) expired. The answer's `token` is what to keep from
    now on. SignedOut when the login service no longer honours it (a password change or reset,
    "Overal uitloggen", a deleted account), KBUnavailable when it does not answer."""
    if not token.get("access_token"):
        raise SignedOut("no token kept")
    client = _client(client_id, secret)
    current = dict(token)
    try:
        metadata = client.load_server_metadata()
        if float(current.get("expires_at") or 0) - REFRESH_MARGIN < time.time():
            if not current.get("refresh_token"):
                raise SignedOut("expired, no refresh token")
            with client._get_oauth_client(**metadata) as session:
                fresh = session.refresh_token(
                    metadata["token_endpoint"], refresh_token=current["refresh_token"]
                )
            current = _kept(dict(fresh), current)
        info = client.userinfo(token=current)
    except LoginFailed:
        raise
    except (requests.Timeout, requests.ConnectionError) as error:
        raise KBUnavailable(f"{type(error).__name__}: {error}") from error
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        if 400 <= status < 500:
            raise SignedOut(f"userinfo answered {status}") from error
        raise KBUnavailable(f"userinfo answered {status}") from error
    except OAuthError as error:  # the refresh was refused (invalid_grant)
        raise SignedOut(f"{type(error).__name__}: {error}") from error
    except Exception as error:
        raise KBUnavailable(f"{type(error).__name__}: {error}") from error
    _remember_metadata(client)
    if str(info.get("sub")) != sub:
        raise SignedOut("userinfo is about another subject")
    return Member(
        sub=sub,
        username=str(info.get("preferred_username") or ""),
        email=str(info.get("email") or ""),
        email_verified=bool(info.get("email_verified")),
        memberships=list(info.get("memberships") or []),
        token=current,
    )


def token_revoke(*, client_id: str, secret: str, token: dict[str, Any]) -> None:
    """Give the tokens back (RFC 7009) on signing out: revoking the refresh token revokes its
    access token too. Best effort: a login service that does not answer lets them expire."""
    value = token.get("refresh_token") or token.get("access_token")
    if not value:
        return
    client = _client(client_id, secret)
    hint = "refresh_token" if token.get("refresh_token") else "access_token"
    try:
        metadata = client.load_server_metadata()
        with client._get_oauth_client(**metadata) as session:
            session.revoke_token(f"{issuer()}/revoke_token/", value, token_type_hint=hint)
    except Exception:  # noqa: S110  (best effort, see above)
        pass


def logout_url(*, client_id: str, secret: str, id_token: str, post_logout_redirect_uri: str) -> str:
    """The login service's end_session_endpoint (RP-initiated logout) for this sign-in, to
    send the browser to; KBUnavailable when discovery does not answer."""
    client = _client(client_id, secret)
    try:
        metadata = client.load_server_metadata()
    except requests.RequestException as error:
        raise KBUnavailable(f"discovery failed: {type(error).__name__}: {error}") from error
    _remember_metadata(client)
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        raise LoginFailed("the login service offers no end_session_endpoint")
    query = {"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(query)}"
