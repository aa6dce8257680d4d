"""Who calls the KB's API: a library system, with an OAuth2 access token from the login
service's own provider (client credentials grant, `POST /kb/token/`, scope `kb.accounts`).

A library system is an OIDCApplication with the client credentials grant and the codes of the
libraries it may act for (`library_codes`); only such an application gets the scope
(`LibraryScopes`), and a call for a library outside its codes is refused (403). The token, its
application and so its libraries are read in one query (django-oauth-toolkit's token lookup);
then the call is counted against the client's rate limit (bieb.core.attempts, per minute).
"""

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security.base import AuthBase
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.scopes import SettingsScopes

from bieb.core.attempts import Limit, attempts_take, wait_words
from bieb.kb.api.problems import Problem, unauthorized
from bieb.kb.oidc_models import OIDCApplication

SCOPE = "kb.accounts"
# Who at the library made the call (a staff member's user name), for the KB's logs and the
# limits per staff member; optional.
ACTOR_HEADER = "Bieb-Actor"


@dataclass(frozen=True)
class ApiClient:
    """The library system behind a call (`request.auth`)."""

    client_id: str
    name: str
    library_codes: frozenset[str]


def is_library_system(application: OIDCApplication | None) -> bool:
    return (
        application is not None
        and application.authorization_grant_type == OIDCApplication.GRANT_CLIENT_CREDENTIALS
        and bool(application.library_code_list())
    )


class LibraryScopes(SettingsScopes):
    """`kb.accounts` for library systems only, and only that for them: a member's sign-in at a
    relying party can never carry it, and a library system's token is good for nothing else."""

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if is_library_system(application):
            return [SCOPE]
        return [
            scope for scope in super().get_available_scopes(application, request) if scope != SCOPE
        ]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if is_library_system(application):
            return [SCOPE]
        return [
            scope for scope in super().get_default_scopes(application, request) if scope != SCOPE
        ]


def rate_limit() -> Limit:
    return Limit(free=settings.BIEB_KB_API_CALLS_PER_MINUTE, window=dt.timedelta(minutes=1))


class ClientToken(AuthBase):
    """The bearer token of a library system (RFC 6750, header only)."""

    openapi_type = "oauth2"
    openapi_description = (
        "OAuth2 client credentials at the login service's own provider: `POST /kb/token/` "
        "with the library system's client id and secret (HTTP Basic) and "
        "`grant_type=client_credentials&scope=kb.accounts`."
    )
    openapi_flows = {
        "clientCredentials": {
            "tokenUrl": "/kb/token/",
            "scopes": {SCOPE: "Inlogaccounts van de eigen bibliotheken beheren"},
        }
    }

    def __call__(self, request: HttpRequest) -> ApiClient:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(error="")
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[SCOPE])
        if not valid:
            error = (getattr(oauth_request, "oauth2_error", None) or {}).get("error", "")
            if error == "insufficient_scope":
                raise Problem(
                    "forbidden",
                    "Dit toegangstoken geeft geen toegang tot de KB-API (scope kb.accounts).",
                    headers={
                        "WWW-Authenticate": 'Bearer realm="kb-api", error="insufficient_scope", '
                        f'scope="{SCOPE}"'
                    },
                )
            raise unauthorized()
        application = oauth_request.access_token.application
        if not is_library_system(application) or oauth_request.access_token.user_id is not None:
            raise unauthorized()
        client = ApiClient(
            client_id=application.client_id,
            name=application.name,
            library_codes=frozenset(application.library_code_list()),
        )
        request.kb_api_client = client  # type: ignore[attr-defined]  # for the call log
        taken = attempts_take(limits={f"kb-api:{client.client_id}": rate_limit()})
        if taken.refused:
            raise Problem(
                "client-rate-limited",
                "Te veel verzoeken van dit bibliotheeksysteem. Probeer het over "
                f"{wait_words(taken.wait)} opnieuw.",
                headers={"Retry-After": str(max(1, math.ceil(taken.wait.total_seconds())))},
            )
        library = (request.resolver_match.kwargs if request.resolver_match else {}).get("library")
        if library is not None and library not in client.library_codes:
            raise Problem("forbidden")
        return client


def actor(request: HttpRequest) -> str:
    """The actor of a change made through the API, for the security log and the limits that
    count per staff member: `api:<client id>`, with the staff member the client names."""
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    staff = "".join(ch for ch in request.headers.get(ACTOR_HEADER, "") if ch.isprintable())
    name = f"api:{client.client_id}" + (f":{staff.strip()}" if staff.strip() else "")
    return name[:150]
