"""`bieb kb_api_client`: a library installation registered at the KB gets a token with the
secret the command made or was given."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.kb.api.conftest import token_request

pytestmark = pytest.mark.django_db


def test_the_command_makes_a_client_whose_secret_gets_a_token() -> None:
    out = io.StringIO()
    call_command(
        "kb_api_client", "bieb-bind", "--name", "Bieb Bind", "--library", "bind", stdout=out
    )
    match = re.search(r"client_secret: (\S+)", out.getvalue())
    assert match and "libraries: bind" in out.getvalue()
    assert token_request(Client(), "bieb-bind", match.group(1)).status_code == 200


def test_the_secret_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIND_SECRET", "gedeeld-geheim-" + "g" * 20)
    out = io.StringIO()
    call_command(
        "kb_api_client",
        "bieb-oost",
        "--name=Bieb Oost",
        "--library=oost",
        "--secret-env=BIND_SECRET",
        stdout=out,
    )
    assert "gedeeld-geheim" not in out.getvalue()
    secret = "gedeeld-geheim-" + "g" * 20
    assert token_request(Client(), "bieb-oost", secret).status_code == 200
    monkeypatch.setenv("BIND_SECRET", "kort")
    with pytest.raises(CommandError):
        call_command(
            "kb_api_client", "bieb-oost", "--name=x", "--library=oost", "--secret-env=BIND_SECRET"
        )


def test_the_library_installations_sign_members_in_at_the_kb(settings: object) -> None:
    """BIEB_ROLE=kb with BIEB_LIBRARY_URLS: the sign-up and Mijn bibliotheek of each library
    installation are redirect URIs of their clients; the KB's own base is not (no counter)."""
    from bieb.kb.clients import mijn_client_register, website_client_register

    settings.BIEB_HAS_LIBRARY = False  # type: ignore[attr-defined]
    settings.BIEB_LIBRARY_URLS = ["http://127.0.0.1:8101", "http://127.0.0.1:8102"]  # type: ignore[attr-defined]
    assert website_client_register().redirect_uris == (
        "http://127.0.0.1:8101/word-lid/inlogaccount/terug/ "
        "http://127.0.0.1:8102/word-lid/inlogaccount/terug/"
    )
    mijn = mijn_client_register()
    assert mijn.redirect_uris.split() == [
        "http://127.0.0.1:8101/mijn/terug/",
        "http://127.0.0.1:8102/mijn/terug/",
    ]
    assert mijn.post_logout_redirect_uris.split()[1] == "http://127.0.0.1:8102/mijn/"
