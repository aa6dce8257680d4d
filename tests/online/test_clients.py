"""Both sides of one installation agree on the relying parties' ids and secrets, and the demo
registers both clients and lets Bind pay on the demo provider."""

import pytest

from bieb.integrations.kb.client import secret_from_env
from bieb.kb.clients import (
    ONLINE_CLIENT_ID,
    WEBSITE_CLIENT_ID,
    online_client_secret,
    website_client_secret,
)
from bieb.kb.models import OIDCApplication
from bieb.libraries.models import Library
from bieb.online import views as online_views
from bieb.signup import views as signup_views


def test_the_relying_parties_use_the_clients_the_login_service_knows() -> None:
    assert online_views.CLIENT_ID == ONLINE_CLIENT_ID
    assert signup_views.CLIENT_ID == WEBSITE_CLIENT_ID
    assert online_views._secret() == online_client_secret()
    assert signup_views._client_secret() == website_client_secret()
    assert online_client_secret() != website_client_secret()


def test_a_secret_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIEB_WEBSITE_CLIENT_SECRET", "from-env")
    assert website_client_secret() == "from-env"
    assert secret_from_env("BIEB_WEBSITE_CLIENT_SECRET", WEBSITE_CLIENT_ID) == "from-env"


@pytest.mark.django_db
def test_the_demo_registers_both_clients_and_bind_pays_on_the_demo_provider(demo: None) -> None:
    website = OIDCApplication.objects.get(client_id=WEBSITE_CLIENT_ID)
    assert website.redirect_uris.endswith("/word-lid/inlogaccount/terug/")
    assert OIDCApplication.objects.filter(client_id=ONLINE_CLIENT_ID).exists()
    assert Library.objects.get(code="bind").payment_provider == "demo"
