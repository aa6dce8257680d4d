"""Logging in: throttles, the new session id, and the bookkeeping of a login in one commit."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bieb.core.models import Attempt
from bieb.core.sessions import SessionStore
from bieb.kb.models import AccountEvent, AccountState, LoginAccount
from bieb.kb.services import account_authenticate
from bieb.kb.session import SESSION_KEY

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
def test_a_login_is_two_reads_and_one_transaction(account: LoginAccount) -> None:
    client = Client()
    client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})  # has a session now
    with CaptureQueriesContext(connection) as queries:
        response = client.post(LOGIN, {"username": "inlogger", "password": PASSWORD})
    assert response.status_code == 302
    logged = [q["sql"] for q in queries.captured_queries]
    words = [sql.split(None, 1)[0].upper() for sql in logged]
    assert words.count("COMMIT") == 1
    statements = [
        sql for sql, word in zip(logged, words, strict=True) if word not in TRANSACTION_CONTROL
    ]
    # failures of account and address, the account; then last_login, the event, and the
    # session: read, and moved to its new id
    assert [sql.split(None, 1)[0] for sql in statements] == [
        "SELECT",
        "SELECT",
        "UPDATE",
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
    assert Attempt.objects.filter(key="login:niemand").count() == 1
    assert Attempt.objects.filter(key="login-ip:192.0.2.1").count() == 2
    assert AccountEvent.objects.filter(event="login.failed").count() == 2


def test_twenty_failures_from_one_address_lock_that_address_only(account: LoginAccount) -> None:
    for number in range(20):  # other usernames each time: the account limit is not reached
        with pytest.raises(ValidationError, match="klopt niet"):
            account_authenticate(username=f"gok{number}", password="fout", ip="192.0.2.7")
    with pytest.raises(ValidationError, match="Te veel mislukte pogingen") as locked:
        account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.7")
    assert locked.value.code == "locked"
    assert AccountEvent.objects.filter(event="login.locked", ip="192.0.2.7").count() == 1
    assert account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.8") == account


def test_a_login_clears_the_account_failures_but_not_the_address_ones(
    account: LoginAccount,
) -> None:
    for _ in range(4):
        with pytest.raises(ValidationError):
            account_authenticate(username="inlogger", password="fout", ip="192.0.2.9")
    account_authenticate(username="inlogger", password=PASSWORD, ip="192.0.2.9")
    assert not Attempt.objects.filter(key="login:inlogger").exists()
    assert Attempt.objects.filter(key="login-ip:192.0.2.9").count() == 4
    for _ in range(4):  # four more are allowed again
        with pytest.raises(ValidationError, match="klopt niet"):
            account_authenticate(username="inlogger", password="fout", ip="192.0.2.9")


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
