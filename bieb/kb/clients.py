"""The relying parties the login service knows by default: the Online Bibliotheek, the
library website (online sign-up) and Mijn bibliotheek (`/mijn/<library>/`, a client of its own:
the member sees by its name where they signed in, and its redirect URIs are its own)."""

import os

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.crypto import salted_hmac

from bieb.core.hashers import configured_matches
from bieb.kb.models import OIDCApplication

ONLINE_CLIENT_ID = "online-bibliotheek"
WEBSITE_CLIENT_ID = "bibliotheek-website"
MIJN_CLIENT_ID = "mijn-bibliotheek"


def online_client_secret() -> str:
    """BIEB_ONLINE_CLIENT_SECRET, or one derived from this installation's SECRET_KEY (so that
    no secret lives in the repository and both sides of one installation agree)."""
    return (
        os.environ.get("BIEB_ONLINE_CLIENT_SECRET")
        or salted_hmac("bieb.kb.online-bibliotheek", "client-secret").hexdigest()
    )


def website_client_secret() -> str:
    """BIEB_WEBSITE_CLIENT_SECRET, or derived from SECRET_KEY like the Online Bibliotheek's."""
    return (
        os.environ.get("BIEB_WEBSITE_CLIENT_SECRET")
        or salted_hmac(f"bieb.kb.{WEBSITE_CLIENT_ID}", "client-secret").hexdigest()
    )


def online_client_register() -> OIDCApplication:
    """Register (or bring back) the Online Bibliotheek as a confidential client; idempotent."""
    base = settings.BIEB_BASE_URL
    return _client_register(
        client_id=ONLINE_CLIENT_ID,
        secret=online_client_secret(),
        name="Online Bibliotheek",
        redirect_uris=f"{base}/online/callback/",
        post_logout_redirect_uris=f"{base}/online/uitgelogd/",
    )


def library_sites() -> list[str]:
    """The base URLs where the library side's relying parties (sign-up, Mijn bibliotheek) run:
    this installation when it serves the library side (BIEB_ROLE=all), and each library
    installation this KB serves (BIEB_LIBRARY_URLS, BIEB_ROLE=kb)."""
    own = [settings.BIEB_BASE_URL] if settings.BIEB_HAS_LIBRARY else []
    return list(dict.fromkeys([*own, *settings.BIEB_LIBRARY_URLS]))


def website_client_register() -> OIDCApplication:
    """Register (or bring back) the library website's sign-up as a confidential client, which
    learns there which login account a new member has; idempotent."""
    return _client_register(
        client_id=WEBSITE_CLIENT_ID,
        secret=website_client_secret(),
        name="Website van de bibliotheek (inschrijven)",
        redirect_uris=" ".join(f"{base}/word-lid/inlogaccount/terug/" for base in library_sites()),
        post_logout_redirect_uris="",
    )


def mijn_client_secret() -> str:
    """BIEB_MIJN_CLIENT_SECRET, or derived from SECRET_KEY as the other clients' are."""
    return (
        os.environ.get("BIEB_MIJN_CLIENT_SECRET")
        or salted_hmac(f"bieb.kb.{MIJN_CLIENT_ID}", "client-secret").hexdigest()
    )


def mijn_client_register() -> OIDCApplication:
    """Register (or bring back) Mijn bibliotheek as a confidential client; idempotent."""
    sites = library_sites()
    return _client_register(
        client_id=MIJN_CLIENT_ID,
        secret=mijn_client_secret(),
        name="Mijn bibliotheek",
        redirect_uris=" ".join(f"{base}/mijn/terug/" for base in sites),
        post_logout_redirect_uris=" ".join(f"{base}/mijn/" for base in sites),
    )


def clients_register_defaults() -> None:
    """The three clients every installation has, not only the demo: run after each `bieb
    migrate` (so a changed BIEB_BASE_URL or secret is taken up by the next deploy)."""
    online_client_register()
    website_client_register()
    mijn_client_register()


def clients_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate receiver: register the default clients once the KB's tables exist (there
    is one database; the KB's migrations may have been rolled back with `bieb migrate kb zero`)."""
    if using != DEFAULT_DB_ALIAS:
        return
    if OIDCApplication._meta.db_table in connections[using].introspection.table_names():
        clients_register_defaults()


def _client_register(
    *, client_id: str, secret: str, name: str, redirect_uris: str, post_logout_redirect_uris: str
) -> OIDCApplication:
    values = {
        "name": name,
        "client_type": OIDCApplication.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": OIDCApplication.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris,
        "algorithm": OIDCApplication.RS256_ALGORITHM,
        "skip_authorization": True,
    }
    app = OIDCApplication.objects.filter(client_id=client_id).first()
    if app is None:
        return OIDCApplication.objects.create(client_id=client_id, client_secret=secret, **values)
    changed = [key for key, value in values.items() if getattr(app, key) != value]
    for key in changed:
        setattr(app, key, values[key])
    if not configured_matches(secret, app.client_secret):
        app.client_secret = secret
        changed.append("client_secret")
    if changed:
        app.save(update_fields=changed)
    return app
