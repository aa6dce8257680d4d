"""The OpenID Connect provider of the login service, on django-oauth-toolkit.

The issuer is `<BIEB_BASE_URL>/kb`. Members sign in with the login service's own session
(`bieb.kb.session`), not Django's staff login; the authorization view hands that account to
the toolkit as `request.user`.

Discovery says what the provider does, no more: response type `code` only (the one setting
OIDC_RESPONSE_TYPES_SUPPORTED, which the validator enforces too), ID tokens signed with RS256
only (`ID_TOKEN_ALGORITHMS`, which client registration enforces), the claims that are really
given, and `prompt=none` answered without a page (OIDC Core 3.1.2.6).
"""

import hashlib
import json
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import path, re_path
from jwcrypto.common import JWException
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import InvalidIDTokenError, InvalidOIDCClientError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import add_params_to_uri

from bieb.core.http import client_address
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.kb.oidc_models import (
    ID_TOKEN_ALGORITHMS,
    OIDCAccessToken,
    OIDCApplication,
    OIDCIDToken,
    OIDCRefreshToken,
)
from bieb.kb.services import event_record
from bieb.kb.session import current_account, kb_logout

# The account signed in at the login service for the authorization request being handled
# (oauthlib's request carries no user while it validates one; prompt=none needs to know).
_signed_in: ContextVar[LoginAccount | None] = ContextVar("kb_signed_in", default=None)

# The ID token's own claims (OIDC Core 2) that this provider sets, besides `sub`.
ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce")
# The member's claims (get_additional_claims), in the ID token and from userinfo.
USER_CLAIMS = ("preferred_username", "email", "email_verified", "memberships")


def memberships_claim(account: LoginAccount) -> list[dict[str, Any]]:
    """The linked memberships with their digital rights and valid-through date."""
    return [
        {
            "library": m.library_code,
            "library_name": m.library_name,
            "customer_number": m.customer_number,
            "subscription": m.subscription_code,
            "digital_rights": m.digital_rights,
            "valid_through": m.valid_through.isoformat() if m.valid_through else None,
            "state": m.state,
            "pay_url": m.pay_url,
        }
        for m in LinkedMembership.objects.filter(account=account).order_by("library_code")
    ]


class Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "memberships": "openid",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        account: LoginAccount = request.user
        return {
            "preferred_username": account.username,
            "email": account.email,
            "email_verified": account.email_verified,
            "memberships": memberships_claim(account),
        }

    def get_discovery_claims(self, request: Any) -> list[str]:
        # The toolkit lists only "sub" when the claims depend on the request, as ours do.
        return ["sub", *ID_TOKEN_CLAIMS, *USER_CLAIMS]

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # Only what discovery advertises, whatever grant type a client was registered with.
        return response_type in oauth2_settings.OIDC_RESPONSE_TYPES_SUPPORTED and bool(
            super().validate_response_type(
                client_id, response_type, client, request, *args, **kwargs
            )
        )

    def validate_bearer_token(self, token: str, scopes: Any, request: Any) -> bool:
        # RFC 6750 2.1 only: oauthlib also takes `access_token` from the query string or the
        # body, where it ends up in access logs and caches.
        scheme, _, sent = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or sent.strip() != token:
            return False
        return bool(super().validate_bearer_token(token, scopes, request))

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        # RFC 6749 4.1.2: a code presented again (it is deleted when used) may have been stolen;
        # revoke every token that came from it, refreshed ones included. Only the client's own:
        # no client may revoke another's tokens (as at the revocation endpoint, RFC 7009 2.1).
        families = OIDCRefreshToken.objects.filter(
            code_checksum=_checksum(code), application=client
        ).values_list("token_family", flat=True)
        for family in list(families):
            OIDCRefreshToken.revoke_family(family)
        return False

    def _create_refresh_token(
        self, request: Any, refresh_token_code: str, access_token: Any, previous_refresh_token: Any
    ) -> Any:
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        if previous_refresh_token is None and request.grant_type == "authorization_code":
            refresh_token.code_checksum = _checksum(request.code)
            refresh_token.save(update_fields=["code_checksum"])
        return refresh_token

    def validate_user_match(
        self, id_token_hint: str | None, scopes: Any, claims: Any, request: Any
    ) -> bool:
        """OIDC Core 3.1.2.2: an ID token hint about another member than the one signed in (or
        one we cannot read, or an expired one) is answered login_required, never with a code
        for someone else."""
        if not id_token_hint:
            return True
        account = _signed_in.get()
        try:
            hinted = self._load_id_token(id_token_hint)
        except (JWException, ValueError):
            return False
        return account is not None and hinted is not None and hinted.user_id == account.pk

    def validate_silent_login(self, request: Any) -> bool:
        """prompt=none: only for a member signed in at the login service."""
        return _signed_in.get() is not None

    def validate_silent_authorization(self, request: Any) -> bool:
        """prompt=none: only where no consent page would be shown (the toolkit asks for consent
        unless the client skips it; all of ours do)."""
        return bool(request.client.skip_authorization)


