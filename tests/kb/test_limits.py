"""Rate limits, CSRF and the link lifetime setting of the login service."""

import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import (
    FORGOT_PER_ACCOUNT,
    FORGOT_PER_ADDRESS,
    SIGNUP_PER_ADDRESS,
    SIGNUP_PER_EMAIL,
    account_create,
)
from bieb.mail.models import OutboxMessage
from tests.smtp import SmtpServer

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

pytestmark = pytest.mark.django_db


def signup(client: Client, number: int, email: str = "") -> str:
    data = {"username": f"lid{number:03d}", "email": email or f"{number}@example.nl"}
    return client.post("/kb/aanmelden/", data).content.decode()


def test_an_event_of_thirty_newcomers_behind_one_address_can_all_sign_up() -> None:
    # Before: the eleventh sign-up from one address in an hour was refused for the hour.
    client = Client(REMOTE_ADDR="192.0.2.10")
    for number in range(SIGNUP_PER_ADDRESS.free):
        assert "Controleer je mail" in signup(client, number)
    assert LoginAccount.objects.count() == SIGNUP_PER_ADDRESS.free


def test_past_that_one_address_waits_longer_and_longer_and_what_was_typed_stays() -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for number in range(SIGNUP_PER_ADDRESS.free):
            signup(client, number)
        refused = signup(client, 999)
        assert "Probeer het over 2 seconden opnieuw" in refused
        assert 'value="lid999"' in refused  # what was typed stays
        assert not LoginAccount.objects.filter(username="lid999").exists()
        clock.shift(dt.timedelta(seconds=2))
        assert "Controleer je mail" in signup(client, 999)
        assert "Probeer het over 4 seconden opnieuw" in signup(client, 998)
        other = Client(REMOTE_ADDR="192.0.2.11")
        assert "Controleer je mail" in signup(other, 997)


def test_one_e_mail_address_gets_only_a_few_sign_ups_a_day() -> None:
    for number in range(SIGNUP_PER_EMAIL.free):
        client = Client(REMOTE_ADDR=f"192.0.2.{number}")
        assert "Controleer je mail" in signup(client, number, email="Slachtoffer@example.nl")
    refused = signup(Client(REMOTE_ADDR="198.51.100.9"), 99, email="slachtoffer@example.nl")
    assert "Met dit e-mailadres zijn vandaag al een paar inlogaccounts aangemaakt" in refused
    assert "Probeer het over 24 uur opnieuw" in refused
    assert OutboxMessage.objects.filter(to__iexact="slachtoffer@example.nl").count() == 3


def test_typing_errors_do_not_count_towards_the_limit() -> None:
    client = Client(REMOTE_ADDR="192.0.2.12")
    for _ in range(SIGNUP_PER_ADDRESS.free + 5):
        client.post("/kb/aanmelden/", {"username": "X!", "email": "geen-adres"})
    assert "Controleer je mail" in signup(client, 1)


def active(username: str, email: str) -> None:
    account_create(username=username, email=email, origin="online", actor="t")
    LoginAccount.objects.filter(username=username).update(state=AccountState.ACTIVE)


def test_one_member_gets_at_most_a_few_reset_mails_an_hour_whoever_asks(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    active("vergeten", "v@example.nl")
    smtp_server.received.clear()
    pages = []
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(10):  # from ten addresses: the per-address limit does not help
            client = Client(REMOTE_ADDR=f"192.0.2.{20 + number}")
            pages.append(client.post("/kb/wachtwoord-vergeten/", {"username": "vergeten"}))
            pages.append(client.post("/kb/wachtwoord-vergeten/", {"username": "niemand"}))
    assert len({page.content for page in pages}) == 1  # the answer never changes
    assert smtp_server.recipients == [["v@example.nl"]] * FORGOT_PER_ACCOUNT.free
    with time_machine.travel(timezone.now() + FORGOT_PER_ACCOUNT.window):
        with django_capture_on_commit_callbacks(execute=True):
            Client().post("/kb/wachtwoord-vergeten/", {"username": "vergeten"})
        assert len(smtp_server.received) == FORGOT_PER_ACCOUNT.free + 1


def test_one_address_gets_at_most_a_few_username_mails_an_hour_whoever_asks(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    active("vergeten1", "v@example.nl")
    active("vergeten2", "v@example.nl")
    smtp_server.received.clear()
    pages = []
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(10):
            client = Client(REMOTE_ADDR=f"192.0.2.{40 + number}")
            pages.append(client.post("/kb/gebruikersnaam-vergeten/", {"email": "V@example.nl"}))
            pages.append(client.post("/kb/gebruikersnaam-vergeten/", {"email": "x@example.nl"}))
    assert len({page.content for page in pages}) == 1
    assert smtp_server.recipients == [["v@example.nl"]] * FORGOT_PER_ACCOUNT.free


def test_forgot_is_limited_per_address_without_telling() -> None:
    client = Client(REMOTE_ADDR="192.0.2.20")
    for number in range(FORGOT_PER_ADDRESS.free):
        active(f"vergeten{number}", f"v{number}@example.nl")
    active("nogeen", "n@example.nl")
    pages = [
        client.post("/kb/wachtwoord-vergeten/", {"username": f"vergeten{number}"}).content
        for number in range(FORGOT_PER_ADDRESS.free)
    ]
    pages.append(client.post("/kb/wachtwoord-vergeten/", {"username": "nogeen"}).content)
    assert len(set(pages)) == 1  # the answer never changes
    assert OutboxMessage.objects.filter(kind="kb.reset").count() == FORGOT_PER_ADDRESS.free
    assert not OutboxMessage.objects.filter(kind="kb.reset", to="n@example.nl").exists()


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


def test_a_very_long_e_mail_address_is_counted_too() -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60, "c" * 60, "d" * 60]) + ".nl"
    assert len(email) == 250
    client = Client(REMOTE_ADDR="192.0.2.13")
    for number in range(SIGNUP_PER_EMAIL.free):
        assert "Controleer je mail" in signup(client, number, email=email)
    assert "Met dit e-mailadres zijn vandaag al" in signup(client, 99, email=email)
