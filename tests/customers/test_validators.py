"""The customer validators: what a user typing at the counter or online would notice."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from bieb.customers import validators as v
from bieb.customers.details import LABELS, customer_details_clean

TODAY = dt.date(2024, 6, 15)


def message(func, *args, **kwargs) -> str:
    """The single Dutch message of the ValidationError that `func` raises."""
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    (text,) = info.value.messages
    return text


def elfproef(account: str) -> bool:
    """The old Dutch bank-account check that IBAN validation must no longer apply."""
    return sum(int(d) * w for d, w in zip(account, range(10, 0, -1), strict=True)) % 11 == 0


# --- initials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("eb", "E.B."),
        ("E B", "E.B."),
        ("e.b.", "E.B."),
        ("E.B.", "E.B."),
        (" e . b ", "E.B."),
        ("J.Th.", "J.Th."),
        ("j.th", "J.Th."),
        ("ij.", "IJ."),
        ("IJ.A.", "IJ.A."),
        ("é.b.", "É.B."),
    ],
)
def test_initials_are_normalised(typed: str, stored: str) -> None:
    assert v.clean_initials(typed) == stored


def test_initials_are_required() -> None:
    for empty in ("", "   ", None):
        text = message(v.clean_initials, empty)
        assert "Vul de voorletters in" in text
        assert "E.B." in text


def test_initials_with_digits_or_signs_are_refused() -> None:
    for typed in ("E1", "E.B.!", "E,B"):
        text = message(v.clean_initials, typed)
        assert "alleen uit letters" in text
        assert "E.B." in text


def test_initials_that_are_a_word_are_refused() -> None:
    text = message(v.clean_initials, "Eva Berta")
    assert "punt erachter" in text
    assert "J.Th." in text


def test_too_many_initials_are_refused() -> None:
    assert "punt erachter" in message(v.clean_initials, "abcdefghijk")
    assert v.clean_initials("abcdefghij") == "A.B.C.D.E.F.G.H.I.J."


# --- prefix, surname, first name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Van der", "van der"),
        ("DE", "de"),
        ("van  den", "van den"),
        ("van 't", "van 't"),
        ("van \u2019t", "van 't"),
        ("", ""),
        (None, ""),
    ],
)
def test_prefix_is_lower_case_and_optional(typed: str | None, stored: str) -> None:
    assert v.clean_prefix(typed) == stored


def test_prefix_with_digits_or_too_long_is_refused() -> None:
    for typed in ("v4n", "van-der", "a" * 21):
        text = message(v.clean_prefix, typed)
        assert "van der" in text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Tester", "Tester"),
        ("  Tester  ", "Tester"),
        ("Groot  Koerkamp", "Groot Koerkamp"),
        ("Jansen-de Vries", "Jansen-de Vries"),
        ("O\u2019Brien", "O'Brien"),
        ("Çelik", "Çelik"),
        ("Mu\u0308ller", "Müller"),  # composed (NFC), as the database compares it
    ],
)
def test_surname_is_kept_as_typed_but_tidied(typed: str, stored: str) -> None:
    assert v.clean_surname(typed) == stored


def test_surname_is_required() -> None:
    assert "Vul de achternaam in" in message(v.clean_surname, "")
    assert "Vul de achternaam in" in message(v.clean_surname, None)


def test_surname_with_digits_is_refused_saying_what_to_remove() -> None:
    for typed in ("Tester2", "Tester!", "-", "'"):
        text = message(v.clean_surname, typed)
        assert "achternaam" in text
        assert "haal cijfers en andere tekens weg" in text


def test_surname_longer_than_100_characters_is_refused() -> None:
    assert v.clean_surname("a" * 100) == "a" * 100
    text = message(v.clean_surname, "a" * 101)
    assert "te lang" in text
    assert "100" in text


def test_first_name_is_optional_and_checked_like_a_surname() -> None:
    assert v.clean_first_name("") == ""
    assert v.clean_first_name(None) == ""
    assert v.clean_first_name(" Eva  Maria ") == "Eva Maria"
    assert v.clean_first_name("Anne-Fleur") == "Anne-Fleur"
    text = message(v.clean_first_name, "Eva3")
    assert "roepnaam" in text
    assert "haal cijfers en andere tekens weg" in text


# --- birth date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["04-01-1991", "4-1-1991", "04011991", "4/1/1991", "04.01.1991", " 04-01-1991 "]
)
def test_birth_date_is_read_day_first(typed: str) -> None:
    assert v.clean_birth_date(typed, today=TODAY) == dt.date(1991, 1, 4)


def test_birth_date_accepts_a_date_or_datetime() -> None:
    assert v.clean_birth_date(dt.date(1991, 1, 4), today=TODAY) == dt.date(1991, 1, 4)
    assert v.clean_birth_date(dt.datetime(1991, 1, 4, 12, 30), today=TODAY) == dt.date(1991, 1, 4)


def test_birth_date_that_does_not_exist_is_refused() -> None:
    text = message(v.clean_birth_date, "31-02-1991", today=TODAY)
    assert "31-02-1991 bestaat niet" in text
    assert "dag en maand" in text
    assert "13-13-1991 bestaat niet" in message(v.clean_birth_date, "13-13-1991", today=TODAY)


def test_leap_day_only_in_a_leap_year() -> None:
    assert v.clean_birth_date("29-02-2000", today=TODAY) == dt.date(2000, 2, 29)
    assert "29-02-1991 bestaat niet" in message(v.clean_birth_date, "29-02-1991", today=TODAY)


def test_birth_date_in_the_future_is_refused() -> None:
    assert v.clean_birth_date("15-06-2024", today=TODAY) == TODAY
    for typed in ("16-06-2024", "04-01-2091", dt.date(2030, 1, 1)):
        text = message(v.clean_birth_date, typed, today=TODAY)
        assert "in de toekomst" in text
        assert "jaartal" in text


def test_birth_date_far_in_the_past_is_refused() -> None:
    text = message(v.clean_birth_date, "04-01-1891", today=TODAY)
    assert "120 jaar of langer" in text
    assert "jaartal" in text


def test_birth_date_120_years_back_counts_to_the_day() -> None:
    assert v.clean_birth_date("16-06-1904", today=TODAY) == dt.date(1904, 6, 16)
    assert "120 jaar of langer" in message(v.clean_birth_date, "01-01-1904", today=TODAY)


def test_birth_date_in_other_digits_than_0_to_9_is_refused() -> None:
    assert "dd-mm-jjjj" in message(v.clean_birth_date, "٠٤-٠١-١٩٩١", today=TODAY)  # noqa: RUF001
    assert "huisnummer" in message(v.clean_house_number, "٤١")


def test_birth_date_required_and_format_shown_with_an_example() -> None:
    text = message(v.clean_birth_date, "", today=TODAY)
    assert "Vul de geboortedatum in" in text
    assert "dd-mm-jjjj" in text
    assert "04-01-1991" in text
    for typed in ("1991-01-04", "4 januari 1991", "04-01-91", "abc", 1991):
        text = message(v.clean_birth_date, typed, today=TODAY)
        assert "dd-mm-jjjj" in text
        assert "04-01-1991" in text


def test_birth_date_typed_year_first_is_never_misread() -> None:
    # 19910104 reads as day 19, month 91: refused, not silently taken as another date
    assert "bestaat niet" in message(v.clean_birth_date, "19910104", today=TODAY)
    # 20010105 reads as 20-01-0105: refused as too old, not silently accepted
    assert "jaartal" in message(v.clean_birth_date, "20010105", today=TODAY)


# --- country ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("NL", "NL"),
        ("nl", "NL"),
        ("Nederland", "NL"),
        ("nederland", "NL"),
        ("", "NL"),
        (None, "NL"),
        ("BE", "BE"),
        ("België", "BE"),
        ("Duitsland", "DE"),
    ],
)
def test_country_by_code_or_dutch_name(typed: str | None, code: str) -> None:
    assert v.clean_country(typed) == code


def test_unknown_country_is_refused() -> None:
    for typed in ("XX", "Holland-ish", "Germany"):
        assert "Kies een land uit de lijst" in message(v.clean_country, typed)


def test_country_choices_put_nederland_first_with_dutch_names() -> None:
    choices = v.country_choices()
    assert choices[0] == ("NL", "Nederland")
    assert ("BE", "België") in choices
    assert v.country_name("DE") == "Duitsland"


# --- postcode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("9468 bg", "9468BG", "9468 BG"),
        ("9468BG", "9468BG", "9468 BG"),
        ("9468  Bg", "9468BG", "9468 BG"),
        ("9468-BG", "9468BG", "9468 BG"),
        ("1000 AA", "1000AA", "1000 AA"),
        ("9999 ZZ", "9999ZZ", "9999 ZZ"),
    ],
)
def test_dutch_postcode_is_stored_compact_and_shown_with_a_space(
    typed: str, stored: str, shown: str
) -> None:
    assert v.clean_postcode(typed, country="NL") == stored
    assert v.format_postcode(stored) == shown
    assert v.format_postcode(stored, "NL") == shown


@pytest.mark.parametrize("letters", ["FI", "OQ", "UY", "IF", "QU", "YO"])
def test_postcode_letters_f_i_o_q_u_y_are_valid(letters: str) -> None:
    assert v.clean_postcode(f"1234 {letters}", country="NL") == f"1234{letters}"


@pytest.mark.parametrize("letters", ["SA", "SD", "SS", "sa", "sd", "ss"])
def test_postcode_letters_sa_sd_ss_are_refused(letters: str) -> None:
    text = message(v.clean_postcode, f"1234 {letters}", country="NL")
    assert "SA, SD of SS bestaan niet" in text
    assert "letters" in text


@pytest.mark.parametrize("typed", ["0123 AB", "0000 AA", "123 AB", "12345 AB", "1234 A", "AB 1234"])
def test_wrong_dutch_postcode_is_refused_with_an_example(typed: str) -> None:
    text = message(v.clean_postcode, typed, country="NL")
    assert "niet met 0 beginnend" in text
    assert "9468 BG" in text


def test_dutch_postcode_is_required() -> None:
    text = message(v.clean_postcode, "", country="NL")
    assert "Vul de postcode in" in text
    assert "9468 BG" in text


def test_foreign_postcode_is_kept_as_typed_in_capitals() -> None:
    assert v.clean_postcode("b-1000", country="BE") == "B-1000"
    assert v.clean_postcode("sw1a 1aa", country="GB") == "SW1A 1AA"
    assert v.clean_postcode("", country="BE") == ""
    assert v.format_postcode("SW1A 1AA", "GB") == "SW1A 1AA"
    assert v.format_postcode("123456", "DE") == "123456"


def test_foreign_postcode_too_long_or_with_signs_is_refused() -> None:
    for typed in ("1" * 13, "1000#", "10/00"):
        text = message(v.clean_postcode, typed, country="BE")
        assert "hoogstens 12" in text


# --- house number ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number", "letter", "addition", "shown"),
    [
        ("41", 41, "", "", "41"),
        ("41A", 41, "A", "", "41A"),
        ("41a", 41, "A", "", "41A"),
        ("41 a", 41, "A", "", "41A"),
        ("41-2", 41, "", "2", "41-2"),
        ("41/2", 41, "", "2", "41-2"),
        ("41A-2", 41, "A", "2", "41A-2"),
        ("41 a 2", 41, "A", "2", "41A-2"),
        ("41 bis", 41, "", "BIS", "41-BIS"),
        ("41-hs", 41, "", "HS", "41-HS"),
        ("1", 1, "", "", "1"),
        ("99999", 99999, "", "", "99999"),
    ],
)
def test_house_number_parts(
    typed: str, number: int, letter: str, addition: str, shown: str
) -> None:
    house = v.clean_house_number(typed)
    assert house == v.HouseNumber(number=number, letter=letter, addition=addition)
    assert str(house) == shown


def test_house_number_zero_is_refused() -> None:
    text = message(v.clean_house_number, "0")
    assert "tussen 1 en 99999" in text


def test_house_number_too_big_is_refused_not_split() -> None:
    # 100000 must not silently become 10000 with addition 0
    assert "tussen 1 en 99999" in message(v.clean_house_number, "100000")
    assert "tussen 1 en 99999" in message(v.clean_house_number, "123456-2")


@pytest.mark.parametrize("typed", ["abc", "A41", "41 abcdef", "41--2", "41.2"])
def test_house_number_without_digits_first_is_refused_with_examples(typed: str) -> None:
    text = message(v.clean_house_number, typed)
    assert "bijvoorbeeld 41, 41A of 41-2" in text


def test_house_number_is_required_in_the_netherlands_only() -> None:
    text = message(v.clean_house_number, "")
    assert "Vul het huisnummer in" in text
    assert "41A" in text
    assert v.clean_house_number("", required=False) is None
    assert v.clean_house_number(None, required=False) is None


# --- IBAN and BIC ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "NL91 ABNA 0417 1643 00",
        "NL91ABNA0417164300",
        "nl91abna0417164300",
        " NL91 ABNA 0417164300 ",
    ],
)
def test_iban_is_stored_compact_and_in_capitals(typed: str) -> None:
    assert v.clean_iban(typed) == "NL91ABNA0417164300"


def test_iban_is_shown_in_groups_of_four() -> None:
    assert v.format_iban("NL91ABNA0417164300") == "NL91 ABNA 0417 1643 00"
    assert v.format_iban("DE89370400440532013000") == "DE89 3704 0044 0532 0130 00"


def test_iban_is_optional() -> None:
    assert v.clean_iban("") == ""
    assert v.clean_iban(None) == ""


def test_iban_that_fails_the_old_elfproef_is_accepted() -> None:
    assert not elfproef("0123456788")
    assert v.clean_iban("NL29 ABNA 0123 4567 88") == "NL29ABNA0123456788"
    assert v.bic_for_iban("NL29ABNA0123456788") == "ABNANL2A"


def test_foreign_iban_is_accepted() -> None:
    assert v.clean_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert v.clean_iban("BE68 5390 0754 7034") == "BE68539007547034"


def test_iban_with_wrong_check_digits_is_refused() -> None:
    text = message(v.clean_iban, "NL91 ABNA 0417 1643 01")
    assert "controlegetal" in text
    assert "klopt niet" in text


def test_iban_with_wrong_length_is_refused() -> None:
    text = message(v.clean_iban, "NL91 ABNA 0417 1643 0")
    assert "aantal tekens" in text
    assert "18" in text


def test_text_that_is_no_iban_is_refused_with_an_example() -> None:
    for typed in ("hallo", "XX91 ABNA 0417 1643 00", "NL", "0417164300"):
        text = message(v.clean_iban, typed)
        assert "NL91 ABNA 0417 1643 00" in text or "landcode" in text


def test_bic_is_derived_from_a_dutch_iban() -> None:
    assert v.bic_for_iban("NL91ABNA0417164300") == "ABNANL2A"
    assert v.bic_for_iban("DE89370400440532013000") == ""
    assert v.bic_for_iban("") == ""
    assert v.bic_for_iban("NL91XXXX0417164300") == ""
    assert v.bic_for_iban("NL") == ""


def test_empty_bic_is_filled_in_from_the_iban() -> None:
    assert v.clean_bic("", iban="NL91ABNA0417164300") == "ABNANL2A"
    assert v.clean_bic(None, iban="NL91ABNA0417164300") == "ABNANL2A"
    assert v.clean_bic("", iban="DE89370400440532013000") == ""
    assert v.clean_bic("", iban="") == ""


def test_bic_that_agrees_with_the_iban_is_accepted() -> None:
    assert v.clean_bic("abna nl 2a", iban="NL91ABNA0417164300") == "ABNANL2A"
    assert v.clean_bic("ABNANL2AXXX", iban="NL91ABNA0417164300") == "ABNANL2AXXX"
    # a branch code of the same bank is the same bank
    assert v.clean_bic("ABNANL2A123", iban="NL91ABNA0417164300") == "ABNANL2A123"


def test_bic_that_disagrees_with_a_dutch_iban_names_the_right_bic() -> None:
    text = message(v.clean_bic, "RABONL2U", iban="NL91ABNA0417164300")
    assert "hoort niet bij de IBAN" in text
    assert "ABNANL2A" in text
    assert "Laat de BIC leeg" in text


def test_bic_with_a_foreign_iban_is_checked_on_its_form_only() -> None:
    assert v.clean_bic("COBADEFFXXX", iban="DE89370400440532013000") == "COBADEFFXXX"


def test_bic_without_iban_is_refused() -> None:
    text = message(v.clean_bic, "ABNANL2A", iban="")
    assert "Vul eerst de IBAN in" in text


def test_malformed_bic_is_refused_with_an_example() -> None:
    for typed in ("ABN", "ABNANL2", "ABNANL2AXX"):
        text = message(v.clean_bic, typed, iban="NL91ABNA0417164300")
        assert "8 of 11 tekens" in text
        assert "ABNANL2A" in text


# --- e-mail and card number ------------------------------------------------------------------


def test_email_domain_is_lower_case_and_local_part_kept() -> None:
    assert v.clean_email(" Eva.Tester@Example.NL ") == "Eva.Tester@example.nl"
    assert v.clean_email("eb@tester.nl") == "eb@tester.nl"


def test_email_is_optional_unless_required() -> None:
    assert v.clean_email("") == ""
    assert v.clean_email(None) == ""
    text = message(v.clean_email, "", required=True)
    assert "Vul het e-mailadres in" in text
    assert "inlogaccount" in text


def test_invalid_email_is_refused_with_an_example() -> None:
    for typed in ("eva", "eva@", "@example.nl", "eva@@example.nl"):
        text = message(v.clean_email, typed)
        assert "niet geldig" in text
        assert "naam@voorbeeld.nl" in text
    assert "niet geldig" in message(v.clean_email, "eva tester@example.nl")
    assert "niet geldig" in message(v.clean_email, "a" * 250 + "@x.nl")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("123456", "123456"), ("2 0123 4567 8901", "2012345678901"), (12345678, "12345678")],
)
def test_card_number_is_digits_only(typed: object, stored: str) -> None:
    assert v.clean_card_number(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "1" * 21, "12345a", "", None, "١٢٣٤٥٦", "-123456"])
def test_wrong_card_number_is_refused_saying_how_to_generate_one(typed: object) -> None:
    text = message(v.clean_card_number, typed)
    assert "6 tot 20 cijfers" in text
    assert "scan de pas opnieuw" in text


# --- properties: random input gives a value or a ValidationError -----------------------------

anything = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.text(alphabet=st.characters(codec="ascii")),
    st.from_regex(r"[0-9A-Za-z .\-/]{0,30}", fullmatch=True),
)
FAST = settings(max_examples=200, deadline=None)


def value_or_validation_error(func, *args, **kwargs) -> object:
    try:
        return func(*args, **kwargs)
    except ValidationError as error:
        assert error.messages
        assert all(isinstance(m, str) and m for m in error.messages)
        return None


@FAST
@given(anything)
def test_name_validators_never_crash(value: object) -> None:
    for func in (v.clean_initials, v.clean_prefix, v.clean_surname, v.clean_first_name):
        out = value_or_validation_error(func, value)
        assert out is None or isinstance(out, str)


@FAST
@given(st.one_of(anything, st.dates(), st.datetimes()))
def test_clean_birth_date_never_crashes(value: object) -> None:
    out = value_or_validation_error(v.clean_birth_date, value, today=TODAY)
    assert out is None or (isinstance(out, dt.date) and out <= TODAY)


@FAST
@given(anything)
def test_clean_country_never_crashes(value: object) -> None:
    out = value_or_validation_error(v.clean_country, value)
    assert out is None or out == "NL" or v.country_name(out) != out


@FAST
@given(anything, st.sampled_from(["NL", "BE", "DE", "GB"]))
def test_clean_postcode_never_crashes(value: object, country: str) -> None:
    out = value_or_validation_error(v.clean_postcode, value, country=country)
    if isinstance(out, str):
        assert isinstance(v.format_postcode(out, country), str)


@FAST
@given(anything, st.booleans())
def test_clean_house_number_never_crashes(value: object, required: bool) -> None:
    out = value_or_validation_error(v.clean_house_number, value, required=required)
    assert out is None or isinstance(out, v.HouseNumber)


@FAST
@given(anything)
def test_clean_iban_never_crashes(value: object) -> None:
    out = value_or_validation_error(v.clean_iban, value)
    if isinstance(out, str):
        assert isinstance(v.format_iban(out), str)
        assert isinstance(v.bic_for_iban(out), str)


@FAST
@given(st.text())
def test_bic_for_iban_never_raises(value: str) -> None:
    assert isinstance(v.bic_for_iban(value), str)


@FAST
@given(anything, st.sampled_from(["", "NL91ABNA0417164300", "DE89370400440532013000"]))
def test_clean_bic_never_crashes(value: object, iban: str) -> None:
    out = value_or_validation_error(v.clean_bic, value, iban=iban)
    assert out is None or isinstance(out, str)


@FAST
@given(anything, st.booleans())
def test_clean_email_never_crashes(value: object, required: bool) -> None:
    out = value_or_validation_error(v.clean_email, value, required=required)
    assert out is None or isinstance(out, str)


@FAST
@given(anything)
def test_clean_card_number_never_crashes(value: object) -> None:
    out = value_or_validation_error(v.clean_card_number, value)
    assert out is None or (out.isascii() and out.isdigit() and 6 <= len(out) <= 20)


@FAST
@given(
    st.fixed_dictionaries({key: st.one_of(st.text(), st.none(), st.integers()) for key in LABELS}),
    st.booleans(),
)
def test_customer_details_clean_never_crashes(raw: dict[str, object], email_required: bool) -> None:
    try:
        details = customer_details_clean(raw, today=TODAY, email_required=email_required)
    except ValidationError as error:
        assert error.message_dict
        assert set(error.message_dict) <= set(LABELS)
        return
    assert isinstance(details.display_name, str)


# --- properties that say something -----------------------------------------------------------

DUTCH_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
postcode_like = st.one_of(
    st.text(),
    st.from_regex(r"(NL-?)?[0-9]{4} ?[A-Za-z]{2}", fullmatch=True),
)


@FAST
@given(postcode_like)
def test_accepted_dutch_postcode_is_four_digits_and_two_capitals(value: str) -> None:
    out = value_or_validation_error(v.clean_postcode, value, country="NL")
    if out is not None:
        assert DUTCH_POSTCODE.match(out)
        assert out[4:] not in {"SA", "SD", "SS"}
        assert v.clean_postcode(v.format_postcode(out), country="NL") == out


iban_like = st.one_of(
    st.text(),
    st.from_regex(r"[A-Za-z]{2}[0-9]{2}[ A-Za-z0-9]{8,30}", fullmatch=True),
    st.sampled_from(
        ["NL91 ABNA 0417 1643 00", "nl29abna0123456788", "DE89 3704 0044 0532 0130 00"]
    ),
)


@FAST
@given(iban_like)
def test_clean_iban_is_idempotent(value: str) -> None:
    out = value_or_validation_error(v.clean_iban, value)
    if out:
        assert v.clean_iban(out) == out
        assert v.clean_iban(v.format_iban(out)) == out


initials_like = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(categories=["L"], include_characters=". ")),
    st.from_regex(r"[A-Za-z]{1,3}(\.? ?[A-Za-z]{1,3}){0,4}\.?", fullmatch=True),
)


@FAST
@given(initials_like)
def test_clean_initials_is_idempotent(value: str) -> None:
    out = value_or_validation_error(v.clean_initials, value)
    if out is not None:
        assert v.clean_initials(out) == out


house_like = st.one_of(
    st.text(),
    st.from_regex(r"[0-9]{1,6} ?[A-Za-z]? ?[-/ ]? ?[A-Za-z0-9]{0,4}", fullmatch=True),
)


@FAST
@given(house_like)
def test_clean_house_number_round_trips_via_str(value: str) -> None:
    out = value_or_validation_error(v.clean_house_number, value)
    if out is not None:
        assert 1 <= out.number <= 99999
        assert v.clean_house_number(str(out)) == out


# --- the converse: every well-formed value is accepted -----------------------------------------
# The properties above only check what a validator lets through; a validator that refused
# everything would pass them. These generate values that are right by construction and demand
# that each is accepted and stored as the rule says.

postcode_letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2).filter(
    lambda letters: letters not in {"SA", "SD", "SS"}
)


@FAST
@given(
    st.integers(min_value=1000, max_value=9999),
    postcode_letters,
    st.sampled_from(["", " ", "  ", "-"]),
    st.booleans(),
)
def test_every_well_formed_dutch_postcode_is_accepted(
    digits: int, letters: str, separator: str, lower: bool
) -> None:
    typed = f"{digits}{separator}{letters.lower() if lower else letters}"
    assert v.clean_postcode(typed, country="NL") == f"{digits}{letters}"


@FAST
@given(st.from_regex(r"[0-9]{10}", fullmatch=True), st.sampled_from(["ABNA", "INGB", "RABO"]))
def test_every_iban_with_right_check_digits_is_accepted(account: str, bank: str) -> None:
    from schwifty import IBAN

    iban = IBAN.generate("NL", bank_code=bank, account_code=account).compact
    assert v.clean_iban(iban) == iban
    assert v.clean_iban(v.format_iban(iban).lower()) == iban


@FAST
@given(st.lists(st.sampled_from("ABCDEFGHKLMNPRSTVWZ"), min_size=1, max_size=5))
def test_every_row_of_initials_is_accepted(letters: list[str]) -> None:
    typed = " ".join(letter.lower() for letter in letters)
    assert v.clean_initials(typed) == "".join(f"{letter}." for letter in letters)


@FAST
@given(
    st.integers(min_value=1, max_value=99999),
    st.sampled_from(["", "A", "b"]),
    st.sampled_from(["", "-2", " bis"]),
)
def test_every_house_number_in_range_is_accepted(number: int, letter: str, addition: str) -> None:
    out = v.clean_house_number(f"{number}{letter}{addition}")
    assert out is not None
    assert (out.number, out.letter) == (number, letter.upper())
