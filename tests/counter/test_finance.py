"""/balie/financieel/: who may open what, the open amounts with their filters and CSV, the
kasopmaak, the renewal runs; one library's data only."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bieb.core.dates import date_nl, local_today
from bieb.counter.finance import _csv_lines
from bieb.customers.ledger import ledger_payment_book, ledger_storno
from bieb.customers.models import Customer, PaymentMethod
from bieb.customers.renewals import renewals_run
from bieb.customers.reports import OpenAmount
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.test_reports import member

pytestmark = pytest.mark.django_db

OPEN = "/balie/financieel/"
CSV = "/balie/financieel/export.csv"
CASH = "/balie/financieel/kasopmaak/"
RUNS = "/balie/financieel/verlengruns/"


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@pytest.fixture
def manager_client(client: Client, manager: User) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def oost_client(balie_oost: User) -> Client:
    client = Client()
    client.force_login(balie_oost)
    return client


@pytest.fixture
def owing(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    return member(balie, branch_5280, digital_only, surname="Schuldenaar", on=local_today())


@pytest.fixture
def oost_owing(balie_oost: User, oost: Library) -> Customer:
    return member(
        balie_oost,
        Branch.objects.get(number="6100"),
        SubscriptionType.objects.get(library=oost, code="0141"),
        surname="Oostelijk",
        on=local_today(),
    )


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def nav(response: object) -> str:
    """The top bar and the Financieel sub-bar."""
    page = text(response)
    return page[page.index('<header class="topbar">') : page.index('<main id="main">')]


# --- rights ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [OPEN, CSV, RUNS, f"{RUNS}1/"])
def test_without_the_finance_role_a_dutch_403(balie_client: Client, path: str) -> None:
    response = balie_client.get(path)
    assert response.status_code == 403
    assert "Geen toegang" in text(response)
    assert "de rol Financieel nodig" in text(response)


def test_every_counter_user_sees_the_kasopmaak_and_the_nav_shows_only_that(
    balie_client: Client,
) -> None:
    response = balie_client.get(CASH)
    assert response.status_code == 200
    bar = nav(response)
    assert f'<a href="{CASH}" accesskey="f" aria-current="page">Financieel</a>' in bar
    assert "Kasopmaak" in bar
    assert "Openstaande bedragen" not in bar and "Verlengruns" not in bar


def test_the_finance_role_sees_all_three(manager_client: Client) -> None:
    response = manager_client.get(OPEN)
    assert response.status_code == 200
    bar = nav(response)
    assert f'<a href="{OPEN}" accesskey="f" aria-current="page">Financieel</a>' in bar
    for label, url in (("Openstaande bedragen", OPEN), ("Kasopmaak", CASH), ("Verlengruns", RUNS)):
        assert f'href="{url}"' in bar and label in bar
    assert manager_client.get(RUNS).status_code == 200


def test_logged_out_goes_to_the_login(client: Client) -> None:
    for path in (OPEN, CSV, CASH, RUNS):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/balie/inloggen/")


# --- open amounts ----------------------------------------------------------------------------


def test_the_open_amounts_page_links_each_customer(
    manager_client: Client, owing: Customer, oost_owing: Customer
) -> None:
    page = text(manager_client.get(OPEN))
    assert f'<a href="/balie/klanten/{owing.number}/">{owing.number}</a>' in page
    assert "Mw. E.B. Schuldenaar" in page and "€ 42,00" in page
    assert "0141 Digital only" in page and "5280 Bind Centrale" in page
    assert "wacht op betaling" in page
    assert re.search(
        r"<strong>1</strong> klant met een saldo boven nul, samen <strong>€ 42,00", page
    )
    assert '<th scope="col">Klantnummer</th>' in page
    # the other library's debtor is not here
    assert oost_owing.number not in page and "Oostelijk" not in page


def test_the_filters_stay_in_the_form_after_submit(
    manager_client: Client, owing: Customer, branch_5280: Branch
) -> None:
    response = manager_client.get(
        OPEN, {"vestiging": "5281", "abonnement": "0141", "ouder_dan": "5"}
    )
    page = text(response)
    assert response.status_code == 200
    assert '<option value="5281" selected>' in page
    assert '<option value="0141" selected>' in page
    assert 'name="ouder_dan" id="id_ouder_dan" value="5"' in page
    assert owing.number not in page
    assert "<strong>0</strong> klanten" in page
    # the export takes the same filters
    assert (
        'href="/balie/financieel/export.csv?vestiging=5281&amp;abonnement=0141&amp;ouder_dan=5"'
        in page
    )

    found = text(manager_client.get(OPEN, {"vestiging": "5280", "ouder_dan": "0"}))
    assert '<option value="5280" selected>' in found
    assert owing.number not in found  # 0 days old is not older than 0 days
    assert owing.number in text(manager_client.get(OPEN, {"vestiging": "5280"}))


def test_a_filter_that_cannot_be_read_says_why_and_keeps_what_was_typed(
    manager_client: Client, owing: Customer
) -> None:
    response = manager_client.get(OPEN, {"ouder_dan": "dertig", "vestiging": "6100"})
    page = text(response)
    assert response.status_code == 400
    assert "Vul een aantal dagen in, bijvoorbeeld 30." in page
    assert 'value="dertig"' in page
    # another library's branch is not one of ours
    assert "Kies een vestiging uit de lijst." in page
    assert owing.number not in page


def test_the_page_shows_200_rows_and_meer(
    manager_client: Client, balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    from bieb.counter import finance

    for n in range(3):
        member(balie, branch_5280, digital_only, surname=f"Veel{n}", on=local_today())
    old = finance.PAGE_ROWS
    finance.PAGE_ROWS = 2
    try:
        first = text(manager_client.get(OPEN, {"abonnement": "0141"}))
        assert first.count('<th scope="row"><a href="/balie/klanten/') == 2
        assert '<a href="/balie/financieel/?abonnement=0141&amp;pagina=2">Meer</a>' in first
        second = text(manager_client.get(OPEN, {"abonnement": "0141", "pagina": "2"}))
        assert second.count('<th scope="row"><a href="/balie/klanten/') == 1
        assert ">Meer</a>" not in second and ">Vorige</a>" in second
    finally:
        finance.PAGE_ROWS = old


def test_the_csv_export(
    manager_client: Client,
    owing: Customer,
    oost_owing: Customer,
) -> None:
    response = manager_client.get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = local_today().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="openstaande-bedragen-bind-{today}.csv"'
    )
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Klantnummer;Naam;Saldo;Ouderdom (dagen);Abonnement;Vestiging;Status"
    assert lines[1:] == [
        f"{owing.number};Mw. E.B. Schuldenaar;42,00;0;0141 Digital only;5280 Bind Centrale;"
        "wacht op betaling",
        "",
    ]
    assert oost_owing.number not in body.decode("utf-8-sig")

    filtered = manager_client.get(CSV, {"vestiging": "5281"})
    lines = b"".join(filtered.streaming_content).decode("utf-8-sig").split("\r\n")  # type: ignore[attr-defined]
    assert lines == ["Klantnummer;Naam;Saldo;Ouderdom (dagen);Abonnement;Vestiging;Status", ""]


def test_a_csv_cell_is_never_a_formula() -> None:
    row = OpenAmount(
        customer_id=1,
        number="25280000000016",
        name="=HYPERLINK(1)",
        saldo=Decimal("1234.5"),
        debt_since=None,
        age_days=None,
        subscription="+0141",
        branch="@5280",
        status="actief",
    )
    lines = list(_csv_lines(iter([row])))
    assert lines[1] == "25280000000016;'=HYPERLINK(1);1234,50;;'+0141;'@5280;actief\r\n"


# --- kasopmaak -------------------------------------------------------------------------------


def test_the_kasopmaak_of_today(
    balie_client: Client, balie: User, owing: Customer, oost_owing: Customer, balie_oost: User
) -> None:
    line = ledger_payment_book(actor=balie, customer=owing, amount=Decimal("40"), method="pin")
    ledger_storno(actor=balie, line=line, reason="Verkeerd bedrag")
    ledger_payment_book(actor=balie, customer=owing, amount=Decimal("42"), method="contant")
    ledger_payment_book(
        actor=balie_oost, customer=oost_owing, amount=Decimal("42"), method=PaymentMethod.PIN
    )
    response = balie_client.get(CASH)
    page = text(response)
    assert response.status_code == 200
    assert f"Kasopmaak {date_nl(local_today())}" in page
    assert 'value="' + date_nl(local_today()) + '"' in page
    assert "Vestiging 5280 Bind Centrale" in page and "Balie (balie)" in page
    assert '<td class="amount" id="cash-total">€ 42,00</td>' in page
    assert "Controle: het totaal is gelijk aan het grootboek van deze dag" in page
    assert "(contant en pin: € 42,00)" in page
    assert "€ -40,00" in page  # the storno subtracts
    # printable: the button works through the static script, no inline script
    assert "data-print>Afdrukken</button>" in page
    assert "/static/counter/finance.js" in page and "/static/counter/finance.css" in page
    assert "<script>" not in page and "onclick" not in page
    # The other library's desk saw its own € 42,00 pin only.
    other = text(oost_client_get(balie_oost, CASH))
    assert "Vestiging 6100" in other and "Bind" not in other.split('<main id="main">')[1]


def oost_client_get(user: User, path: str, data: dict[str, str] | None = None) -> object:
    client = Client()
    client.force_login(user)
    return client.get(path, data or {})


def test_another_day_and_a_day_that_cannot_be_read(balie_client: Client) -> None:
    page = text(balie_client.get(CASH, {"dag": "01-02-2024"}))
    assert "Kasopmaak 01-02-2024" in page
    assert "Op deze dag is aan de balie niets contant of met pin ontvangen" in page
    assert '<a href="/balie/financieel/kasopmaak/?dag=31-01-2024">Vorige dag</a>' in page
    assert '<a href="/balie/financieel/kasopmaak/?dag=02-02-2024">Volgende dag</a>' in page

    wrong = balie_client.get(CASH, {"dag": "31-02-2024"})
    assert wrong.status_code == 400
    assert "31-02-2024 bestaat niet" in text(wrong) and 'value="31-02-2024"' in text(wrong)
    future = local_today() + dt.timedelta(days=2)
    assert balie_client.get(CASH, {"dag": date_nl(future)}).status_code == 400
    assert balie_client.get(CASH, {"dag": "gisteren"}).status_code == 400


# --- renewal runs ----------------------------------------------------------------------------


def test_renewal_runs_and_a_run_with_its_periods(
    manager_client: Client,
    balie: User,
    balie_oost: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    bind: Library,
) -> None:
    customer = member(balie, branch_5280, adult, surname="Doorloper")
    # paid: an unpaid first year would be deregistered by the run, not renewed
    ledger_payment_book(actor=balie, customer=customer, amount=Decimal("64.50"), method="pin")
    run = renewals_run(library=bind, day=dt.date(2025, 5, 15), started_by="periodiek")
    page = text(manager_client.get(RUNS))
    assert f'<a href="{RUNS}{run.pk}/">15-05-2025</a>' in page
    assert "periodiek" in page and "€ 64,50" in page

    detail = text(manager_client.get(f"{RUNS}{run.pk}/"))
    assert "Verlengrun 15-05-2025" in detail
    assert f'<a href="/balie/klanten/{customer.number}/">{customer.number}</a>' in detail
    assert "Mw. E.B. Doorloper" in detail and "0110 Volwassen Compleet" in detail
    assert "01-06-2025 t/m 31-05-2026" in detail and "geboekt" in detail

    # another library's staff: not found, even with the finance role
    other = Client()
    oost_manager = User.objects.create_user(
        username="financieel-oost", library=balie_oost.library, branch=balie_oost.branch
    )
    oost_manager.user_permissions.add(Permission.objects.get(codename="finance"))
    other.force_login(oost_manager)
    assert other.get(f"{RUNS}{run.pk}/").status_code == 404
    assert "15-05-2025" not in text(other.get(RUNS))
