"""Library systems as clients of the KB's API: an OIDCApplication with the client credentials
grant and the libraries it may act for. Made in the admin (OIDC-clients) or with
`bieb kb_api_client`."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction

from bieb.kb.oidc_models import OIDCApplication


@transaction.atomic
def library_system_register(
    *, client_id: str, name: str, library_codes: list[str], secret: str = ""
) -> tuple[OIDCApplication, str]:
    """Register (or update) a library system; returns it with its client secret, which is
    stored hashed: the caller hands it over once. A new secret is made unless one is given
    (an existing client keeps its secret when none is given)."""
    app = OIDCApplication.objects.select_for_update().filter(client_id=client_id).first()
    if app is not None and app.authorization_grant_type != OIDCApplication.GRANT_CLIENT_CREDENTIALS:
        raise ValidationError(f"Client {client_id} is geen bibliotheeksysteem.")
    if app is None:
        secret = secret or secrets.token_urlsafe(32)
        app = OIDCApplication(
            client_id=client_id,
            client_type=OIDCApplication.CLIENT_CONFIDENTIAL,
            authorization_grant_type=OIDCApplication.GRANT_CLIENT_CREDENTIALS,
            algorithm=OIDCApplication.RS256_ALGORITHM,
            skip_authorization=True,
        )
    app.name = name
    app.library_codes = " ".join(library_codes)
    if secret:
        app.client_secret = secret
    app.full_clean(exclude=["client_secret"] if not secret else None)
    app.save()
    return app, secret
