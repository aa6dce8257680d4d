"""A customer's details validated as a whole form: one error per wrong field, in Dutch."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bieb.customers.details import CustomerDetails, clean_yes_no, customer_details_clean
from bieb.customers.validators import HouseNumber

TODAY = dt.date(2024, 6, 15)


def seed_form(**changes: object) -> dict[str, object]:
    """The seed's customer E.B. Tester as typed at the counter."""
    form: dict[str, object] = {
        "salutation": "",
        "initials": "e.b.",
        "prefix": "",
        "surname": "Tester",
        "first_name": "",
        "birth_date": "04-01-1991",
        "country": "Nederland",
        "postcode": "9468 bg",
        "house_number": "41",
        "iban": "",
        "bic": "",
        "identity_checked": "nee",
        "identity_document": "",
        "email": "eb@Tester.NL",
        "newsletter": "",
    }
    form.update(changes)
    return form


def errors_of(form: dict[str, object], **kwargs: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        customer_details_clean(form, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return info.value.message_dict


def test_full_valid_form_gives_the_details() -> None:
    details = customer_details_clean(seed_form(), today=TODAY)
    assert isinstance(details, CustomerDetails)
    assert details.display_name == "E.B. Tester"
    assert details.initials == "E.B."
    assert details.surname == "Tester"
    assert details.birth_date == dt.date(1991, 1, 4)
    assert details.country == "NL"
    assert details.postcode == "9468BG"
    assert details.house == HouseNumber(number=41)
    assert details.email == "eb@tester.nl"
    assert details.iban == ""
    assert details.bic == ""
    assert details.identity_checked is False
    assert details.newsletter is False


def test_salutation_shows_in_the_display_name() -> None:
    details = customer_details_clean(seed_form(salutation="mw"), today=TODAY)
    assert details.salutation == "mw"
    assert details.display_name == "Mw. E.B. Tester"
    by_label = customer_details_clean(seed_form(salutation="Dhr."), today=TODAY)
    assert by_label.display_name == "Dhr. E.B. Tester"


def test_prefix_shows_in_the_display_name() -> None:
    details = customer_details_clean(seed_form(prefix="Van der", surname="Berg"), today=TODAY)
    assert details.display_name == "E.B. van der Berg"


def test_model_fields_split_the_house_number() -> None:
    details = customer_details_clean(
        seed_form(house_number="41a-2", iban="NL91 ABNA 0417 1643 00"), today=TODAY
    )
    fields = details.model_fields()
    assert "house" not in fields
    assert fields["house_number"] == 41
    assert fields["house_letter"] == "A"
    assert fields["house_addition"] == "2"
    assert fields["iban"] == "NL91ABNA0417164300"
    assert fields["bic"] == "ABNANL2A"
    assert fields["postcode"] == "9468BG"


def test_several_wrong_fields_are_reported_together_in_dutch() -> None:
    errors = errors_of(
        seed_form(postcode="0468 BG", birth_date="31-02-1991", iban="NL91 ABNA 0417 1643 01")
    )
    assert set(errors) == {"postcode", "birth_date", "iban"}
    assert "9468 BG" in errors["postcode"][0]
    assert "31-02-1991 bestaat niet" in errors["birth_date"][0]
    assert "controlegetal" in errors["iban"][0]
    for field in ("initials", "surname", "country", "house_number", "email"):
        assert field not in errors


def test_every_wrong_field_has_its_own_key() -> None:
    errors = errors_of(
        seed_form(
            salutation="meneer",
            initials="E1",
            surname="",
            birth_date="2091-01-04",
            house_number="abc",
            identity_checked="misschien",
            identity_document="bibliotheekpas",
            email="eb@",
            newsletter="graag",
        )
    )
    assert set(errors) == {
        "salutation",
        "initials",
        "surname",
        "birth_date",
        "house_number",
        "identity_checked",
        "identity_document",
        "email",
        "newsletter",
    }
    assert "Kies een waarde uit de lijst" in errors["salutation"][0]
    assert "Vul de achternaam in" in errors["surname"][0]
    assert "dd-mm-jjjj" in errors["birth_date"][0]
    assert "41A" in errors["house_number"][0]
    assert "Kies Ja of Nee" in errors["identity_checked"][0]
    assert "naam@voorbeeld.nl" in errors["email"][0]


def test_house_number_error_is_reported_under_house_number() -> None:
    errors = errors_of(seed_form(house_number="0"))
    assert set(errors) == {"house_number"}
    assert "tussen 1 en 99999" in errors["house_number"][0]
    missing = errors_of(seed_form(house_number=""))
    assert set(missing) == {"house_number"}
    assert "Vul het huisnummer in" in missing["house_number"][0]


def test_bic_that_disagrees_with_the_iban_is_reported_under_bic() -> None:
    errors = errors_of(seed_form(iban="NL91 ABNA 0417 1643 00", bic="RABONL2U"))
    assert set(errors) == {"bic"}
    assert "ABNANL2A" in errors["bic"][0]


def test_email_required_reports_the_email_field() -> None:
    errors = errors_of(seed_form(email=""), email_required=True)
    assert set(errors) == {"email"}
    assert "Vul het e-mailadres in" in errors["email"][0]
    assert customer_details_clean(seed_form(email=""), today=TODAY).email == ""


def test_foreign_country_accepts_its_postcode_and_no_house_number() -> None:
    details = customer_details_clean(
        seed_form(country="BE", postcode="b-1000", house_number=""), today=TODAY
    )
    assert details.country == "BE"
    assert details.postcode == "B-1000"
    assert details.house is None
    assert details.model_fields()["house_number"] is None


def test_foreign_country_by_dutch_name() -> None:
    details = customer_details_clean(
        seed_form(country="Duitsland", postcode="10115", house_number="12"), today=TODAY
    )
    assert details.country == "DE"
    assert details.house == HouseNumber(number=12)


def test_unknown_country_is_reported_and_address_not_judged() -> None:
    errors = errors_of(seed_form(country="Atlantis", postcode="?", house_number="?"))
    assert set(errors) == {"country"}
    assert "Kies een land uit de lijst" in errors["country"][0]


def test_missing_keys_count_as_empty() -> None:
    errors = errors_of({})
    assert {"initials", "surname", "birth_date", "postcode", "house_number"} <= set(errors)
    assert "country" not in errors  # empty means Nederland


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("ja", True), ("Ja", True), ("j", True), ("on", True), (True, True), ("nee", False)],
)
def test_yes_no(typed: object, meant: bool) -> None:
    assert clean_yes_no(typed) is meant
    assert clean_yes_no("") is False
    assert clean_yes_no(None) is False
