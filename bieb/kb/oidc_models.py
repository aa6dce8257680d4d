"""django-oauth-toolkit's models, swapped so that tokens and grants belong to a LoginAccount
(the login service's member) rather than to Django's user model (the library staff)."""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractDeviceGrant,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)


def _account(*, optional: bool = False) -> "models.ForeignKey[Any, Any]":
    """The member a grant or token belongs to (optional where the toolkit allows none)."""
    return models.ForeignKey(
        "kb.LoginAccount",
        on_delete=models.CASCADE,
        null=optional,
        blank=optional,
        related_name="+",
        verbose_name="account",
    )


# The only algorithm ID tokens are signed with (what discovery advertises): the provider's RSA
# key. HS256 would sign with the client's secret, which is stored hashed here.
ID_TOKEN_ALGORITHMS = (AbstractApplication.RS256_ALGORITHM,)
# A library's code as the KB knows it (LinkedMembership.library_code).
LIBRARY_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,29}")


class OIDCApplication(AbstractApplication):
    # The owner is a staff member (or nobody), never a member's login account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="eigenaar",
    )
    # A library system (a client with the client credentials grant) may use the KB's API
    # (bieb.kb.api) for these libraries only. On the application itself, so that the token
    # check reads it with the token, in one query.
    library_codes = models.CharField(
        "bibliotheken (KB-API)",
        max_length=500,
        blank=True,
        help_text=(
            "Codes van de bibliotheken waarvoor dit bibliotheeksysteem de KB-API mag gebruiken, "
            "gescheiden door spaties (alleen bij grant type client credentials)."
        ),
    )

    class Meta(AbstractApplication.Meta):
        verbose_name = "OIDC-client"
        verbose_name_plural = "OIDC-clients"

    def clean(self) -> None:
        if self.algorithm not in ID_TOKEN_ALGORITHMS:
            raise ValidationError(
                {"algorithm": "De inlogdienst ondertekent ID-tokens alleen met RS256."}
            )
        codes = self.library_code_list()
        if codes and self.authorization_grant_type != self.GRANT_CLIENT_CREDENTIALS:
            raise ValidationError(
                {
                    "library_codes": "Alleen een bibliotheeksysteem (grant type client "
                    "credentials) gebruikt de KB-API voor bibliotheken."
                }
            )
        if any(not LIBRARY_CODE.fullmatch(code) for code in codes):
            raise ValidationError(
                {
                    "library_codes": "Een bibliotheekcode heeft 1 tot 30 tekens: kleine letters, "
                    "cijfers, streepje of liggend streepje."
                }
            )
        self.library_codes = " ".join(codes)
        super().clean()

    def library_code_list(self) -> list[str]:
        """The libraries this client may act for at the KB's API, sorted, each once."""
        return sorted(set(self.library_codes.lower().split()))


class OIDCGrant(AbstractGrant):
    user = _account()

    class Meta(AbstractGrant.Meta):
        verbose_name = "autorisatiecode"
        verbose_name_plural = "autorisatiecodes"


class OIDCIDToken(AbstractIDToken):
    user = _account(optional=True)

    class Meta(AbstractIDToken.Meta):
        verbose_name = "ID-token"
        verbose_name_plural = "ID-tokens"


class OIDCAccessToken(AbstractAccessToken):
    user = _account(optional=True)

    class Meta(AbstractAccessToken.Meta):
        verbose_name = "toegangstoken"
        verbose_name_plural = "toegangstokens"


class OIDCRefreshToken(AbstractRefreshToken):
    user = _account()
    # SHA-256 of the authorization code this token's family (token_family) started from, so
    # that a replayed code can revoke what it gave (RFC 6749 4.1.2). Set on the family's first
    # token only.
    code_checksum = models.CharField(
        "controlegetal autorisatiecode", max_length=64, blank=True, db_index=True, editable=False
    )

    class Meta(AbstractRefreshToken.Meta):
        verbose_name = "verversingstoken"
        verbose_name_plural = "verversingstokens"


class OIDCDeviceGrant(AbstractDeviceGrant):
    user = _account(optional=True)

    class Meta(AbstractDeviceGrant.Meta):
        verbose_name = "apparaatcode"
        verbose_name_plural = "apparaatcodes"
        # The toolkit's constraint, with a Dutch sentence for the admin.
        constraints = [
            models.UniqueConstraint(
                fields=["device_code"],
                name="%(app_label)s_%(class)s_unique_device_code",
                violation_error_message="Er is al een apparaatcode met deze waarde.",
            ),
        ]
