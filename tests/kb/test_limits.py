"""Rate limits, CSRF and the link lifetime setting of the login service."""

import pytest
from django.test import Client, override_settings

from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import account_create
from bieb.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_signup_is_limited_per_address() -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for i in range(10):
        page = client.post(
            "/kb/aanmelden/", {"username": f"lid{i:03d}", "email": f"{i}@example.nl"}
        )
        assert "Controleer je mail" in page.content.decode()
    refused = client.post("/kb/aanmelden/", {"username": "lid999", "email": "9@example.nl"})
    assert "te veel accounts aangemaakt" in refused.content.decode()
    assert 'value="lid999"' in refused.content.decode()  # what was typed stays
    assert not LoginAccount.objects.filter(username="lid999").exists()
    other = Client(REMOTE_ADDR="192.0.2.11")
    page = other.post("/kb/aanmelden/", {"username": "lid998", "email": "8@example.nl"})
    assert "Controleer je mail" in page.content.decode()


def test_forgot_is_limited_per_address_without_telling() -> None:
    account_create(username="vergeten", email="v@example.nl", origin="online", actor="t")
    LoginAccount.objects.filter(username="vergeten").update(state=AccountState.ACTIVE)
    client = Client(REMOTE_ADDR="192.0.2.20")
    pages = [
        client.post("/kb/wachtwoord-vergeten/", {"username": "vergeten"}).content for _ in range(12)
    ]
    assert len(set(pages)) == 1  # the answer never changes
    assert OutboxMessage.objects.filter(kind="kb.reset").count() == 10


def test_every_form_needs_its_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    for path, data in [
        ("/kb/aanmelden/", {"username": "zondertoken", "email": "z@example.nl"}),
        ("/kb/inloggen/", {"username": "x", "password": "y"}),
        ("/kb/wachtwoord-vergeten/", {"username": "x"}),
        ("/kb/gebruikersnaam-vergeten/", {"email": "x@example.nl"}),
        ("/kb/uitloggen/", {}),
    ]:
        assert client.post(path, data).status_code == 403, path
    assert not LoginAccount.objects.exists()


@pytest.mark.parametrize(
    ("hours", "words"),
    [(24, "24 uur"), (1.5, "90 minuten"), (1 / 60, "1 minuut"), (0.01, "36 seconden")],
)
def test_the_mail_says_how_long_the_link_works(hours: float, words: str) -> None:
    with override_settings(BIEB_ACTIVATION_HOURS=hours):
        account = account_create(
            username="tijdelijk", email="t@example.nl", origin="online", actor="t"
        )
    assert f"De link werkt {words}, tot " in OutboxMessage.objects.get(to="t@example.nl").text_body
    assert account.activation_deadline is not None
    lifetime = (account.activation_deadline - account.created_at).total_seconds()
    assert abs(lifetime - hours * 3600) < 2
