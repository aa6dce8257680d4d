"""Logging in: throttles, the new session id, and the bookkeeping of a login in one commit."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bieb.core.logins import ACCOUNT, ADDRESS, PAIR
from bieb.core.models import Throttle
from bieb.core.sessions import SessionStore
from bieb.kb.models import AccountEvent, AccountState, LoginAccount
from bieb.kb.services import account_authenticate, password_reset
from bieb.kb.session import SESSION_KEY
from bieb.kb.tokens import reset_tokens

pytestmark = pytest.mark.django_db

PASSWORD = "Leeslamp-Duinpan-42"
LOGIN = "/kb/inloggen/"
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@pytest.fixture
def account() -> LoginAccount:
    account = LoginAccount(
        username="inlogger", email="i@example.nl", origin="online", state=AccountState.ACTIVE
    )
    account.set_password(PASSWORD)
    account.save()
    return account


def session_id(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_login_gives_a_new_session_id_and_the_old_one_is_gone(
    client: Client, account: LoginAccount
) -> None:
    before = client.session
    before["gekozen"] = "bind"  # something the visitor chose before logging in
    before.save()
    old = session_id(client)

    response = client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})

    assert response.status_code == 302
    new = session_id(client)
    assert new != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(new)[SESSION_KEY] == str(account.pk)
    assert SessionStore(new)["gekozen"] == "bind"


def test_a_planted_session_id_is_not_signed_in_after_the_victim_logs_in(
    account: LoginAccount,
) -> None:
    attacker = Client()
    planted = attacker.session
    planted["x"] = 1
    planted.save()
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = session_id(attacker)

    victim.post(LOGIN, {"username": "inlogger", "password": PASSWORD})

    assert "inlogger" in victim.get("/kb/").content.decode()
    assert attacker.get("/kb/").status_code == 302  # back to the login page


def test_logout_gives_a_new_session_id_and_the_old_one_is_gone(
    client: Client, account: LoginAccount
) -> None:
    client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})
    signed_in = session_id(client)
    client.post("/kb/uitloggen/")
    assert session_id(client) != signed_in
    assert not Session.objects.filter(session_key=signed_in).exists()
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = signed_in
    assert copy.get("/kb/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_login_counts_its_attempt_first_then_books_the_login_in_one_transaction(
    account: LoginAccount,
) -> None:
    client = Client()
    client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})  # has a session now
    with CaptureQueriesContext(connection) as queries:
        response = client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})
    assert response.status_code == 302
    logged = [q["sql"] for q in queries.captured_queries]
    words = [sql.split(None, 1)[0].upper() for sql in logged]
    # The attempt is counted and committed before the hash, so that parallel attempts see it.
    assert words.count("COMMIT") == 2
    # On PostgreSQL the counting transaction alone commits without waiting for the disk.
    settings_changed = [sql for sql in logged if sql.upper().startswith("SET ")]
    if connection.vendor == "postgresql":
        assert settings_changed == ["SET LOCAL synchronous_commit TO OFF"]
    statements = [
        sql
        for sql, word in zip(logged, words, strict=True)
        if word not in TRANSACTION_CONTROL and word != "SET"
    ]
    # the counters: made if missing, locked, counted; the account; then the counters taken
    # back, last_login, the event, the member's own record of it ("Recente inlogmomenten"),
    # and the session: read, and moved to its new id
    assert [sql.split(None, 1)[0] for sql in statements] == [
        "INSERT",
        "SELECT",
        "UPDATE",
        "SELECT",
        "UPDATE",
        "UPDATE",
        "INSERT",
        "INSERT",
        "SELECT",
        "UPDATE",
    ]
    account.refresh_from_db()
    assert account.last_login is not None
    assert AccountEvent.objects.filter(event="login.succeeded", account_id=account.pk).exists()


def test_the_login_is_not_recorded_when_its_session_cannot_be_stored(
    account: LoginAccount,
) -> None:
    def broken_session(account: LoginAccount) -> None:
        raise RuntimeError("session store down")

    with pytest.raises(RuntimeError):
        account_authenticate(
            username="inlogger", password=PASSWORD, ip="192.0.2.1", session_start=broken_session
        )
    account.refresh_from_db()
    assert account.last_login is None
    assert not AccountEvent.objects.filter(event="login.succeeded").exists()


def test_unknown_and_wrong_take_the_same_queries(account: LoginAccount) -> None:
    def statements(username: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
            account_authenticate(username=username, password="fout", ip="192.0.2.1")
        return [q["sql"].split(None, 1)[0] for q in queries.captured_queries]

    assert statements("niemand") == statements("inlogger")
    counts = dict(Throttle.objects.values_list("key", "count"))
    assert counts["kb-login:niemand|192.0.2.1"] == 1
    assert counts["kb-login-ip:192.0.2.1"] == 2
    assert AccountEvent.objects.filter(event="login.failed").count() == 2


def fail(username: str, ip: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(ValidationError, match="klopt niet"):
            account_authenticate(username=username, password="fout", ip=ip)


def test_failures_slow_down_their_own_address_and_never_the_member_elsewhere(
    account: LoginAccount,
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail("inlogger", "192.0.2.7", times=PAIR.free)
        with pytest.raises(ValidationError, match="Wacht 2 seconden") as waiting:
            account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.7")
        assert waiting.value.code == "locked"
        assert AccountEvent.objects.filter(event="login.locked", ip="192.0.2.7").count() == 1
        # the member at home is not bothered
        assert account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.8")
        clock.shift(dt.timedelta(seconds=2))
        fail("inlogger", "192.0.2.7")
        with pytest.raises(ValidationError, match="Wacht 4 seconden"):
            account_authenticate(username="inlogger", password="fout", ip="192.0.2.7")
        for _ in range(20):  # a patient guesser: each wait twice the one before, at most 15 min
            clock.shift(dt.timedelta(minutes=15))
            fail("inlogger", "192.0.2.7")
        with pytest.raises(ValidationError, match="Wacht 15 minuten"):
            account_authenticate(username="inlogger", password="fout", ip="192.0.2.7")


def test_failures_from_many_addresses_do_not_lock_out_the_member(account: LoginAccount) -> None:
    # Before: five failures from five addresses locked the account, whatever the password.
    for number in range(5):
        fail("inlogger", f"192.0.2.{number}")
    assert account_authenticate(username="inlogger", password=PASSWORD, ip="198.51.100.1")


def test_an_account_tried_from_very_many_addresses_slows_down_except_where_its_member_is(
    account: LoginAccount,
) -> None:
    assert account_authenticate(username="inlogger", password=PASSWORD, ip="198.51.100.1")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for number in range(ACCOUNT.free):
            fail("inlogger", f"10.0.{number // 250}.{number % 250}")
        with pytest.raises(ValidationError, match="Wacht 1 seconde"):
            account_authenticate(username="inlogger", password="fout", ip="10.9.9.9")
        # slowed, not locked: from a new address after the wait, from home at once
        assert account_authenticate(username="inlogger", password=PASSWORD, ip="198.51.100.1")
    with time_machine.travel(start + dt.timedelta(seconds=1), tick=False):
        assert account_authenticate(username="inlogger", password=PASSWORD, ip="203.0.113.5")


def test_a_school_sharing_one_address_is_not_locked_out_by_its_typos(
    account: LoginAccount,
) -> None:
    # Before: twenty failures from one address locked everyone behind it.
    for number in range(20):
        fail(f"leerling{number}", "192.0.2.30", times=2)
    assert account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.30")


def test_one_address_trying_very_many_accounts_slows_down_but_not_for_known_members(
    account: LoginAccount,
) -> None:
    assert account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.40")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for number in range(ADDRESS.free):
            fail(f"gok{number}", "192.0.2.40")
        with pytest.raises(ValidationError, match="Wacht 1 seconde"):
            account_authenticate(username="nogeen", password="fout", ip="192.0.2.40")
        assert account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.40")


def test_a_login_takes_back_its_attempt_and_the_pair_starts_again(
    account: LoginAccount,
) -> None:
    fail("inlogger", "192.0.2.9", times=PAIR.free - 1)
    account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.9")
    counts = dict(Throttle.objects.values_list("key", "count"))
    assert counts["kb-login:inlogger|192.0.2.9"] == 0
    assert counts["kb-login:inlogger"] == PAIR.free - 1  # failures stay failures
    assert counts["kb-login-ip:192.0.2.9"] == PAIR.free - 1
    fail("inlogger", "192.0.2.9", times=PAIR.free)  # as many as before are allowed again


def test_a_password_reset_forgets_the_failures_of_the_account(account: LoginAccount) -> None:
    fail("inlogger", "192.0.2.10", times=PAIR.free)
    with pytest.raises(ValidationError, match="Wacht"):
        account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.10")
    token = reset_tokens.make_token(account)  # type: ignore[arg-type]
    password_reset(account=account, token=token, password="Nieuw-Wachtwoord-77", ip=None)
    assert account_authenticate(
        username="inlogger", password="Nieuw-Wachtwoord-77", ip="192.0.2.10"
    )


def test_store_moves_the_row_to_the_new_key_on_save() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    assert Session.objects.filter(session_key=old).exists()  # nothing written yet
    store.save()
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(store.session_key)["a"] == 1
    assert Session.objects.count() == 1


def test_store_cycled_twice_before_saving_leaves_one_row() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    store.cycle_key()
    store.save()
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]
    assert store.session_key != old


def test_store_flushed_after_a_new_key_deletes_the_old_row() -> None:
    store = SessionStore()
    store[SESSION_KEY] = "signed in"
    store.save()
    store.cycle_key()
    store.flush()  # e.g. a logout before anything was saved
    assert not Session.objects.exists()


def test_store_writes_nothing_when_saved_again_unchanged_and_writes_a_change(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    store.cycle_key()
    store.save()
    with django_assert_num_queries(0):
        store.save()
    store["b"] = 2
    store.save()
    assert SessionStore(store.session_key)["b"] == 2


def test_store_saves_a_session_loaded_from_its_cookie_as_django_does() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    again = SessionStore(store.session_key)
    again["a"] = 2
    again.save()
    assert SessionStore(store.session_key)["a"] == 2
