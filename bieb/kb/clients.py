"""The relying parties the login service knows by default: the Online Bibliotheek."""

import os

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils.crypto import salted_hmac

from bieb.kb.models import OIDCApplication

ONLINE_CLIENT_ID = "online-bibliotheek"


def online_client_secret() -> str:
    """BIEB_ONLINE_CLIENT_SECRET, or one derived from this installation's SECRET_KEY (so that
    no secret lives in the repository and both sides of one installation agree)."""
    return (
        os.environ.get("BIEB_ONLINE_CLIENT_SECRET")
        or salted_hmac("bieb.kb.online-bibliotheek", "client-secret").hexdigest()
    )


def online_client_register() -> OIDCApplication:
    """Register (or bring back) the Online Bibliotheek as a confidential client; idempotent."""
    base = settings.BIEB_BASE_URL
    values = {
        "name": "Online Bibliotheek",
        "client_type": OIDCApplication.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": OIDCApplication.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": f"{base}/online/callback/",
        "post_logout_redirect_uris": f"{base}/online/",
        "algorithm": OIDCApplication.RS256_ALGORITHM,
        "skip_authorization": True,
    }
    secret = online_client_secret()
    app = OIDCApplication.objects.filter(client_id=ONLINE_CLIENT_ID).first()
    if app is None:
        return OIDCApplication.objects.create(
            client_id=ONLINE_CLIENT_ID, client_secret=secret, **values
        )
    changed = [name for name, value in values.items() if getattr(app, name) != value]
    for name in changed:
        setattr(app, name, values[name])
    if not check_password(secret, app.client_secret):
        app.client_secret = secret
        changed.append("client_secret")
    if changed:
        app.save(update_fields=changed)
    return app
