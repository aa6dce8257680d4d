"""Rate limits, CSRF and the link lifetime setting of the login service."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

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


PASSWORD = "Leeslamp-Duinpan-42"
# In the server's own zone: then the process's local time (which Django's token timestamps
# would use) differs from UTC, as it does on a real server.
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def mailed_path(to: str, kind: str) -> str:
    text = OutboxMessage.objects.filter(to=to, kind=kind).latest("id").text_body
    match = re.search(r"https?://[^/\s]+(/kb/\S+)", text)
    assert match, text
    return match.group(1)


@override_settings(BIEB_ACTIVATION_HOURS=100)
def test_an_activation_link_works_as_long_as_the_setting_says_also_past_three_days(
    client: Client,
) -> None:
    """Django's own token timeout (3 days) plays no part: the setting alone decides, and the
    mail, the deadline and the link agree on it."""
    with time_machine.travel(START, tick=False):
        account = account_create(
            username="geduldig", email="g@example.nl", origin="online", actor="t"
        )
    assert account.activation_deadline == START + dt.timedelta(hours=100)
    text = OutboxMessage.objects.get(to="g@example.nl").text_body
    deadline = timezone.localtime(START + dt.timedelta(hours=100))
    assert f"De link werkt 100 uur, tot {deadline:%d-%m-%Y om %H:%M}" in text
    path = mailed_path("g@example.nl", "kb.activation")
    with time_machine.travel(START + dt.timedelta(hours=99, minutes=59), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(START + dt.timedelta(hours=100), tick=False):
        assert client.get(path).status_code == 410
        assert client.post(path, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 410
    with time_machine.travel(START + dt.timedelta(hours=100, seconds=-1), tick=False):
        done = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
        assert done.status_code in (200, 302)
    assert LoginAccount.objects.get(username="geduldig").state == AccountState.ACTIVE


@pytest.mark.parametrize("hours", [2, 100])
def test_a_reset_link_works_exactly_as_long_as_its_own_setting_says(
    client: Client, hours: int
) -> None:
    """The reset link's lifetime is its own setting (not the activation's), and the mail says
    it: a link that lived longer than promised (say 30 times) fails here."""
    account = account_create(username="herstel", email="h@example.nl", origin="online", actor="t")
    LoginAccount.objects.filter(pk=account.pk).update(state=AccountState.ACTIVE)
    with (
        override_settings(BIEB_RESET_HOURS=hours, BIEB_ACTIVATION_HOURS=1),
        time_machine.travel(START, tick=False),
    ):
        client.post("/kb/wachtwoord-vergeten/", {"username": "herstel"})
        assert f"(hij werkt {hours} uur en maar één keer)" in (
            OutboxMessage.objects.get(kind="kb.reset").text_body
        )
    path = mailed_path("h@example.nl", "kb.reset")
    with override_settings(BIEB_RESET_HOURS=hours, BIEB_ACTIVATION_HOURS=1):
        with time_machine.travel(START + dt.timedelta(hours=hours, seconds=-1), tick=False):
            assert client.get(path).status_code == 200
        with time_machine.travel(START + dt.timedelta(hours=hours), tick=False):
            assert client.get(path).status_code == 410
            new = "Nieuwe-Leeslamp-77"
            assert client.post(path, {"password1": new, "password2": new}).status_code == 410
