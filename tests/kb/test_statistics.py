"""The login service's daily figures, counted by hand from accounts made at two libraries'
counters and online, activated after different times, one purged unused, and logins at two
hours; the page for KB operators only (a second factor), with its CSV."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from bieb.kb.models import AccountEvent, LoginAccount
from bieb.kb.services import (
    MembershipData,
    account_activate,
    account_authenticate,
    account_create,
    accounts_purge_expired,
)
from bieb.kb.statistics.aggregate import kb_figures_day_compute, kb_figures_range_compute
from bieb.kb.statistics.models import DailyFigure, KBMetric
from bieb.kb.tokens import activation_tokens
from bieb.staff.models import User
from tests.otp import admin_login

pytestmark = pytest.mark.django_db

PASSWORD = "Leeslamp-Duinpan-42"
MARCH_10 = dt.date(2025, 3, 10)
MARCH_11 = dt.date(2025, 3, 11)


def at(hour: int, minute: int = 0, day: int = 10) -> Any:
    """10 March 2025 (or `day`) at hour:minute UTC; Amsterdam is an hour ahead."""
    return time_machine.travel(dt.datetime(2025, 3, day, hour, minute, tzinfo=dt.UTC), tick=False)


def counter_account(library: str, number: str) -> LoginAccount:
    membership = MembershipData(
        library_code=library,
        library_name=library,
        customer_number=number,
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=dt.date(2026, 2, 28),
    )
    return account_create(
        username=number,
        email=f"{number}@example.nl",
        origin="balie",
        actor=f"{library}:balie",
        membership=membership,
    )


def activate(account: LoginAccount) -> None:
    token = activation_tokens.make_token(account)  # type: ignore[arg-type]
    account_activate(account=account, token=token, password=PASSWORD, ip=None)


def figures(day: dt.date, metric: str) -> set[tuple[str, ...] | tuple[Any, ...]]:
    return {
        (f.library_code, f.origin, f.bucket, f.count)
        for f in DailyFigure.objects.filter(day=day, metric=metric)
    }


@pytest.fixture
def accounts() -> None:
    with at(9):
        quick = counter_account("bind", "25280000000001")
        counter_account("bind", "25280000000002")  # never activated
        slow = counter_account("oost", "61000000000003")
        online = account_create(
            username="lezer.online", email="lezer@example.nl", origin="online", actor="online"
        )
    with at(9, 30):
        activate(quick)
    with at(11):
        activate(online)
    with at(17):
        activate(slow)
    for hour, minute, username in ((9, 45, quick), (9, 50, online), (19, 5, quick)):
        with at(hour, minute):
            account_authenticate(username=username.username, password=PASSWORD, ip=None)
    with at(10, day=11):  # the unused account's link ran out at 9:00
        assert accounts_purge_expired().deleted == 1


def test_made_activated_purged_and_logins_as_counted_by_hand(accounts: None) -> None:
    assert kb_figures_range_compute(start=MARCH_10, end=MARCH_11)
    assert figures(MARCH_10, KBMetric.CREATED) == {
        ("bind", "balie", "", 2),
        ("oost", "balie", "", 1),
        ("", "online", "", 1),
    }
    assert figures(MARCH_10, KBMetric.MADE_ACTIVATED) == {
        ("bind", "balie", "", 1),
        ("oost", "balie", "", 1),
        ("", "online", "", 1),
    }
    assert figures(MARCH_10, KBMetric.MADE_EXPIRED) == {("bind", "balie", "", 1)}
    assert figures(MARCH_10, KBMetric.ACTIVATED) == {
        ("", "balie", "0-1", 1),
        ("", "balie", "6-24", 1),
        ("", "online", "1-6", 1),
    }
    # Amsterdam's hours: 10:45, 10:50 and 20:05.
    assert figures(MARCH_10, KBMetric.LOGINS) == {("", "", "10", 2), ("", "", "20", 1)}
    assert figures(MARCH_10, KBMetric.PURGED) == set()
    assert figures(MARCH_11, KBMetric.PURGED) == {("bind", "balie", "", 1)}

    # Computed again: the same rows. An account made before the log named its origin is read
    # from the account and its linked membership.
    rows = sorted(
        DailyFigure.objects.values_list(
            "day", "metric", "library_code", "origin", "bucket", "count"
        )
    )
    AccountEvent.objects.filter(event="account.created", username="61000000000003").update(data={})
    kb_figures_day_compute(day=MARCH_10)
    again = sorted(
        DailyFigure.objects.values_list(
            "day", "metric", "library_code", "origin", "bucket", "count"
        )
    )
    assert again == rows


PAGE = "/kb/beheer/statistiek/?van=2025-03-01&tot=2025-03-31&per=week"


def test_the_page_for_kb_operators_with_the_libraries_share_and_csv(
    client: Client, accounts: None, demo: None
) -> None:
    kb_figures_range_compute(start=MARCH_10, end=MARCH_11)
    assert client.get(PAGE).status_code == 302  # to the admin's login
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    html = client.get(PAGE).content.decode()
    assert (
        "Van de 3 inlogaccounts die bibliotheken aan de balie aanmaakten van 01-03-2025 t/m "
        "31-03-2025, verliepen er 1 ongebruikt (33,3%)" in html
    )
    assert (
        "4 inlogaccounts aangemaakt van 01-03-2025 t/m 31-03-2025 (3 aan de balie, 1 online)"
        in html
    )
    assert "Het drukst tussen 10:00 en 10:59 (2)." in html
    assert html.count('<svg class="chart" role="img"') == 4
    lines = client.get(PAGE + "&csv=bibliotheken").content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Bibliotheek;Aangemaakt aan de balie;Op tijd geactiveerd;Ongebruikt verlopen;"
        "Aandeel ongebruikt verlopen;Een jaar eerder: aandeel"
    )
    assert lines[1].startswith("bind") and lines[1].endswith(";2;1;1;50,0%;—")
    assert lines[2].startswith("oost") and lines[2].endswith(";1;1;0;0,0%;—")
    assert lines[3] == "Landelijk;3;2;1;33,3%;—"


def test_others_are_refused(client: Client, demo: None) -> None:
    client.force_login(User.objects.get(username="manager"))  # library staff
    assert client.get(PAGE).status_code == 403
    client.force_login(User.objects.get(username="beheer"))  # no second factor given
    assert client.get(PAGE).status_code == 403
