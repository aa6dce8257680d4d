"""django-oauth-toolkit's models, swapped so that tokens and grants belong to a LoginAccount
(the login service's member) rather than to Django's user model (the library staff)."""

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

    class Meta(AbstractApplication.Meta):
        verbose_name = "OIDC-client"
        verbose_name_plural = "OIDC-clients"

    def clean(self) -> None:
        if self.algorithm not in ID_TOKEN_ALGORITHMS:
            raise ValidationError(
                {"algorithm": "De inlogdienst ondertekent ID-tokens alleen met RS256."}
            )
        super().clean()


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
