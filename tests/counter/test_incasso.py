"""/balie/financieel/incasso/: who may open it, making the files (once, also on a double POST),
the download as stored, marking sent, the totals per state against the ledger, reading in the
bank's returns (again, malformed, too large), handling an unknown item, and one library's
files only."""

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.models import LedgerLine, PaymentMethod
from bieb.debits.models import (
    BatchState,
    Debit,
    DebitBatch,
    DebitState,
    Mandate,
    MandateKind,
    ReturnFile,
    ReturnItem,
    ReturnItemState,
)
from bieb.debits.selectors import debit_batch_totals
from bieb.debits.services import mandate_create
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.year import member, on, run
from tests.debits.camt_files import Tx, document, return_entries

pytestmark = pytest.mark.django_db

D = dt.date
PAGE = "/balie/financieel/incasso/"
MAKE = f"{PAGE}bestanden-maken/"
UPLOAD = f"{PAGE}terugboekingen/"
MAKE_DAY = D(2027, 5, 20)


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def flash(response: object) -> list[str]:
    return [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]


@pytest.fixture
def manager(demo: None) -> User:
    return User.objects.get(username="manager")


@contextmanager
def desk(user: User, day: dt.date) -> Iterator[Client]:
    """A client logged in as `user` on `day` (a staff login lasts a working day)."""
    with on(day):
        client = Client()
        client.force_login(user)
        yield client


