"""Mijn bibliotheek's pages with the test client, the member signed in as the callback signs
them in: what they see, that they see only their own data at this library, and the changes
they make (address, e-mail, newsletter; "Opzeggen" once; the download)."""

import datetime as dt
import json
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.core.dates import date_nl
from bieb.customers.models import Customer, MembershipStatus
from bieb.kb.models import LoginAccount
from bieb.mail.models import OutboxMessage
from bieb.mijn.session import IDLE
from tests.mijn.factories import sign_in

pytestmark = pytest.mark.django_db


def page(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def once_key(response: object) -> str:
    match = re.search(r'name="once" value="([^"]+)"', page(response))
    assert match, page(response)
    return match.group(1)


def test_not_signed_in_the_member_is_sent_to_sign_in_and_back(client: Client, bind: object) -> None:
    response = client.get("/mijn/bind/betalingen/")
    assert response.status_code == 302
    assert response["Location"] == "/mijn/bind/inloggen/?next=%2Fmijn%2Fbind%2Fbetalingen%2F"
    assert client.get("/mijn/nergens/").status_code == 404


def test_the_overview_shows_the_membership_what_is_open_and_how_to_pay(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    membership = member.memberships.get()
    response = sign_in(client, account).get("/mijn/bind/")
    text = page(response)
    assert response.status_code == 200
    assert "Hallo Mw. E.B. Tester" in text and member.number in text
    assert "Digital only" in text and "wacht op betaling" in text
    period = f"{date_nl(membership.start_date)} t/m {date_nl(membership.valid_through)}"
    assert period in re.sub(r"<[^>]+>", "", text)
    assert "Rechten t/m" in text and "nog geen rechten: eerst betalen" in text
    assert "Nog te betalen" in text and "€ 42,00" in text
    assert re.search(r'href="http://[^"]+/betalen/verlengen/[^"/]+/">Betalen € 42,00</a>', text)
    assert "Met een betaallink (iDEAL) in de mail, of aan de balie" in text
    assert 'href="/kb/account/">Inlogaccount beheren</a>' in text
    assert "Uitloggen" in text and "Download mijn gegevens" in text


def test_a_member_of_both_libraries_sees_each_librarys_own_customer_only(
    client: Client, account: LoginAccount, member: Customer, oost_member: Customer
) -> None:
    sign_in(client, account)
    for path in ["/mijn/bind/", "/mijn/bind/betalingen/", "/mijn/bind/gegevens/"]:
        text = page(client.get(path))
        assert member.number in text and oost_member.number not in text, path
    for path in ["/mijn/oost/", "/mijn/oost/gegevens/"]:
        text = page(client.get(path))
        assert oost_member.number in text and member.number not in text, path
        assert "Oosterling" in text or "Bibliotheek Oost" in text
    oost_file = json.loads(client.get("/mijn/oost/gegevens/download/json/").content)
    assert oost_file["customer"]["number"] == oost_member.number
    assert member.number not in json.dumps(oost_file)


def test_an_account_without_a_customer_here_gets_a_clear_page(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    response = sign_in(client, account).get("/mijn/oost/")
    text = page(response)
    assert response.status_code == 200
    assert "Je bent geen lid van Bibliotheek Oost" in text
    assert "Met inlogaccount <strong>e.b.tester</strong>" in text
    assert 'href="/word-lid/oost/"' in text
    assert 'href="/mijn/bind/">Bibliotheken Bind</a>' in text  # where they are a member
    assert member.number not in text
    assert "Betalingen" not in text  # no menu of a customer's pages
    for path in ["/mijn/oost/betalingen/", "/mijn/oost/gegevens/download/json/"]:
        assert "Je bent geen lid van Bibliotheek Oost" in page(client.get(path))


def test_another_customers_membership_cannot_be_cancelled(
    client: Client, account: LoginAccount, member: Customer, other_member: Customer
) -> None:
    theirs = other_member.memberships.get()
    sign_in(client, account)
    url = f"/mijn/bind/abonnementen/{theirs.pk}/opzeggen/"
    assert client.get(url).status_code == 404
    response = client.post(url, {"reason": "prijs", "once": str(uuid.uuid4())})
    assert response.status_code == 404
    assert "Dit abonnement hoort niet bij je klantnummer." in page(response)
    theirs.refresh_from_db()
    assert not theirs.is_cancelled


def test_opzeggen_asks_first_and_cancels_once_however_often_it_is_sent(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    membership = member.memberships.get()
    url = f"/mijn/bind/abonnementen/{membership.pk}/opzeggen/"
    question = sign_in(client, account).get(url)
    text = page(question)
    assert "Digital only opzeggen?" in text
    assert f"Ja, opzeggen per {date_nl(membership.valid_through)}" in text
    assert "Nee, niet opzeggen" in text
    membership.refresh_from_db()
    assert not membership.is_cancelled  # asking changes nothing

    key = once_key(question)
    no_reason = client.post(url, {"once": key, "reason": ""})
    assert no_reason.status_code == 400 and "Kies waarom je opzegt." in page(no_reason)
    assert once_key(no_reason) == key  # the same form, still unsent

    done = client.post(url, {"once": key, "reason": "prijs"}, follow=True)
    assert f"is opgezegd per {date_nl(membership.valid_through)}" in page(done)
    again = client.post(url, {"once": key, "reason": "prijs"}, follow=True)  # a double tap
    said = f'class="notice">Digital only: opgezegd per {date_nl(membership.valid_through)}.'
    assert again.status_code == 200 and said not in page(again)  # the same form: done already
    fresh = client.post(url, {"once": str(uuid.uuid4()), "reason": "prijs"}, follow=True)
    assert said in page(fresh)  # an old tab, sent later: said, not done again

    membership.refresh_from_db()
    assert membership.is_cancelled and membership.cancel_reason == "prijs"
    rows = AuditEvent.objects.filter(action="membership.cancelled")
    assert [r.actor_name for r in rows] == ["online:e.b.tester"]
    assert rows[0].actor_id is None
    assert OutboxMessage.objects.filter(kind="customers.cancelled").count() == 1
    overview = page(client.get("/mijn/bind/"))
    assert "Opzeggen" not in overview.replace("Opgezegd", "")
    assert f"stopt per {date_nl(membership.valid_through)}" in overview


SAVED = {"country": "NL", "postcode": "1234AB", "house_number": "12B-2", "email": "Post@example.nl"}


def test_address_email_and_newsletter_with_the_moment_of_consent(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    sign_in(client, account)
    wrong = client.post(
        "/mijn/bind/gegevens/",
        {"country": "NL", "postcode": "0468 BG", "house_number": "12b", "email": "nieuw@example"},
    )
    text = page(wrong)
    assert wrong.status_code == 400
    assert "Een Nederlandse postcode is 4 cijfers" in text  # the counter's own message
    assert "ziet eruit als naam@voorbeeld.nl" in text
    assert 'value="0468 BG"' in text and 'value="12b"' in text  # nothing typed is lost
    assert 'id="id_postcode"' in text and "autofocus" in text
    member.refresh_from_db()
    assert member.postcode == "9468BG"

    moment = dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        saved = client.post(
            "/mijn/bind/gegevens/",
            {
                "country": "NL",
                "postcode": "1234 ab",
                "house_number": "12b-2",
                "email": "Post@Example.NL",
                "newsletter": "ja",
            },
            follow=True,
        )
    assert "Je gegevens zijn opgeslagen." in page(saved)
    assert "Je bent aangemeld sinds 02-03-2026 11:15" in page(saved)
    member.refresh_from_db()
    assert (member.postcode, member.house_number, member.house_letter) == ("1234AB", 12, "B")
    assert member.house_addition == "2" and member.email == "Post@example.nl"
    assert member.newsletter and member.newsletter_consent_at == moment
    # the login account keeps its own address
    assert LoginAccount.objects.get(pk=account.pk).email == "e.b.tester@example.nl"
    row = AuditEvent.objects.get(action="customer.contact_updated")
    assert row.actor_name == "online:e.b.tester" and row.actor_id is None
    assert set(row.data["fields"]) == {
        "postcode",
        "house_number",
        "house_letter",
        "house_addition",
        "email",
        "newsletter",
    }

    # the same form again: nothing changes, the consent keeps its moment
    later = client.post(
        "/mijn/bind/gegevens/",
        {**SAVED, "newsletter": "ja"},
        follow=True,
    )
    assert "Er is niets gewijzigd." in page(later)
    member.refresh_from_db()
    assert member.newsletter_consent_at == moment
    assert AuditEvent.objects.filter(action="customer.contact_updated").count() == 1

    off = client.post(
        "/mijn/bind/gegevens/",
        SAVED,
    )
    assert off.status_code == 302
    member.refresh_from_db()
    assert not member.newsletter and member.newsletter_consent_at is None


def test_the_library_e_mail_cannot_be_left_empty_for_a_member_with_a_login_account(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    response = sign_in(client, account).post(
        "/mijn/bind/gegevens/", {"country": "NL", "postcode": "9468BG", "house_number": "41"}
    )
    assert response.status_code == 400
    assert "Vul het e-mailadres in waarop de bibliotheek je mailt" in page(response)


def test_the_download_holds_the_members_data_and_nothing_of_another_customer(
    client: Client,
    account: LoginAccount,
    member: Customer,
    other_member: Customer,
    oost_member: Customer,
) -> None:
    response = sign_in(client, account).get("/mijn/bind/gegevens/download/json/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="mijn-gegevens-bind-{member.number}.json"'
    )
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["customer"]["number"] == member.number
    assert data["customer"]["birth_date"] == "1991-01-04"
    assert [m["subscription"]["code"] for m in data["memberships"]] == ["0141"]
    assert data["ledger"]["saldo"] == "42.00"
    for stranger in (other_member, oost_member):
        assert stranger.number not in raw
    assert "Anderlid" not in raw and "Oosterling" not in raw and "ander@example.nl" not in raw

    readable = page(client.get("/mijn/bind/gegevens/download/"))
    assert "Mw. E.B. Tester" in readable and "04-01-1991" in readable
    assert "Gegevens ingezien of gedownload" in readable  # the download itself, in the history
    assert "Anderlid" not in readable and other_member.number not in readable
    ways = list(
        AuditEvent.objects.filter(action="customer.exported").values_list("actor_name", "data__way")
    )
    assert sorted(ways) == [("online:e.b.tester", "json"), ("online:e.b.tester", "pagina")]


def test_the_sign_in_ends_after_half_an_hour_without_a_page(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    sign_in(client, account)
    assert client.get("/mijn/bind/").status_code == 200
    with time_machine.travel(timezone.now() + IDLE + dt.timedelta(minutes=1)):
        response = client.get("/mijn/bind/")
    assert response.status_code == 302 and "/mijn/bind/inloggen/" in response["Location"]


def test_a_form_sent_after_the_sign_in_ended_comes_back_filled_in(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    typed = {"country": "NL", "postcode": "1234 AB", "house_number": "7", "email": "x@example.nl"}
    response = client.post("/mijn/bind/gegevens/", typed)
    assert response.status_code == 302
    assert response["Location"] == "/mijn/bind/inloggen/?next=%2Fmijn%2Fbind%2Fgegevens%2F"
    text = page(sign_in(client, account).get("/mijn/bind/gegevens/"))
    assert 'value="1234 AB"' in text and 'value="x@example.nl"' in text
    assert "Wat je had ingevuld staat er weer" in text
    member.refresh_from_db()
    assert member.postcode == "9468BG"  # not saved until sent again


def test_a_member_with_two_numbers_here_chooses_which_to_see(
    client: Client, account: LoginAccount, member: Customer, branch_5280: object
) -> None:
    from bieb.libraries.models import SubscriptionType
    from tests.mijn.factories import member_customer

    Customer.objects.filter(pk=member.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    member.memberships.update(status=MembershipStatus.ENDED)
    newer = member_customer(
        account,
        branch=branch_5280,  # type: ignore[arg-type]
        subscription_type=SubscriptionType.objects.get(library__code="bind", code="0141"),
        postcode="9468AB",
    )
    sign_in(client, account)
    assert newer.number in page(client.get("/mijn/bind/betalingen/"))
    client.post("/mijn/bind/klantnummer/", {"number": member.number})
    shown = page(client.get("/mijn/bind/"))
    assert f'Klantnummer <span class="mono">{member.number}</span>' in shown
    client.post("/mijn/bind/klantnummer/", {"number": "99999999999999"})  # not theirs: ignored
    assert member.number in page(client.get("/mijn/bind/"))


def test_uitloggen_ends_the_sign_in_and_offers_the_kbs(
    client: Client, account: LoginAccount, member: Customer
) -> None:
    sign_in(client, account)
    assert client.get("/mijn/bind/uitloggen/").status_code == 405
    out = client.post("/mijn/bind/uitloggen/")
    assert "Je bent uitgelogd" in page(out)
    assert "/kb/uitloggen/?next=http" in page(out)
    assert client.get("/mijn/bind/").status_code == 302
