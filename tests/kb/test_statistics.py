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
from bieb.kb.statistics.aggregate import (
    kb_figures_day_compute,
    kb_figures_range_compute,
    kb_sums_compute,
)
from bieb.kb.statistics.models import DailyFigure, KBMetric, MonthlyFigure, NationalFigure
from bieb.kb.statistics.report import library_account_figures
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


def made_on(day: dt.date, number: str) -> None:
    with time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False):
        counter_account("bind", number)


def test_a_period_reads_its_whole_months_and_the_days_at_either_side(
    client: Client, demo: None
) -> None:
    """Bind's counter made an account on 28 February, 1 and 31 March, 1 and 15 April. A page
    reads March and April as months and the days at either side of them as days: each account
    is counted once, whichever way a period cuts the months."""
    days = [
        dt.date(2025, 2, 28),
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 31),
        dt.date(2025, 4, 1),
        dt.date(2025, 4, 15),
    ]
    for i, day in enumerate(days):
        made_on(day, f"2528000000010{i}")
    kb_figures_range_compute(start=dt.date(2025, 2, 27), end=dt.date(2025, 4, 30))
    monthly = {
        (f.month, f.library_code): f.count
        for f in MonthlyFigure.objects.filter(metric=KBMetric.CREATED)
    }
    assert monthly == {
        (dt.date(2025, 2, 1), "bind"): 1,
        (dt.date(2025, 3, 1), "bind"): 2,
        (dt.date(2025, 4, 1), "bind"): 2,
    }
    # The same sums from daily figures written some other way (as the bench does).
    MonthlyFigure.objects.all().delete()
    NationalFigure.objects.all().delete()
    assert kb_sums_compute(start=dt.date(2025, 2, 27), end=dt.date(2025, 4, 30)) == 3
    assert {
        (f.month, f.library_code): f.count
        for f in MonthlyFigure.objects.filter(metric=KBMetric.CREATED)
    } == monthly

    def made(start: dt.date, end: dt.date) -> int:
        return library_account_figures(library_code="bind", start=start, end=end).made

    assert made(dt.date(2025, 2, 28), dt.date(2025, 4, 1)) == 4  # March whole, a day each side
    assert made(dt.date(2025, 3, 1), dt.date(2025, 3, 31)) == 2  # March alone
    assert made(dt.date(2025, 3, 2), dt.date(2025, 4, 14)) == 2  # no whole month
    assert made(dt.date(2025, 1, 1), dt.date(2025, 4, 30)) == 5  # four whole months
    assert made(dt.date(2025, 3, 2), dt.date(2025, 4, 30)) == 3  # April whole, days before it

    # A day computed again sums its month again: the account of 15 April gone from the log.
    AccountEvent.objects.filter(username="25280000000104").delete()
    kb_figures_day_compute(day=dt.date(2025, 4, 15))
    assert made(dt.date(2025, 4, 1), dt.date(2025, 4, 30)) == 1

    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    for grain in ("maand", "week"):
        page = f"/kb/beheer/statistiek/?van=2025-02-28&tot=2025-04-30&per={grain}"
        lines = client.get(page + "&csv=aanmeldingen").content.decode("utf-8-sig").splitlines()
        made_per_row = [line.split(";")[:2] for line in lines[1:]]
        assert made_per_row[-1] == ["Totaal", "4"], grain
        if grain == "maand":
            assert made_per_row[:-1] == [["feb 2025", "1"], ["mrt 2025", "2"], ["apr 2025", "1"]]
        lines = client.get(page + "&csv=bibliotheken").content.decode("utf-8-sig").splitlines()
        assert lines[1].startswith("bind") and ";4;" in lines[1], grain
