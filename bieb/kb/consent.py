"""The member's consent to link a library's membership to their own login account (`link-own`):
the ID token the login service issued when they signed in during the library's online sign-up.

A library learns which account a new member has by that sign-in (OpenID Connect, client
`bibliotheek-website`), but registers the customer only when the payment settles: minutes,
hours or, for a payment the provider keeps open, days later. An ID token lives an hour
(OAUTH2_PROVIDER's ID_TOKEN_EXPIRE_SECONDS), so for this one use the login service takes its
own token as consent for `LINK_OWN_CONSENT_AGE` after it was issued (`iat`), expired or not:
as long as the library keeps a sign-up whose payment has not settled (SIGNUP_LIFETIME +
UNSETTLED_GRACE in bieb.signup.services; a test keeps the two equal). What is checked:
- signed with the provider's own key (RS256), issued by this provider (`iss`);
- issued to the sign-up's client (`aud` = `bibliotheek-website`): a token of the Online
  Bibliotheek or Mijn bibliotheek is not consent to a new membership;
- about that very account (`sub`);
- issued at most LINK_OWN_CONSENT_AGE ago, and not in the future.
The token's row (the toolkit's IDToken) is not required: the toolkit's clean-up removes expired
ones within the hour, and a password change ends a member's sign-ins without withdrawing the
consent they gave by signing up. The account must still be active (bieb.kb.services).
"""

import datetime as dt
import json
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone
from jwcrypto import jwt
from jwcrypto.common import JWException
from oauth2_provider.settings import oauth2_settings

from bieb.kb.clients import WEBSITE_CLIENT_ID
from bieb.kb.oidc_models import ID_TOKEN_ALGORITHMS, OIDCApplication

# SIGNUP_LIFETIME (24 hours) + UNSETTLED_GRACE (7 days) of the library's online sign-up.
LINK_OWN_CONSENT_AGE = dt.timedelta(days=8)
# A token's `iat` may lie this far ahead of our clock (several servers, one key).
CLOCK_LEEWAY = dt.timedelta(seconds=60)

# A message, not a secret.
ID_TOKEN_REFUSED = (
    "De aanmelding bij de KB is verlopen of hoort niet bij dit inlogaccount. Laat het lid "  # noqa: S105
    "opnieuw inloggen bij de KB."
)


def consent_account(id_token: str, *, now: dt.datetime | None = None) -> uuid.UUID | None:
    """The account whose consent `id_token` is, or None when it is not consent (see above)."""
    client = OIDCApplication.objects.filter(client_id=WEBSITE_CLIENT_ID).first()
    if client is None or not id_token:
        return None
    try:
        token = jwt.JWT(
            jwt=id_token,
            key=client.jwk_key,
            algs=list(ID_TOKEN_ALGORITHMS),
            # Given claims are checked (and must be there); `exp` is left out on purpose.
            check_claims={
                "iss": oauth2_settings.OIDC_ISS_ENDPOINT,
                "aud": WEBSITE_CLIENT_ID,
                "sub": None,
                "iat": None,
            },
        )
        claims = json.loads(token.claims)
        issued = dt.datetime.fromtimestamp(int(claims["iat"]), tz=dt.UTC)
        account_id = uuid.UUID(str(claims["sub"]))
    except (JWException, ValueError, KeyError, TypeError, UnicodeError, OverflowError, OSError):
        return None
    now = now or timezone.now()
    if not now - LINK_OWN_CONSENT_AGE <= issued <= now + CLOCK_LEEWAY:
        return None
    return account_id


def link_own_consent_check(*, id_token: str, account_id: uuid.UUID) -> None:
    """Raise the Dutch refusal unless `id_token` is this account's consent to be linked."""
    if consent_account(id_token) != account_id:
        raise ValidationError({"id_token": ID_TOKEN_REFUSED}, code="invalid")
