"""/balie/statistiek/: only staff with the statistics role, only their own library's figures;
the period with the same period a year before; every table as CSV; a chart per section with its
summary."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bieb.kb.statistics.aggregate import kb_sums_compute
from bieb.kb.statistics.models import DailyFigure as KBFigure
from bieb.kb.statistics.models import KBMetric
from bieb.libraries.models import Library
from bieb.staff.models import User
from bieb.statistics.models import DailyFigure, Metric

pytestmark = pytest.mark.django_db

PAGE = "/balie/statistiek/"
PERIOD = "?van=2025-01-01&tot=2025-03-31&per=maand"


def figure(library: Library, day: dt.date, metric: str, count: int, **dims: object) -> None:
    DailyFigure.objects.create(library=library, day=day, metric=metric, count=count, **dims)


@pytest.fixture
def figures(bind: Library, oost: Library) -> None:
    """Bind: 3 + 2 new memberships in January and February 2025, 4 a year before; Oost: 99."""
    figure(bind, dt.date(2025, 1, 6), Metric.NEW, 3, channel="balie", subscription="0141")
    figure(bind, dt.date(2025, 2, 3), Metric.NEW, 2, channel="online", subscription="0141")
    figure(bind, dt.date(2024, 2, 5), Metric.NEW, 4, channel="balie", subscription="0110")
    figure(bind, dt.date(2025, 3, 31), Metric.ACTIVE, 7, subscription="0141", age_band="18-24")
    figure(
        bind,
        dt.date(2025, 3, 3),
        Metric.LEDGER,
        2,
        kind="betaling",
        method="pin",
        amount=Decimal("-84.00"),
    )
    figure(oost, dt.date(2025, 1, 6), Metric.NEW, 99, channel="balie", subscription="0141")
    figure(bind, dt.date(2025, 2, 3), Metric.ACCOUNT_FORGOTTEN, 1)
    figure(bind, dt.date(2025, 2, 4), Metric.ACCOUNT_REMADE, 1)
    # The KB's figures of the accounts the counters made (read through bieb.kb.interface).
    for code, made, activated, expired in (("bind", 4, 2, 1), ("oost", 50, 40, 9)):
        for metric, count in (
            (KBMetric.CREATED, made),
            (KBMetric.MADE_ACTIVATED, activated),
            (KBMetric.MADE_EXPIRED, expired),
        ):
            KBFigure.objects.create(
                day=dt.date(2025, 1, 6),
                metric=metric,
                library_code=code,
                origin="balie",
                count=count,
            )
    kb_sums_compute(start=dt.date(2025, 1, 6), end=dt.date(2025, 1, 6))


@pytest.fixture
def manager_client(client: Client, demo: None) -> Client:
    client.force_login(User.objects.get(username="manager"))
    return client


def oost_manager() -> User:
    user = User.objects.get(username="balie-oost")
    user.user_permissions.add(Permission.objects.get(codename="statistics"))
    return User.objects.get(pk=user.pk)  # the permission cache anew


def test_the_manager_sees_the_figures_of_the_period_and_a_year_before(
    manager_client: Client, figures: None
) -> None:
    page = manager_client.get(PAGE + PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert ">Statistiek</a>" in html  # in the menu, next to Financieel
    assert "01-01-2025 t/m 31-03-2025" in html
    assert "01-01-2024 t/m 31-03-2024" in html
    assert (
        "5 nieuwe abonnementen van 01-01-2025 t/m 31-03-2025: 3 aan de balie en 2 online; "
        "4 in dezelfde periode een jaar eerder." in html
    )
    assert "7 actieve leden (met rechten) op 31-03-2025" in html
    assert "€ 84,00 netto ontvangen" in html
    # Each chart is an image with its title and summary, next to its table.
    assert html.count('<svg class="chart" role="img"') == 6
    assert html.count('<table class="figures-table"') == 8


def test_every_table_downloads_as_csv(manager_client: Client, figures: None) -> None:
    answer = manager_client.get(PAGE + PERIOD + "&csv=nieuw")
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == (
        'attachment; filename="statistiek-nieuw-bind-2025-01-01-2025-03-31.csv"'
    )
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Maand;Balie;Online;Totaal;Een jaar eerder",
        "jan 2025;3;0;3;0",
        "feb 2025;0;2;2;4",
        "mrt 2025;0;0;0;0",
        "Totaal;3;2;5;4",
    ]
    omzet = manager_client.get(PAGE + PERIOD + "&csv=omzet").content.decode("utf-8-sig")
    assert "mrt 2025;0,00;0,00;84,00;0,00;0,00;0,00;84,00;0,00" in omzet
    page = manager_client.get(PAGE + PERIOD).content.decode()
    for key in (
        "nieuw",
        "nieuw-abonnement",
        "actief",
        "opzeggingen",
        "redenen",
        "verlengingen",
        "omzet",
        "inlogaccounts",
    ):
        assert f"&amp;csv={key}" in page
        assert manager_client.get(PAGE + PERIOD + f"&csv={key}")["Content-Type"].startswith(
            "text/csv"
        )


def test_the_login_accounts_of_the_counter_from_the_kb(
    manager_client: Client, figures: None
) -> None:
    html = manager_client.get(PAGE + PERIOD).content.decode()
    assert (
        "4 inlogaccounts aan de balie aangemaakt van 01-01-2025 t/m 31-03-2025: 2 binnen 24 uur "
        "geactiveerd (50,0%), 1 verlopen en opgeruimd (25,0%); 1 opnieuw aangemaakt" in html
    )
    lines = manager_client.get(PAGE + PERIOD + "&csv=inlogaccounts").content.decode("utf-8-sig")
    assert lines.splitlines() == [
        "Stap;Aantal;Een jaar eerder",
        "Aangemaakt aan de balie;4;0",
        "Binnen 24 uur geactiveerd;2;0",
        "Verlopen en opgeruimd (nooit geactiveerd);1;0",
        "Vergeet inlogaccount;1;0",
        "Opnieuw aangemaakt (Nieuw inlogaccount genereren);1;0",
    ]


def test_another_librarys_manager_sees_only_their_own(figures: None) -> None:
    client = Client()
    client.force_login(oost_manager())
    lines = client.get(PAGE + PERIOD + "&csv=nieuw").content.decode("utf-8-sig").splitlines()
    assert lines[1] == "jan 2025;99;0;99;0"
    assert lines[-1] == "Totaal;99;0;99;0"
    accounts = client.get(PAGE + PERIOD + "&csv=inlogaccounts").content.decode("utf-8-sig")
    assert "Aangemaakt aan de balie;50;0" in accounts.splitlines()


def test_without_the_statistics_role_no_page_and_no_menu_item(client: Client, balie: User) -> None:
    client.force_login(balie)
    answer = client.get(PAGE + "?csv=nieuw")
    assert answer.status_code == 403
    assert "Voor Statistiek is de rol Statistiek nodig" in answer.content.decode()
    assert ">Statistiek</a>" not in client.get("/balie/klanten/").content.decode()
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the counter's login


def test_a_wrong_period_is_said_in_dutch_and_the_default_is_shown(manager_client: Client) -> None:
    html = manager_client.get(PAGE + "?van=2025-13-01&tot=2025-01-01").content.decode()
    assert "Vul een datum in als dd-mm-jjjj." in html
    html = manager_client.get(PAGE + "?van=2025-02-01&tot=2025-01-01").content.decode()
    assert "De einddatum ligt vóór de begindatum." in html