@pytest.fixture
def planned(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> list[Debit]:
    """Two Doorlopend members with a mandate; the renewal run of 2 May 2027 plans a debit for
    each (collection date 1 June 2027, € 64,50)."""
    for surname in ("Incasso", "Afschrijving"):
        membership = member(balie, branch_5280, adult, D(2026, 6, 1), surname=surname)
        with on(D(2026, 6, 1)):
            mandate_create(
                library=bind,
                customer=membership.customer,
                iban="NL91ABNA0417164300",
                holder_name=f"E.B. {surname}",
                signed_on=D(2026, 6, 1),
                kind=MandateKind.COUNTER,
                actor=balie,
            )
    run(bind, D(2027, 5, 2))
    debits = list(Debit.objects.order_by("pk"))
    assert [d.state for d in debits] == [DebitState.PLANNED] * 2
    return debits


def make_files(manager: User) -> DebitBatch:
    with desk(manager, MAKE_DAY) as client:
        response = client.post(MAKE)
    assert response.status_code == 302 and response["Location"] == PAGE
    return DebitBatch.objects.get()


def sent_and_booked(manager: User, bind: Library, *, made: bool = False) -> DebitBatch:
    """The file made (unless `made`), marked sent on 26 May, booked by the run of 1 June."""
    batch = DebitBatch.objects.get() if made else make_files(manager)
    with desk(manager, D(2027, 5, 26)) as client:
        client.post(f"{PAGE}{batch.pk}/verstuurd/")
    run(bind, D(2027, 6, 1))
    batch.refresh_from_db()
    assert batch.state == BatchState.PROCESSED
    return batch


def returns_for(debits: list[Debit]) -> bytes:
    return document(
        return_entries(
            [Tx(d.end_to_end_id, "AM04", "64.50", "E.B. Incasso") for d in debits]
            + [Tx("ONBEKEND-1", "MS02", "10.00", "Iemand Anders", "NL20INGB0001234567")]
        )
    )


def upload(client: Client, data: bytes, name: str = "camt054.xml") -> object:
    return client.post(UPLOAD, {"bestand": SimpleUploadedFile(name, data, "application/xml")})


# --- rights ----------------------------------------------------------------------------------


def test_without_the_finance_role_a_dutch_403_everywhere(
    planned: list[Debit], manager: User, balie: User
) -> None:
    batch = make_files(manager)
    paths = [
        PAGE,
        MAKE,
        f"{PAGE}openstaand/",
        f"{PAGE}{batch.pk}/bestand.xml",
        f"{PAGE}{batch.pk}/verstuurd/",
        UPLOAD,
        f"{UPLOAD}1/",
        f"{UPLOAD}1/1/afgehandeld/",
    ]
    with desk(balie, MAKE_DAY) as client:
        for path in paths:
            for method in (client.get, client.post):
                response = method(path)
                assert response.status_code == 403, path
                assert "de rol Financieel nodig" in text(response)
        assert "Automatische incasso" not in text(client.get("/balie/financieel/kasopmaak/"))
    batch.refresh_from_db()
    assert batch.state == BatchState.MADE


def test_logged_out_goes_to_the_login(client: Client) -> None:
    for path in (PAGE, MAKE, UPLOAD):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/balie/inloggen/")


# --- the page and making files ---------------------------------------------------------------


def test_the_page_shows_the_planned_debits_by_date_and_the_tab(
    planned: list[Debit], manager: User
) -> None:
    with desk(manager, MAKE_DAY) as client:
        response = client.get(PAGE)
    page = text(response)
    assert response.status_code == 200
    assert f'<a href="{PAGE}" aria-current="page">Automatische incasso</a>' in page
    row = re.search(r'<table class="planned".*?</table>', page, re.S)
    assert row and "01-06-2027" in row.group(0) and "€ 129,00" in row.group(0)
    assert '<td class="amount">2</td>' in row.group(0)
    assert ">Bestanden maken</button>" in page
    assert "op de incassodatum als betaling" in page  # when Bieb books them
    assert "Er zijn nog geen incassobestanden gemaakt." in page


def test_making_files_twice_makes_one_set(planned: list[Debit], manager: User) -> None:
    with desk(manager, MAKE_DAY) as client:
        first = client.post(MAKE, follow=True)
        second = client.post(MAKE, follow=True)
    assert "1 incassobestand gemaakt: 2 incasso's, € 129,00." in flash(first)[0]
    assert flash(second) == ["Er waren geen geplande incasso's om in een bestand te zetten."]
    batch = DebitBatch.objects.get()
    assert (batch.count, batch.total, batch.sequence_type, batch.state, batch.created_by) == (
        2,
        Decimal("129.00"),
        "FRST",
        BatchState.MADE,
        "manager",
    )
    assert set(Debit.objects.values_list("state", flat=True)) == {DebitState.IN_FILE}
    page = text(second)
    assert f'href="{PAGE}{batch.pk}/bestand.xml"' in page
    assert "Markeer als verstuurd" in page
    assert "Er zijn geen geplande incasso's die nog in een bestand moeten." in page


def test_a_get_makes_nothing(planned: list[Debit], manager: User) -> None:
    with desk(manager, MAKE_DAY) as client:
        assert client.get(MAKE)["Location"] == PAGE
    assert not DebitBatch.objects.exists()


def test_a_file_that_does_not_validate_gives_the_dutch_message(
    planned: list[Debit], manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bieb.debits import pain

    def refuse(*args: object, **kwargs: object) -> object:
        raise pain.PainError("Het incassobestand is niet geldig: proef.")

    monkeypatch.setattr("bieb.debits.collect.pain008_files", refuse)
    with desk(manager, MAKE_DAY) as client:
        response = client.post(MAKE, follow=True)
    assert flash(response) == ["Het incassobestand is niet geldig: proef."]
    assert not DebitBatch.objects.exists()
    assert set(Debit.objects.values_list("state", flat=True)) == {DebitState.PLANNED}


def test_a_library_without_incassant_id_points_to_the_settings(balie_oost: User) -> None:
    oost_manager = User.objects.create_user(
        username="financieel-oost", library=balie_oost.library, branch=balie_oost.branch
    )
    oost_manager.user_permissions.add(Permission.objects.get(codename="finance"))
    client = Client()
    client.force_login(oost_manager)
    page = text(client.get(PAGE))
    assert "Deze bibliotheek heeft geen Incassant-ID of IBAN ingesteld" in page
    assert f'href="/admin/libraries/library/{balie_oost.library_id}/change/"' in page
    assert ">Bestanden maken</button>" not in page
    response = client.post(MAKE, follow=True)
    assert flash(response) == ["Deze bibliotheek heeft geen Incassant-ID of IBAN ingesteld."]


# --- download and sent -----------------------------------------------------------------------


def test_the_download_is_the_stored_file(planned: list[Debit], manager: User) -> None:
    batch = make_files(manager)
    with desk(manager, MAKE_DAY) as client:
        response = client.get(f"{PAGE}{batch.pk}/bestand.xml")
    assert response.status_code == 200
    assert response.content == batch.xml.encode("utf-8")
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    assert batch.filename == f"incasso-20270601-FRST-{batch.pk}.xml"


def test_marking_sent_once(planned: list[Debit], manager: User) -> None:
    batch = make_files(manager)
    with desk(manager, D(2027, 5, 21)) as client:
        assert client.get(f"{PAGE}{batch.pk}/verstuurd/")["Location"] == PAGE
        assert DebitBatch.objects.get().state == BatchState.MADE
        first = client.post(f"{PAGE}{batch.pk}/verstuurd/", follow=True)
        second = client.post(f"{PAGE}{batch.pk}/verstuurd/", follow=True)
    assert flash(first) == [
        "Incassobestand 01-06-2027 FRST is gemarkeerd als verstuurd. "
        "Bieb boekt de incasso's op 01-06-2027."
    ]
    assert flash(second) == []
    batch.refresh_from_db()
    assert (batch.state, batch.sent_by) == (BatchState.SENT, "manager")
    assert AuditEvent.objects.filter(action="debits.file_sent").count() == 1
    page = text(second)
    assert "Markeer als verstuurd" not in page
    assert "21-05-2027 10:00<br>manager" in page


def test_the_totals_equal_the_ledger(planned: list[Debit], manager: User, bind: Library) -> None:
    batch = sent_and_booked(manager, bind)
    totals = {t.state: t for t in debit_batch_totals(library=bind)}
    processed = totals[BatchState.PROCESSED]
    paid = LedgerLine.objects.filter(method=PaymentMethod.DEBIT)
    assert (processed.files, processed.count, processed.total) == (1, 2, Decimal("129.00"))
    assert processed.ledger == -sum(p.amount for p in paid) == batch.total
    assert totals[BatchState.MADE].total == totals[BatchState.SENT].total == 0
    with desk(manager, D(2027, 6, 2)) as client:
        page = text(client.get(PAGE))
    assert "Het bedrag van de verwerkte bestanden is gelijk aan het grootboek (€ 129,00)." in page

    # A ledger that differs (the check must be able to fail) is shown as such.
    LedgerLine.objects.filter(pk=paid[0].pk).update(amount=Decimal("-60.00"))
    with desk(manager, D(2027, 6, 2)) as client:
        page = text(client.get(PAGE))
    assert "wijken af van het grootboek (€ 124,50)" in page


# --- returns ---------------------------------------------------------------------------------


def test_reading_in_returns_and_again(planned: list[Debit], manager: User, bind: Library) -> None:
    sent_and_booked(manager, bind)
    data = returns_for(planned[:1])
    with desk(manager, D(2027, 6, 8)) as client:
        response = upload(client, data)
        file = ReturnFile.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"{UPLOAD}{file.pk}/"
        result = client.get(response["Location"])
    assert flash(result) == ["camt054.xml ingelezen: 2 terugboekingen, 1 verwerkt, 1 niet herkend."]
    page = text(result)
    customer = planned[0].customer
    assert f'<a href="/balie/klanten/{customer.number}/">{customer.number}</a>' in page
    assert planned[0].end_to_end_id in page and "AM04 onvoldoende saldo" in page
    assert "€ 64,50" in page and "€ 10,00" in page
    assert '<span class="state">verwerkt</span>' in page
    assert '<span class="state state-wacht">niet herkend</span>' in page and "ONBEKEND-1" in page
    assert "Iemand Anders" in page
    debit = Debit.objects.get(pk=planned[0].pk)
    assert debit.state == DebitState.RETURNED

    lines = LedgerLine.objects.count()
    with desk(manager, D(2027, 6, 9)) as client:
        again = upload(client, data, name="nogmaals.xml")
        assert again["Location"] == f"{UPLOAD}{file.pk}/"
        shown = client.get(again["Location"])
        listing = text(client.get(PAGE))
    assert flash(shown) == [
        "Dit bestand is al eens ingelezen op 08-06-2027 om 10:00; er is niets veranderd."
    ]
    assert ReturnFile.objects.count() == 1 and LedgerLine.objects.count() == lines
    assert f'<a href="{UPLOAD}{file.pk}/">camt054.xml</a>' in listing


def test_a_malformed_file_is_refused_with_its_dutch_message(manager: User) -> None:
    with desk(manager, MAKE_DAY) as client:
        response = upload(client, b"<Document><niet")
        empty = client.post(UPLOAD, {})
    assert response.status_code == 400
    message = re.search(r'<p class="field-error" id="err_bestand">([^<]*)</p>', text(response))
    assert message and "niet ingelezen" in message.group(1)
    assert 'aria-invalid="true"' in text(response)
    assert not ReturnFile.objects.exists()
    assert empty.status_code == 400 and "Kies het bestand van de bank." in text(empty)


def test_a_file_over_the_limit_is_refused(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bieb.counter.incasso.RETURN_FILE_MAX", 100)
    with desk(manager, MAKE_DAY) as client:
        response = upload(client, b"x" * 101)
    assert response.status_code == 400 and "groter dan" in text(response)
    assert not ReturnFile.objects.exists()


def test_handling_an_unknown_item(planned: list[Debit], manager: User, bind: Library) -> None:
    sent_and_booked(manager, bind)
    with desk(manager, D(2027, 6, 8)) as client:
        upload(client, returns_for(planned[:1]))
    file = ReturnFile.objects.get()
    unknown = ReturnItem.objects.get(state=ReturnItemState.UNMATCHED)
    known = ReturnItem.objects.get(state=ReturnItemState.PROCESSED)
    url = f"{UPLOAD}{file.pk}/{unknown.pk}/afgehandeld/"
    with desk(manager, D(2027, 6, 9)) as client:
        empty = client.post(url, {"toelichting": "  "})
        assert empty.status_code == 400
        assert "Schrijf kort op hoe deze terugboeking is afgehandeld." in text(empty)
        assert f'id="note-{unknown.pk}"' in text(empty) and "autofocus" in text(empty)
        done = client.post(url, {"toelichting": "Betaling van een andere vereniging"})
        assert done["Location"] == f"{UPLOAD}{file.pk}/#item-{unknown.pk}"
        client.post(url, {"toelichting": "nogmaals"})  # a second click changes nothing
        page = text(client.get(f"{UPLOAD}{file.pk}/"))
        # only an unknown item is handled by hand
        refused = client.post(f"{UPLOAD}{file.pk}/{known.pk}/afgehandeld/", {"toelichting": "x"})
        assert refused.status_code == 400
    unknown.refresh_from_db()
    assert (unknown.state, unknown.handled_by, unknown.handled_note) == (
        ReturnItemState.HANDLED,
        "manager",
        "Betaling van een andere vereniging",
    )
    assert "afgehandeld</span> door manager: Betaling van een andere vereniging" in page
    (event,) = AuditEvent.objects.filter(action="debits.return_handled")
    assert (event.actor_name, event.object_id, event.library_id) == (
        "manager",
        str(unknown.pk),
        bind.pk,
    )
    assert event.data["note"] == "Betaling van een andere vereniging"


# --- one library's files only ----------------------------------------------------------------


def test_another_librarys_files_are_not_found(
    planned: list[Debit], manager: User, bind: Library, balie_oost: User
) -> None:
    sent_and_booked(manager, bind)
    with desk(manager, D(2027, 6, 8)) as client:
        upload(client, returns_for(planned[:1]))
    batch = DebitBatch.objects.get()
    file = ReturnFile.objects.get()
    item = ReturnItem.objects.get(state=ReturnItemState.UNMATCHED)
    oost_manager = User.objects.create_user(
        username="financieel-oost", library=balie_oost.library, branch=balie_oost.branch
    )
    oost_manager.user_permissions.add(Permission.objects.get(codename="finance"))
    with desk(oost_manager, D(2027, 6, 9)) as client:
        for path in (
            f"{PAGE}{batch.pk}/bestand.xml",
            f"{PAGE}{batch.pk}/verstuurd/",
            f"{UPLOAD}{file.pk}/",
            f"{UPLOAD}{file.pk}/{item.pk}/afgehandeld/",
        ):
            assert client.get(path).status_code == 404, path
            assert client.post(path, {"toelichting": "x"}).status_code == 404, path
        page = text(client.get(PAGE))
        # the same file read in by the other library is its own (unmatched there)
        upload(client, returns_for(planned[:1]))
    assert "camt054.xml" not in page and "01-06-2027" not in page
    item.refresh_from_db()
    assert item.state == ReturnItemState.UNMATCHED
    theirs = ReturnFile.objects.get(library=balie_oost.library)
    assert (theirs.matched, theirs.unmatched) == (0, 2)
    assert Debit.objects.get(pk=planned[0].pk).state == DebitState.RETURNED
    assert Mandate.objects.count() == 2


def test_a_debit_returned_before_the_collection_date_is_not_in_the_ledger(
    planned: list[Debit], manager: User, bind: Library
) -> None:
    make_files(manager)
    with desk(manager, D(2027, 5, 25)) as client:  # refused before the date: never booked
        upload(client, returns_for(planned[:1]))
    assert Debit.objects.get(pk=planned[0].pk).state == DebitState.RETURNED
    batch = sent_and_booked(manager, bind, made=True)
    processed = {t.state: t for t in debit_batch_totals(library=bind)}[BatchState.PROCESSED]
    assert (processed.total, processed.ledger, processed.unbooked) == (
        batch.total,
        Decimal("64.50"),
        Decimal("64.50"),
    )
    assert processed.equal
    with desk(manager, D(2027, 6, 2)) as client:
        page = text(client.get(PAGE))
    assert "€ 64,50 vóór de incassodatum door de bank teruggeboekt" in page
    assert "gelijk aan het grootboek (€ 64,50 plus € 64,50 niet geboekt)" in page


# --- cost ------------------------------------------------------------------------------------


def test_the_pages_cost_a_fixed_number_of_queries(
    planned: list[Debit], manager: User, bind: Library
) -> None:
    from tests.counter.test_queries import queries

    sent_and_booked(manager, bind)
    with desk(manager, D(2027, 6, 8)) as client:
        upload(client, returns_for(planned))
        file = ReturnFile.objects.get()
        page = queries(client, "GET", PAGE, shows="Incassobestanden")
        result = queries(client, "GET", f"{UPLOAD}{file.pk}/", shows="Posten van")
    # the session, user, desk; planned, what the daily run settled, a page of open amounts with
    # their totals, a page of files, their ledger, totals (2), return files
    assert page <= 14, page
    assert result <= 8, result
