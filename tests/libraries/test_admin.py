"""The library's settings of the membership year and its contact details in /admin/, and the
subscription type a youth subscription goes on to ("gaat over op")."""

import re

import pytest
from django.conf import settings
from django.test import Client

from bieb.libraries.models import Library, SubscriptionType
from bieb.staff.models import User
from tests.otp import admin_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Client, demo: None) -> Client:
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    return client


def test_the_library_page_groups_contact_and_membership_year(
    operator: Client, bind: Library
) -> None:
    page = operator.get(f"/admin/libraries/library/{bind.pk}/change/").content.decode()
    contact = page.index('class="fieldset-heading">Contact</h2>')
    year = page.index('class="fieldset-heading">Lidmaatschapsjaar</h2>')
    assert contact < page.index('name="contact_phone"') < year
    for field in (
        "payment_term_days",
        "renewal_lead_days",
        "grace_days",
        "reminder_first_days",
        "reminder_second_days",
        "arrears_months",
    ):
        assert page.index(f'name="{field}"') > year
    assert "betaaltermijn (dagen)" in page.lower() and "coulance (dagen)" in page.lower()


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="(\d+)"', select.group(0))


def test_the_successor_is_one_of_the_same_librarys_other_types(
    operator: Client, youth: SubscriptionType, adult: SubscriptionType
) -> None:
    page = operator.get(f"/admin/libraries/subscriptiontype/{youth.pk}/change/").content.decode()
    offered = options(page, "successor")
    bind_types = SubscriptionType.objects.filter(library=youth.library).exclude(pk=youth.pk)
    assert sorted(offered) == sorted(str(pk) for pk in bind_types.values_list("pk", flat=True))
    assert str(adult.pk) in offered and str(youth.pk) not in offered
    oost_type = SubscriptionType.objects.exclude(library=youth.library).first()
    assert oost_type is not None and str(oost_type.pk) not in offered

    # posted anyway (an old form, a crafted request): refused with the reason
    form = {
        "library": youth.library_id,
        "code": youth.code,
        "name": youth.name,
        "price": "0,00",
        "period_months": youth.period_months,
        "renewal": youth.renewal,
        "min_age": youth.min_age,
        "max_age": youth.max_age,
        "digital_rights": youth.digital_rights,
        "physical_loans": "on",
        "active": "on",
        "successor": oost_type.pk,
    }
    refused = operator.post(f"/admin/libraries/subscriptiontype/{youth.pk}/change/", form)
    assert refused.status_code == 200
    assert "Selecteer een geldige keuze" in refused.content.decode()
    youth.refresh_from_db()
    assert youth.successor_id == adult.pk


def form_of(page: str) -> dict[str, str]:
    """The values a browser would post from the admin's change form."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("submit", "button", "file")):
            continue
        if kind and kind.group(1) == "checkbox" and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = body.strip()
    return data


def test_direct_debit_is_set_in_the_library_and_a_late_collection_day_is_warned(
    operator: Client, bind: Library
) -> None:
    url = f"/admin/libraries/library/{bind.pk}/change/"
    page = operator.get(url).content.decode()
    heading = page.index('class="fieldset-heading">Automatische incasso</h2>')
    for field in (
        "creditor_name",
        "creditor_id",
        "creditor_iban",
        "creditor_bic",
        "prenotification_days",
        "collection_day",
        "debits_per_file",
    ):
        assert page.index(f'name="{field}"') > heading
    data = form_of(page)
    assert data["creditor_id"] == bind.creditor_id

    # Collected on the 25th while unpaid rights run on 0 days: members would lose them.
    late = operator.post(url, {**data, "collection_day": "25", "grace_days": "0"}, follow=True)
    text = late.content.decode()
    assert "Let op: met incassodag 25" in text and "ten minste 24 dagen" in text
    bind.refresh_from_db()
    assert bind.collection_day == 25  # saved; it is a warning

    covered = operator.post(url, {**data, "collection_day": "25", "grace_days": "24"}, follow=True)
    assert "Let op: met incassodag" not in covered.content.decode()
    assert "Let op: met incassodag" not in operator.post(url, data, follow=True).content.decode()


def test_every_admin_with_fieldsets_shows_every_editable_field() -> None:
    """A field added to a model is settable: an admin that groups its fields names it (the
    direct debit settings were once left out of the library's page)."""
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if not model_admin.fieldsets:
            continue
        shown: set[str] = set()
        for _title, options in model_admin.fieldsets:
            for entry in options["fields"]:
                shown.update(entry if isinstance(entry, (tuple, list)) else [entry])
        editable = {f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key}
        missing = editable - shown - set(model_admin.readonly_fields or ())
        assert not missing, f"{model.__name__}: {sorted(missing)}"
