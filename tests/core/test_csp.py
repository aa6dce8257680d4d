"""The Content-Security-Policy header: strict everywhere (no inline script or style), and on
the login service's pages the registered OIDC clients' origins as form targets (a sign-in form's
answer leads on to the client, and browsers hold that redirect to form-action)."""

import pytest
from django.test import Client

from bieb.kb.oidc_models import OIDCApplication

pytestmark = pytest.mark.django_db

STRICT = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
]


def directives(policy: str) -> dict[str, str]:
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    return {part.split(" ", 1)[0]: part for part in parts}


@pytest.mark.parametrize(
    "path", ["/balie/inloggen/", "/kb/inloggen/", "/word-lid/", "/online/", "/admin/login/"]
)
def test_every_page_has_the_strict_policy(path: str) -> None:
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    found = directives(policy)
    for directive in STRICT:
        assert found[directive.split(" ", 1)[0]] == directive
    assert found["form-action"].startswith("form-action 'self'")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_login_service_may_send_a_form_on_to_its_registered_clients() -> None:
    OIDCApplication.objects.create(
        name="Bibliotheek elders",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://bieb.example.nl/oidc/terug/ https://bieb.example.nl:8443/x/",
        post_logout_redirect_uris="https://uit.example.nl/",
    )
    kb = directives(Client().get("/kb/inloggen/")["Content-Security-Policy"])["form-action"]
    for origin in ["https://bieb.example.nl", "https://bieb.example.nl:8443", "https://uit."]:
        assert origin in kb
    # Nowhere else: the counter's forms post only to this site.
    counter = Client().get("/balie/inloggen/")["Content-Security-Policy"]
    assert directives(counter)["form-action"] == "form-action 'self'"
