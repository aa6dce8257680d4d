"""Every login form spends the same hash work on every attempt, whatever the account's state:
no answer comes back faster for an unknown username, an account still waiting for activation,
a disabled one or a wrong password. Counted at the hashing library (argon2-cffi), the outer
boundary: each attempt is exactly one Argon2id computation with the configured cost."""

from collections.abc import Iterator
from typing import Any

import argon2
import argon2._password_hasher
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from bieb.kb.models import AccountState, LoginAccount
from bieb.staff.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Leeslamp-Duinpan-42"
COST = (2, 19 * 1024, 1)  # time, memory (KiB), lanes: bieb.core.hashers.Argon2idHasher


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int, int]]]:
    """The cost of every Argon2 computation, hash or verify, as it happens."""
    calls: list[tuple[int, int, int]] = []
    real_hash = argon2.low_level.hash_secret
    real_verify = argon2._password_hasher.verify_secret

    def hash_secret(*args: Any, **kwargs: Any) -> bytes:
        calls.append((kwargs["time_cost"], kwargs["memory_cost"], kwargs["parallelism"]))
        return real_hash(*args, **kwargs)

    def verify_secret(encoded: bytes, *args: Any, **kwargs: Any) -> bool:
        params = argon2.extract_parameters(encoded.decode())
        calls.append((params.time_cost, params.memory_cost, params.parallelism))
        return real_verify(encoded, *args, **kwargs)

    monkeypatch.setattr(argon2.low_level, "hash_secret", hash_secret)
    monkeypatch.setattr(argon2._password_hasher, "verify_secret", verify_secret)
    yield calls


def kb_account(username: str, state: str, password: str = PASSWORD) -> None:
    account = LoginAccount(username=username, email=f"{username}@example.nl", origin="online")
    account.state = state
    if password:
        account.set_password(password)
    if state == AccountState.WAITING:
        account.activation_deadline = timezone.now()
    account.save()


def test_the_login_service_hashes_once_whatever_the_account(
    hashed: list[tuple[int, int, int]],
) -> None:
    kb_account("actieflid", AccountState.ACTIVE)
    kb_account("wachtlid", AccountState.WAITING, password="")
    kb_account("geblokkeerd", AccountState.DISABLED)
    tries = {
        "unknown": ("niemandhier", PASSWORD),
        "waiting": ("wachtlid", PASSWORD),
        "disabled": ("geblokkeerd", PASSWORD),
        "wrong password": ("actieflid", "fout-wachtwoord"),
        "right password": ("actieflid", PASSWORD),
    }
    for number, (case, (username, password)) in enumerate(tries.items()):
        client = Client(REMOTE_ADDR=f"192.0.2.{number}")
        data = {"username": username, "password": password}
        hashed.clear()
        client.post("/kb/inloggen/", data)
        assert hashed == [COST], case


@pytest.mark.parametrize("path", ["/balie/inloggen/", "/admin/login/"])
def test_staff_logins_hash_once_whatever_the_account(
    hashed: list[tuple[int, int, int]], demo: None, path: str
) -> None:
    User.objects.create_user("oudcollega", password=PASSWORD, is_active=False, is_staff=True)
    User.objects.create_user("zonderwachtwoord", is_staff=True)  # an unusable password
    tries = {
        "unknown": ("niemandhier", PASSWORD),
        "inactive": ("oudcollega", PASSWORD),
        "no password": ("zonderwachtwoord", PASSWORD),
        "wrong password": ("balie", "fout-wachtwoord"),
        "right password": ("balie", settings.BIEB_DEMO_PASSWORD),
    }
    for number, (case, (username, password)) in enumerate(tries.items()):
        client = Client(REMOTE_ADDR=f"192.0.2.{number}")
        data = {"username": username, "password": password}
        hashed.clear()
        client.post(path, data)
        assert hashed == [COST], case
