"""Mandates at the counter: 'Machtiging automatische incasso' in the registration (Ja, Nee,
Ja without an IBAN, a double OK), the amendment when the IBAN changes, and the section
"Machtigingen" on the customer page ('Intrekken', 'Weer activeren', 'Machtiging vastleggen'),
within the desk's library only and behind CSRF."""

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.core.dates import local_today
from bieb.counter.fields import customer_values
from bieb.customers.models import Customer
from bieb.debits.models import Mandate, MandateKind, MandateState
from bieb.debits.services import mandate_block, mandate_create
from bieb.libraries.models import Library
from bieb.staff.models import User
from tests.counter.conftest import focused, new_customer_form, walk_to_costs

pytestmark = pytest.mark.django_db

IBAN = "NL91ABNA0417164300"
NEW_IBAN = "NL20INGB0001234567"
NEW = "/balie/klanten/nieuw/"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def once(response: Any) -> str:
    match = re.search(r'name="once" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def url(customer: Customer, tail: str = "") -> str:
    return f"/balie/klanten/{customer.number}/{tail}"


def today_text() -> str:
    return local_today().strftime("%d-%m-%Y")


# --- the registration --------------------------------------------------------------------------


def test_the_registration_asks_for_a_mandate_after_iban_and_bic_nee_by_default(
    balie_client: Client,
) -> None:
    page = balie_client.get(NEW).content.decode()
    order = [page.index(f'name="{name}"') for name in ("bic", "mandate", "identity_checked")]
    assert order == sorted(order)
    assert "Machtiging automatische incasso" in page
    assert re.search(r'id="id_mandate_nee" value="nee" checked', page)
    # signed today unless typed; both fields hidden while Nee is chosen
    assert f'value="{today_text()}"' in page
    assert re.search(r'data-shown-by="mandate=ja" hidden', page)


def test_a_library_that_does_not_collect_does_not_ask(client: Client, balie_oost: User) -> None:
    client.force_login(balie_oost)
    assert "Machtiging automatische incasso" not in client.get(NEW).content.decode()


def test_ja_makes_the_mandate_with_the_registration(balie_client: Client, balie: User) -> None:
    form = new_customer_form(
        iban="nl91 abna 0417 1643 00",
        mandate="ja",
        mandate_holder="",
        mandate_signed_on=today_text(),
    )
    data, costs = walk_to_costs(balie_client, form)
    # the holder left empty is the customer's name, shown before OK
    assert data["reached"] == "4"
    data["mandate_holder"] = hidden_or_value(costs, "mandate_holder")
    assert data["mandate_holder"] == "E.B. Tester"

    saved = balie_client.post(NEW, {**data, "action": "save"})

    assert saved.status_code == 302
    customer = Customer.objects.get()
    mandate = Mandate.objects.get()
    assert (mandate.customer, mandate.library.code) == (customer, "bind")
    assert (mandate.iban, mandate.bic, mandate.holder_name) == (IBAN, "ABNANL2A", "E.B. Tester")
    assert (mandate.kind, mandate.state) == (MandateKind.COUNTER, MandateState.ACTIVE)
    assert mandate.signed_on == local_today()
    assert mandate.reference == f"{customer.number}-1"
    assert mandate.created_by == balie
    assert [e.actor_name for e in mandate.events.all()] == ["balie"]
    assert AuditEvent.objects.filter(action="mandate.created", actor=balie).count() == 1
    # The result screen says so (what the member is told at the desk).
    result = text(balie_client.get(saved["Location"]))
    assert f"Machtiging automatische incasso {mandate.reference} vastgelegd" in result
    assert "(IBAN NL91 ABNA 0417 1643 00 ): de volgende jaren worden automatisch" in result


def hidden_or_value(response: Any, name: str) -> str:
    match = re.search(rf'name="{name}" id="id_{name}" value="([^"]*)"', response.content.decode())
    assert match, name
    return match.group(1)


def test_nee_makes_no_mandate(balie_client: Client) -> None:
    data, _ = walk_to_costs(balie_client, new_customer_form(iban=IBAN, mandate="nee"))
    assert balie_client.post(NEW, {**data, "action": "save"}).status_code == 302
    assert Customer.objects.count() == 1
    assert not Mandate.objects.exists()
    result = balie_client.get(f"/balie/klanten/{Customer.objects.get().number}/ingeschreven/")
    assert result.status_code == 200 and "Machtiging" not in text(result)


def test_ja_without_an_iban_is_said_at_the_iban_and_nothing_typed_is_lost(
    balie_client: Client,
) -> None:
    form = new_customer_form(
        mandate="ja", mandate_holder="J. de Vries", mandate_signed_on="01-02-2020"
    )
    page = balie_client.post(NEW, form)

    assert page.status_code == 400
    assert "Vul de IBAN in voor de machtiging." in text(page)
    assert focused(page) == "id_iban"
    content = page.content.decode()
    assert re.search(r'id="id_mandate_ja" value="ja" checked', content)
    assert 'value="J. de Vries"' in content and 'value="01-02-2020"' in content
    assert 'value="Tester"' in content
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Vul de datum van ondertekening in"),
        ("31-02-2026", "bestaat niet"),
        ("morgen", "Typ de datum van ondertekening als dd-mm-jjjj"),
        ("01-01-2999", "kan niet in de toekomst liggen"),
    ],
)
def test_a_wrong_signing_date_is_said_at_the_date(
    balie_client: Client, typed: str, message: str
) -> None:
    page = balie_client.post(
        NEW, new_customer_form(iban=IBAN, mandate="ja", mandate_signed_on=typed)
    )
    assert page.status_code == 400
    assert message in text(page)
    assert focused(page) == "id_mandate_signed_on"


