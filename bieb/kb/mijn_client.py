"""The relying party "Mijn bibliotheek" (`/mijn/<library>/`, app `bieb.mijn`), registered with
the login service like the two in `bieb.kb.clients`. A client of its own (not the sign-up's):
the member sees by its name where they signed in, and its redirect and post-logout URIs are its
own. Kept apart from `clients.py` so that the two can change independently."""

import os

from django.conf import settings
from django.utils.crypto import salted_hmac

from bieb.kb.clients import _client_register
from bieb.kb.models import OIDCApplication

MIJN_CLIENT_ID = "mijn-bibliotheek"


def mijn_client_secret() -> str:
    """BIEB_MIJN_CLIENT_SECRET, or derived from SECRET_KEY as the other clients' are."""
    return (
        os.environ.get("BIEB_MIJN_CLIENT_SECRET")
        or salted_hmac(f"bieb.kb.{MIJN_CLIENT_ID}", "client-secret").hexdigest()
    )


def mijn_client_register() -> OIDCApplication:
    """Register (or bring back) Mijn bibliotheek as a confidential client; idempotent."""
    base = settings.BIEB_BASE_URL
    return _client_register(
        client_id=MIJN_CLIENT_ID,
        secret=mijn_client_secret(),
        name="Mijn bibliotheek",
        redirect_uris=f"{base}/mijn/terug/",
        post_logout_redirect_uris=f"{base}/mijn/",
    )
