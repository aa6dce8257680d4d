"""The new-customer flow at the counter (flow A), through the Django test client."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer, LedgerLine
from bieb.kb import interface
from bieb.kb.models import LoginAccount
from bieb.mail.models import OutboxMessage
from tests.counter.conftest import (
    focused,
    hidden,
    new_customer_form,
    register_at_counter,
    walk_to_costs,
)

pytestmark = pytest.mark.django_db

URL = "/balie/klanten/nieuw/"


def test_the_empty_form_starts_in_klantnummer_with_the_instructions_defaults(
    balie_client: Client,
) -> None:
    response = balie_client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert focused(response) == "id_number"
    labels = {
        re.sub(r"<[^>]+>", "", text).strip()
        for text in re.findall(r"<(?:label|legend)\b[^>]*>(.*?)</(?:label|legend)>", page)
    }
    for label in [
        "Klantnummer",
        "Aanhef",
        "Voorletters",
        "Voorvoegsel",
        "Achternaam",
        "Roepnaam",
        "Geboortedatum (dd-mm-jjjj)",
        "Land",
        "Postcode",
        "Huisnummer",
        "IBAN",
        "BIC",
        "Legitimatie gecontroleerd?",
        "Gebruik inlogaccount",
        "E-mail",
        "Nieuwsbrief",
    ]:
        assert label in labels, label
    # every input, select and button-free control has a label
    ids = re.findall(r'<(?:input|select)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page)
    for field_id in ids:
        assert f'for="{field_id}"' in page, field_id
    assert '<option value="NL" selected>Nederland</option>' in page
    assert 'id="id_use_login_account_ja" value="ja" checked' in page
    newsletter = re.search(r'<input type="checkbox" name="newsletter"[^>]*>', page)
    assert newsletter and "checked" not in newsletter.group(0)  # unticked
    assert "Systeem nummer laten genereren?" in page and ">Bevestig<" in page
    assert "VVVVVVVVVVVVVV" in page  # the row of V's the dialog's Ja fills in


def test_the_seeds_customer_is_registered_step_by_step(balie_client: Client, balie) -> None:  # type: ignore[no-untyped-def]
    form = new_customer_form()
    first = balie_client.post(URL, form)
    assert hidden(first, "reached") == "2"
    assert "Bestaand inlogaccount gebruiken" in first.content.decode()
    # "De meeste nieuwe klanten zullen nog geen inlogaccount hebben, dan kies je voor 'Nieuw
    # inlogaccount genereren'": the focus and the default are there, not on the rare choice
    assert focused(first) == "id_account_nieuw"
    assert hidden(first, "account") == "nieuw"
    assert re.search(r'id="id_account_nieuw"[^>]*aria-pressed="true"', first.content.decode())
    # the customer section stays as typed
    assert 'value="9468 BG"' in first.content.decode()
    # Enter (the form's default button, Volgende) takes the default
    by_enter = balie_client.post(URL, {**form, "reached": "2", "account": "nieuw"})
    assert hidden(by_enter, "reached") == "3"
    assert hidden(by_enter, "account") == "nieuw"

    second = balie_client.post(URL, {**form, "reached": "2", "choose_account": "nieuw"})
    assert hidden(second, "reached") == "3"
    assert hidden(second, "account") == "nieuw"
    assert "Kies het type abonnement" in second.content.decode()
    assert "0141 Digital only € 42,00 /12 mnd" in second.content.decode()
    assert focused(second).startswith("id_subscription_type_")

    third = balie_client.post(
        URL, {**form, "reached": "3", "account": "nieuw", "subscription_type": "0141"}
    )
    page = third.content.decode()
    assert hidden(third, "reached") == "4"
    assert "Opbouw abonnementskosten. Klant wordt gegenereerd; vestiging 5280" in page
    for row in ["Naam", "Leeftijd", "Tariefcode", "Vervalmaand", "Rechten t/m", "Abonnement"]:
        assert f">{row}<" in page, row
    assert "Mw. E.B. Tester" in page and "€ 42,00" in page and "Geldig t/m" in page
    assert focused(third) == "id_save"
    assert not Customer.objects.exists()  # nothing is saved before OK

    saved = balie_client.post(
        URL,
        {
            **form,
            "reached": "4",
            "account": "nieuw",
            "subscription_type": "0141",
            "tariff": "0002",
            "shown": hidden(third, "shown"),
            "action": "save",
        },
    )
    customer = Customer.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == f"/balie/klanten/{customer.number}/ingeschreven/?inlogaccount=nieuw"
    assert customer.display_name == "Mw. E.B. Tester"
    assert customer.registered_branch.number == "5280"
    assert customer.login_account_id == LoginAccount.objects.get(username=customer.number).pk
    assert interface.account_status(username=customer.number).state == "wacht"
    audit = AuditEvent.objects.get(action="customer.registered")
    assert audit.actor == balie and audit.data["login_account"] == customer.number

    done = balie_client.get(saved["Location"]).content.decode()
    assert "Genereren van inlogaccount gelukt" in done
    assert "Gebruikersnaam" in done and customer.number in done
    assert "e.b.tester@example.nl" in done
    assert "24 uur" in done
    assert f'href="/balie/klanten/{customer.number}/"' in done  # OK goes to the customer


def test_errors_keep_what_was_typed_and_focus_the_first_wrong_field(
    balie_client: Client,
) -> None:
    form = new_customer_form(
        birth_date="31-02-1991", postcode="9468 SS", surname="Tester", roepnaam="Els"
    )
    response = balie_client.post(URL, {**form, "first_name": "Els", "iban": "NL00 FOUT"})
    page = response.content.decode()
    assert response.status_code == 400
    assert focused(response) == "id_birth_date"
    assert "31-02-1991 bestaat niet" in page
    assert "SS" in page and "bestaan niet" in page
    for typed in ['value="31-02-1991"', 'value="9468 SS"', 'value="Els"', 'value="NL00 FOUT"']:
        assert typed in page
    assert hidden(response, "reached") == "1"


def test_nee_is_refused_with_its_reason_for_digital_only(balie_client: Client) -> None:
    form = new_customer_form(use_login_account="nee", reached="3", subscription_type="0141")
    response = balie_client.post(URL, form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nee kan niet bij Digital only" in page
    assert "Online Bibliotheek niet gebruiken" in page
    assert focused(response) == "id_use_login_account_nee"
    assert not Customer.objects.exists()


def test_an_error_in_the_customer_section_keeps_the_later_choices(balie_client: Client) -> None:
    form = new_customer_form(
        reached="4", account="nieuw", subscription_type="0141", tariff="0001", email=""
    )
    response = balie_client.post(URL, form)
    assert response.status_code == 400
    assert focused(response) == "id_email"
    assert hidden(response, "account") == "nieuw"
    assert hidden(response, "tariff") == "0001"
    assert 'value="0141" checked' in response.content.decode()


def test_no_card_for_digital_only_but_a_scanned_card_for_a_card_subscription(
    balie_client: Client,
) -> None:
    refused = balie_client.post(
        URL,
        new_customer_form(
            number="1234567890", reached="3", account="nieuw", subscription_type="0141"
        ),
    )
    assert refused.status_code == 400
    assert "Bij Digital only hoort geen pas" in refused.content.decode()
    assert focused(refused) == "id_number"

    response = register_at_counter(
        balie_client, number="1234567890", subscription_type="0110", birth_date="04-01-1971"
    )
    assert response.status_code == 302
    assert Customer.objects.get().number == "1234567890"


def test_a_double_submit_or_a_refresh_registers_once(balie_client: Client) -> None:
    data, _ = walk_to_costs(balie_client, new_customer_form())
    first = balie_client.post(URL, {**data, "action": "save"})
    again = balie_client.post(URL, {**data, "action": "save"})
    # Back, change a field and submit the same form again: still the first registration
    changed = balie_client.post(URL, {**data, "surname": "Anders", "action": "next"})
    assert first.status_code == again.status_code == changed.status_code == 302
    assert first["Location"] == again["Location"] == changed["Location"]
    assert Customer.objects.count() == 1
    assert LoginAccount.objects.count() == 1
    assert AuditEvent.objects.filter(action="customer.registered").count() == 1


def test_wijzig_tariefcode_changes_the_build_up_and_a_stale_build_up_is_not_saved(
    balie_client: Client,
) -> None:
    data, page = walk_to_costs(balie_client, new_customer_form(subscription_type="0141"))
    assert "0002 - standaard" in page.content.decode()

    changed = balie_client.post(URL, {**data, "tariff": "0001", "action": "wijzig"})
    assert "€ 0,00" in changed.content.decode()
    assert focused(changed) == "id_save"
    # OK with the tariff changed but the build-up on screen still the old one: not saved
    stale = balie_client.post(URL, {**data, "tariff": "0001", "action": "save"})
    assert stale.status_code == 200
    assert "Controleer hem en kies opnieuw OK" in stale.content.decode()
    assert not Customer.objects.exists()

    saved = balie_client.post(
        URL, {**data, "tariff": "0001", "shown": hidden(changed, "shown"), "action": "save"}
    )
    assert saved.status_code == 302
    customer = Customer.objects.get()
    assert customer.memberships.get().tariff.code == "0001"
    assert not LedgerLine.objects.filter(customer=customer).exists()


def test_a_likely_duplicate_is_shown_before_saving_with_a_link(
    balie_client: Client, tester: Customer
) -> None:
    data, page = walk_to_costs(balie_client, new_customer_form(email="ander@example.nl"))
    content = page.content.decode()
    assert "Mogelijk staat deze klant al ingeschreven" in content
    assert f'href="/balie/klanten/{tester.number}/"' in content
    assert focused(page) == "id_confirm_duplicate"

    refused = balie_client.post(URL, {**data, "action": "save"})
    assert refused.status_code == 400
    assert focused(refused) == "id_confirm_duplicate"
    assert Customer.objects.count() == 1

    saved = balie_client.post(URL, {**data, "confirm_duplicate": "on", "action": "save"})
    assert saved.status_code == 302
    assert Customer.objects.count() == 2


def test_a_waiting_account_gets_the_same_answer_and_no_code(
    balie_client: Client, oost_customer: Customer
) -> None:
    """The flow with the code is in tests/counter/test_link_consent.py."""
    form = new_customer_form(reached="2", account="bestaand")
    response = balie_client.post(URL, {**form, "existing_username": oost_customer.number})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Als dit inlogaccount bestaat" in content and "nog niet geactiveerd" not in content
    assert not OutboxMessage.objects.filter(kind="kb.link_code").exists()


def test_a_subscription_without_digital_rights_may_go_without_login_account(
    balie_client: Client, adult_no_digital
) -> None:  # type: ignore[no-untyped-def]
    response = register_at_counter(
        balie_client,
        use_login_account="nee",
        email="",
        subscription_type=adult_no_digital.code,
        birth_date="04-01-1971",
    )
    assert response.status_code == 302 and response["Location"].endswith("?inlogaccount=geen")
    customer = Customer.objects.get()
    assert customer.login_account_id is None and not customer.uses_login_account
    done = balie_client.get(response["Location"]).content.decode()
    assert "zonder inlogaccount" in done
    assert customer.ledger_lines.get().amount == Decimal("30.00")


@pytest.fixture
def adult_no_digital(bind):  # type: ignore[no-untyped-def]
    from bieb.libraries.models import DigitalRights, SubscriptionType

    return SubscriptionType.objects.create(
        library=bind,
        code="0120",
        name="Alleen boeken",
        price=Decimal("30.00"),
        min_age=18,
        digital_rights=DigitalRights.NONE,
    )
