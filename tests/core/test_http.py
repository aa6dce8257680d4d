"""The client's address, from the proxies the operator says are in front of the server."""

import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory, override_settings

from bieb.core.http import address_group, client_address
from bieb.kb.models import AccountEvent, AccountState, LoginAccount

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Leeslamp-Duinpan-42"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy: a typed header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own guess stays ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer entries than proxies: the furthest
        (1, "", "10.0.0.1"),
        (1, "niet-een-adres", None),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_the_entry_as_many_proxies_from_the_right(
    hops: int, forwarded: str, expected: str | None
) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(BIEB_TRUSTED_PROXIES=hops):
        assert client_address(request) == expected


def test_ipv6_addresses_are_limited_per_64_network() -> None:
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::2")
    assert address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1")
    assert address_group("192.0.2.1") == "192.0.2.1"
    assert address_group(None) == "onbekend"


@pytest.mark.django_db
@override_settings(BIEB_TRUSTED_PROXIES=1)
def test_behind_a_proxy_each_client_has_its_own_limits_and_log_address(demo: None) -> None:
    account = LoginAccount(username="lezer", email="l@example.nl", origin="online")
    account.state = AccountState.ACTIVE
    account.set_password(PASSWORD)
    account.save()
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(8):
        attacker.post("/kb/inloggen/", {"username": "lezer", "password": "fout"})
    member = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        member.post("/kb/inloggen/", {"username": "lezer", "password": PASSWORD}).status_code == 302
    )
    assert AccountEvent.objects.get(event="login.succeeded").ip == "198.51.100.7"
    assert AccountEvent.objects.filter(event="login.failed", ip="203.0.113.66").exists()
    # the counter too
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(8):
        attacker.post("/balie/inloggen/", {"username": "balie", "password": "fout"})
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8")
    data = {"username": "balie", "password": "demo-balie"}
    assert colleague.post("/balie/inloggen/", data).status_code == 302


def test_no_other_code_reads_the_address_itself() -> None:
    # A read of META or of the headers; building an environ (the in-process OIDC call) is no read.
    read = re.compile(
        r"""(META|headers)(\.get\(|\[)\s*["'](REMOTE_ADDR|HTTP_X_FORWARDED_FOR|X-Forwarded-For)"""
    )
    readers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bieb").rglob("*.py")
        if read.search(path.read_text())
    ]
    assert readers == ["bieb/core/http.py"]
