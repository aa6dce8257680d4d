"""Many requests at the same moment get no further than the limit lets one by one: the attempt
is counted and decided in one step. PostgreSQL only, where requests really run in parallel."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from bieb.core.attempts import Limit
from bieb.core.logins import PAIR
from bieb.kb import interface, services
from bieb.kb.models import AccountEvent, AccountState, LoginAccount
from bieb.kb.services import FORGOT_PER_ACCOUNT, account_create
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "Leeslamp-Duinpan-42"
THREADS = 16


def active_account(username: str, email: str) -> LoginAccount:
    account = LoginAccount(username=username, email=email, origin="online")
    account.state = AccountState.ACTIVE
    account.set_password(PASSWORD)
    account.save()
    return account


def test_parallel_wrong_passwords_get_no_more_guesses_than_the_limit() -> None:
    active_account("doelwit", "d@example.nl")
    clients = [Client(REMOTE_ADDR="192.0.2.50") for _ in range(THREADS)]
    pages = at_once(
        [
            lambda c=c, i=i: c.post(
                "/kb/inloggen/", {"username": "doelwit", "password": f"gok-{i}"}
            )
            for i, c in enumerate(clients)
        ]
    )
    refused = [p for p in pages if "klopt niet" in p.content.decode()]
    waited = [p for p in pages if "Te veel mislukte pogingen" in p.content.decode()]
    assert len(refused) + len(waited) == THREADS
    # each guess that was checked is a failed login in the log
    assert len(refused) == AccountEvent.objects.filter(event="login.failed").count()
    assert len(refused) <= PAIR.free


def test_parallel_counter_logins_get_no_more_guesses_than_the_limit() -> None:
    User.objects.create_user("baliemw", password=settings.BIEB_DEMO_PASSWORD)
    clients = [Client(REMOTE_ADDR="192.0.2.51") for _ in range(THREADS)]
    pages = at_once(
        [
            lambda c=c, i=i: c.post(
                "/balie/inloggen/", {"username": "baliemw", "password": f"gok-{i}"}
            )
            for i, c in enumerate(clients)
        ]
    )
    refused = [p for p in pages if "klopt niet" in p.content.decode()]
    assert len(refused) <= PAIR.free
    assert all(
        "klopt niet" in p.content.decode() or "Te veel mislukte pogingen" in p.content.decode()
        for p in pages
    )


def test_parallel_forgot_password_requests_send_no_more_mails_than_the_limit() -> None:
    active_account("vergeetal", "v@example.nl")
    clients = [Client(REMOTE_ADDR=f"192.0.2.{60 + i}") for i in range(THREADS)]
    pages = at_once(
        [lambda c=c: c.post("/kb/wachtwoord-vergeten/", {"username": "vergeetal"}) for c in clients]
    )
    assert all(p.status_code == 200 for p in pages)
    assert OutboxMessage.objects.filter(kind="kb.reset").count() == FORGOT_PER_ACCOUNT.free


def test_parallel_signups_from_one_address_make_no_more_accounts_than_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small limit, so that a handful of threads can go past it.
    small = Limit(free=4, window=services.SIGNUP_PER_ADDRESS.window)
    monkeypatch.setattr(services, "SIGNUP_PER_ADDRESS", small)
    clients = [Client(REMOTE_ADDR="192.0.2.70") for _ in range(THREADS)]
    pages = at_once(
        [
            lambda c=c, i=i: c.post(
                "/kb/aanmelden/", {"username": f"nieuw{i:03d}", "email": f"n{i}@example.nl"}
            )
            for i, c in enumerate(clients)
        ]
    )
    assert all(p.status_code == 200 for p in pages)
    assert LoginAccount.objects.count() == small.free


def test_parallel_resends_send_one_new_activation_mail() -> None:
    account = account_create(username="wachtend", email="w@example.nl", origin="balie", actor="t")
    # the first mail went out two minutes ago: past its cooldown
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))

    def resend() -> str:
        try:
            interface.resend_activation(account_id=account.pk, actor="balie")
        except ValidationError as error:
            return error.code or ""
        return "sent"

    outcomes = at_once([resend for _ in range(8)])
    assert sorted(outcomes) == ["cooldown"] * 7 + ["sent"]
    assert OutboxMessage.objects.filter(kind="kb.activation").count() == 2  # first, and one more
