"""The admin says in Dutch what is wrong when a save breaks a rule of the database: every
CheckConstraint and UniqueConstraint has a sentence of its own, never Django's "Beperking
'subscription_age_band' is geschonden"."""

from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client

from bieb.libraries.models import Discount, SubscriptionType, Tariff
from bieb.staff.models import User
from tests.otp import admin_login

pytestmark = pytest.mark.django_db


def _form_data(client: Client, url: str) -> dict[str, Any]:
    """What the admin's change form would post as it stands."""
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


@pytest.fixture
def operator(client: Client, demo: None) -> Client:
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    return client


@pytest.mark.parametrize(
    ("model", "lookup", "change", "sentence"),
    [
        (
            SubscriptionType,
            {"code": "0141"},
            {"min_age": "18", "max_age": "10"},
            "De maximumleeftijd moet leeg zijn, of gelijk aan of hoger dan de minimumleeftijd.",
        ),
        (
            Tariff,
            {"code": "0001"},
            {"is_default": "on"},
            "Deze bibliotheek heeft al een standaardtarief.",
        ),
        (
            Tariff,
            {"code": "0001"},
            {"kind": "vast", "amount": ""},
            "Een tarief van de soort 'Vast bedrag' heeft een bedrag nodig",
        ),
    ],
)
def test_a_save_against_a_rule_says_what_is_wrong_in_dutch(
    operator: Client,
    model: type[models.Model],
    lookup: dict[str, str],
    change: dict[str, str],
    sentence: str,
) -> None:
    obj = model._default_manager.get(library__code="bind", **lookup)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk}/change/"
    data = {**_form_data(operator, url), **change}

    response = operator.post(url, data)

    assert response.status_code == 200  # the form again, nothing saved
    page = response.content.decode()
    assert sentence.replace("'", "&#x27;") in page
    assert "Beperking" not in page and "geschonden" not in page


def test_a_discount_of_more_than_100_percent_is_refused_in_dutch(operator: Client) -> None:
    discount = Discount.objects.filter(library__code="bind").first()
    assert discount is not None
    url = f"/admin/libraries/discount/{discount.pk}/change/"
    data = {**_form_data(operator, url), "kind": "percentage", "value": "150"}
    page = operator.post(url, data).content.decode()
    assert "Een kortingspercentage kan niet hoger zijn dan 100." in page


def test_every_constraint_has_a_dutch_sentence_of_its_own() -> None:
    default = models.BaseConstraint.default_violation_error_message
    missing = [
        f"{model._meta.label}.{constraint.name}"
        for model in apps.get_models()
        if model.__module__.startswith("bieb.")
        for constraint in model._meta.constraints
        if constraint.violation_error_message in (None, default)
    ]
    assert missing == []
