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