def _checksum(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class AuthorizationView(dot_views.AuthorizationView):
    """The toolkit's authorization endpoint, signed in through the login service's own pages."""

    login_url = "/kb/inloggen/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request)
        request.user = account if account is not None else AnonymousUser()  # type: ignore[assignment]
        signed_in = _signed_in.set(account)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            _signed_in.reset(signed_in)


class DiscoveryView(dot_views.ConnectDiscoveryInfoView):
    """The toolkit's discovery document, with the signing algorithms this provider uses (the
    toolkit lists HS256 whenever an RSA key is set too)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["id_token_signing_alg_values_supported"] = list(ID_TOKEN_ALGORITHMS)
        truthful = JsonResponse(data)
        truthful["Access-Control-Allow-Origin"] = "*"
        return truthful


class LogoutView(dot_views.RPInitiatedLogoutView):
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), the `end_session_endpoint`.

    A client that names the member signed in here (`id_token_hint`) signs them out of the login
    service at once; otherwise the member is asked (kb/logout_confirm.html). What ends is this
    browser's session at the login service and the tokens of the sign-in the hint names, not
    the member's sessions and tokens on other devices ("Overal uitloggen" does that). A hint
    that cannot be used (expired and cleared, or not ours) counts as none: the member is asked.
    """

    template_name = "kb/logout_confirm.html"
    _hinted: OIDCIDToken | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request)
        request.user = account if account is not None else AnonymousUser()  # type: ignore[assignment]
        self._hinted = None
        return super().dispatch(request, *args, **kwargs)

    def validate_logout_request_user(self, id_token_hint: Any, client_id: Any) -> Any:
        try:
            self._hinted = super().validate_logout_request_user(id_token_hint, client_id)
        except InvalidIDTokenError:
            self._hinted = None
        return self._hinted

    def get_request_application(self, id_token: Any, client_id: Any) -> Any:
        if client_id:
            application = OIDCApplication.objects.filter(client_id=client_id).first()
            if application is None:
                raise InvalidOIDCClientError()
            return application
        return id_token.application if id_token else None

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: Any = None,
        state: Any = None,
        token_user: Any = None,
    ) -> HttpResponse:
        if self._hinted is not None:
            _sign_in_tokens_end(self._hinted)
        account = current_account(self.request)
        if account is not None:
            event_record(
                event="logout",
                account=account,
                ip=client_address(self.request),
                data={"client": application.client_id if application else ""},
            )
        kb_logout(self.request)
        if post_logout_redirect_uri:
            target = (
                add_params_to_uri(post_logout_redirect_uri, [("state", state)])
                if state
                else post_logout_redirect_uri
            )
            return OAuth2ResponseRedirect(target, application.get_allowed_schemes())
        return OAuth2ResponseRedirect(
            self.request.build_absolute_uri("/kb/inloggen/"),
            oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES,
        )


def _sign_in_tokens_end(id_token: OIDCIDToken) -> None:
    """End the access and refresh tokens given with this ID token (the whole refresh family),
    and the ID token itself."""
    for access in OIDCAccessToken.objects.filter(id_token=id_token):
        families = OIDCRefreshToken.objects.filter(access_token=access).values_list(
            "token_family", flat=True
        )
        for family in [f for f in families if f]:
            OIDCRefreshToken.revoke_family(family)
        OIDCRefreshToken.objects.filter(access_token=access).delete()
        access.delete()
    OIDCIDToken.objects.filter(pk=id_token.pk).delete()


# The endpoints the login service offers; the toolkit's application management, device flow
# and dynamic registration pages are left out.
urlpatterns = [
    path("authorize/", AuthorizationView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
    path("logout/", LogoutView.as_view(), name="rp-initiated-logout"),
]
