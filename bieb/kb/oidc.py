"""The OpenID Connect provider of the login service, on django-oauth-toolkit.

The issuer is `<BIEB_BASE_URL>/kb`. Members sign in with the login service's own session
(`bieb.kb.session`), not Django's staff login; the authorization view hands that account to
the toolkit as `request.user`.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from django.urls import path, re_path
from oauth2_provider import views as dot_views
from oauth2_provider.oauth2_validators import OAuth2Validator

from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.kb.session import current_account


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


class AuthorizationView(dot_views.AuthorizationView):
    """The toolkit's authorization endpoint, signed in through the login service's own pages."""

    login_url = "/kb/inloggen/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request)
        request.user = account if account is not None else AnonymousUser()  # type: ignore[assignment]
        return super().dispatch(request, *args, **kwargs)


# The endpoints the login service offers; the toolkit's application management, device flow
# and dynamic registration pages are left out.
urlpatterns = [
    path("authorize/", AuthorizationView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot_views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
]