def test_a_double_ok_makes_one_customer_and_one_mandate(balie_client: Client) -> None:
    data, _ = walk_to_costs(
        balie_client, new_customer_form(iban=IBAN, mandate="ja", mandate_signed_on=today_text())
    )
    first = balie_client.post(NEW, {**data, "action": "save"})
    second = balie_client.post(NEW, {**data, "action": "save"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Customer.objects.count() == 1
    assert Mandate.objects.count() == 1


def test_a_refused_mandate_saves_no_customer_either(
    balie_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mandate is made in the registration's transaction: refused, nothing is saved, and
    the refusal is said at its field."""
    data, _ = walk_to_costs(
        balie_client, new_customer_form(iban=IBAN, mandate="ja", mandate_signed_on=today_text())
    )

    def refuse(**_: object) -> None:
        raise ValidationError({"holder_name": "Gebruik hoogstens 70 tekens."})

    monkeypatch.setattr("bieb.counter.registration.mandate_create", refuse)
    page = balie_client.post(NEW, {**data, "action": "save"})

    assert page.status_code == 400
    assert "Gebruik hoogstens 70 tekens." in text(page)
    assert focused(page) == "id_mandate_holder"
    assert not Customer.objects.exists() and not Mandate.objects.exists()


# --- the customer's personal data --------------------------------------------------------------


@pytest.fixture
def mandate(tester: Customer, bind: Library, balie: User) -> Mandate:
    Customer.objects.filter(pk=tester.pk).update(iban=IBAN, bic="ABNANL2A")
    tester.refresh_from_db()
    return mandate_create(
        library=bind,
        customer=tester,
        iban=IBAN,
        holder_name="E.B. Tester",
        signed_on=dt.date(2026, 1, 2),
        kind=MandateKind.COUNTER,
        actor=balie,
    )


def edit_form(customer: Customer, **changes: str) -> dict[str, str]:
    """The personal data as the edit form shows them, with `changes` typed."""
    return {**customer_values(customer), **changes}


def test_a_new_iban_takes_the_mandate_along(
    balie_client: Client, tester: Customer, mandate: Mandate
) -> None:
    sent = balie_client.post(url(tester, "wijzigen/"), edit_form(tester, iban=NEW_IBAN, bic=""))

    assert sent.status_code == 302
    mandate.refresh_from_db()
    assert (mandate.iban, mandate.original_iban) == (NEW_IBAN, IBAN)
    shown = text(balie_client.get(sent["Location"]))
    assert (
        f"De machtiging {mandate.reference} gaat mee naar de nieuwe IBAN NL20 INGB 0001 2345 67; "
        "de bank hoort het bij de volgende incasso." in shown
    )
    assert "IBAN gewijzigd van NL91 ABNA 0417 1643 00 in NL20 INGB 0001 2345 67" in shown
    assert AuditEvent.objects.filter(action="mandate.amended").count() == 1


def test_an_iban_cleared_under_a_mandate_is_refused_and_nothing_changes(
    balie_client: Client, tester: Customer, mandate: Mandate
) -> None:
    page = balie_client.post(
        url(tester, "wijzigen/"), edit_form(tester, iban="", bic="", surname="Anders")
    )

    assert page.status_code == 400
    assert f"Op deze IBAN loopt machtiging {mandate.reference}" in text(page)
    tester.refresh_from_db()
    assert (tester.iban, tester.surname) == (IBAN, "Tester")
    assert 'value="Anders"' in page.content.decode()  # what was typed stays


# --- the section Machtigingen ------------------------------------------------------------------


def test_the_customer_page_shows_the_mandate_and_its_history(
    balie_client: Client, tester: Customer, mandate: Mandate
) -> None:
    shown = text(balie_client.get(url(tester)))
    assert "Machtigingen" in shown
    for part in (
        mandate.reference,
        "NL91 ABNA 0417 1643 00",
        "E.B. Tester",
        "aan de balie getekend",
        "02-01-2026",
        "actief",
        "Machtiging aan de balie getekend, IBAN NL91 ABNA 0417 1643 00",
        "balie",
        "Intrekken",
    ):
        assert part in shown, part
    assert "Machtiging vastleggen" not in shown  # one is active


def test_no_section_where_the_library_does_not_collect_and_there_are_none(
    client: Client, balie_oost: User, oost_customer: Customer
) -> None:
    client.force_login(balie_oost)
    assert "Machtigingen" not in text(client.get(url(oost_customer)))


def test_intrekken_with_a_reason_once(
    balie_client: Client, tester: Customer, mandate: Mandate, balie: User
) -> None:
    key = once(balie_client.get(url(tester)))
    form = {"once": key, "reason": "Klant betaalt voortaan zelf"}
    done = balie_client.post(url(tester, f"machtigingen/{mandate.pk}/intrekken/"), form)
    again = balie_client.post(url(tester, f"machtigingen/{mandate.pk}/intrekken/"), form)

    assert done.status_code == again.status_code == 302
    assert done["Location"].endswith("#machtigingen")
    mandate.refresh_from_db()
    assert mandate.state == MandateState.WITHDRAWN
    assert AuditEvent.objects.filter(action="mandate.ingetrokken", actor=balie).count() == 1
    shown = text(balie_client.get(url(tester)))
    assert "Machtiging ingetrokken: Klant betaalt voortaan zelf" in shown
    assert "Machtiging vastleggen" in shown  # none active any more


def test_weer_activeren_of_a_blocked_mandate(
    balie_client: Client, tester: Customer, mandate: Mandate, balie: User
) -> None:
    mandate_block(mandate=mandate, description="Teruggeboekt door klant (MD06)", actor_name="bank")
    page = balie_client.get(url(tester))
    assert "Weer activeren" in text(page) and "Intrekken" not in text(page)

    done = balie_client.post(
        url(tester, f"machtigingen/{mandate.pk}/activeren/"), {"once": once(page)}
    )

    assert done.status_code == 302
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE
    assert "Machtiging weer actief gemaakt" in text(balie_client.get(url(tester)))


def test_weer_activeren_of_an_active_one_is_refused_in_dutch(
    balie_client: Client, tester: Customer, mandate: Mandate
) -> None:
    page = balie_client.get(url(tester))
    refused = balie_client.post(
        url(tester, f"machtigingen/{mandate.pk}/activeren/"), {"once": once(page)}
    )
    assert refused.status_code == 400
    assert "Alleen een geblokkeerde machtiging kan weer actief worden." in text(refused)


def test_machtiging_vastleggen_prefilled_from_the_customer(
    balie_client: Client, tester: Customer, balie: User
) -> None:
    Customer.objects.filter(pk=tester.pk).update(iban=IBAN, bic="ABNANL2A")
    page = balie_client.get(url(tester))
    content = page.content.decode()
    assert 'id="id_mandate_iban" value="NL91 ABNA 0417 1643 00"' in content
    assert f'id="id_mandate_signed_on" value="{today_text()}"' in content
    holder = re.search(r'id="id_mandate_holder_name" value="([^"]*)"', content)
    assert holder and holder.group(1) == "E.B. Tester"

    form = {
        "once": once(page),
        "iban": "NL91 ABNA 0417 1643 00",
        "holder_name": "E.B. Tester",
        "signed_on": today_text(),
    }
    done = balie_client.post(url(tester, "machtigingen/nieuw/"), form)
    again = balie_client.post(url(tester, "machtigingen/nieuw/"), form)

    assert done.status_code == again.status_code == 302
    mandate = Mandate.objects.get()
    assert (mandate.iban, mandate.bic, mandate.kind) == (IBAN, "ABNANL2A", MandateKind.COUNTER)
    assert AuditEvent.objects.filter(action="mandate.created", actor=balie).count() == 1


def test_machtiging_vastleggen_says_what_is_wrong_per_field_and_keeps_it(
    balie_client: Client, tester: Customer
) -> None:
    page = balie_client.get(url(tester))
    form = {
        "once": once(page),
        "iban": "NL91ABNA0417164301",
        "holder_name": "",
        "signed_on": "01-01-2020",
    }
    refused = balie_client.post(url(tester, "machtigingen/nieuw/"), form)

    assert refused.status_code == 400
    shown = text(refused)
    assert "controlegetal" in shown
    assert "Vul de naam van de rekeninghouder in." in shown
    content = refused.content.decode()
    assert 'value="NL91ABNA0417164301"' in content and 'value="01-01-2020"' in content
    assert focused(refused) == "id_mandate_iban"
    assert not Mandate.objects.exists()


def test_another_librarys_staff_get_a_404(
    client: Client, balie_oost: User, tester: Customer, mandate: Mandate
) -> None:
    client.force_login(balie_oost)
    assert client.get(url(tester)).status_code == 404
    for tail in (
        f"machtigingen/{mandate.pk}/intrekken/",
        f"machtigingen/{mandate.pk}/activeren/",
        "machtigingen/nieuw/",
    ):
        assert client.post(url(tester, tail), {"once": "x"}).status_code == 404, tail
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE


def test_a_mandate_of_another_customer_is_a_404(
    balie_client: Client, tester: Customer, mandate: Mandate, balie: User
) -> None:
    other = Customer.objects.exclude(pk=tester.pk).first()
    if other is None:
        register = walk_to_costs(
            balie_client, new_customer_form(surname="Anders", email="anders@example.nl")
        )[0]
        balie_client.post(NEW, {**register, "action": "save"})
        other = Customer.objects.get(surname="Anders")
    page = balie_client.get(url(other))
    sent = balie_client.post(
        url(other, f"machtigingen/{mandate.pk}/intrekken/"), {"once": once(page)}
    )
    assert sent.status_code == 404
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE


def test_the_posts_need_the_csrf_token(balie: User, tester: Customer, mandate: Mandate) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(balie)
    page = client.get(url(tester))
    for tail in (
        f"machtigingen/{mandate.pk}/intrekken/",
        f"machtigingen/{mandate.pk}/activeren/",
        "machtigingen/nieuw/",
    ):
        sent = client.post(
            url(tester, tail), {"once": once(page)}, HTTP_ORIGIN="https://aanvaller.example"
        )
        assert sent.status_code == 403, tail
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE
    assert Mandate.objects.count() == 1


def test_get_on_a_change_changes_nothing(
    balie_client: Client, tester: Customer, mandate: Mandate
) -> None:
    sent = balie_client.get(url(tester, f"machtigingen/{mandate.pk}/intrekken/"))
    assert sent.status_code == 302
    mandate.refresh_from_db()
    assert mandate.state == MandateState.ACTIVE
