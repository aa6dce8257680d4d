"""E-mail addresses: one check (bieb.core.emails) for the login service and the library side;
the library's name for it is the same function."""

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from bieb.core.emails import email_clean
from bieb.customers.validators import clean_email


def verdict(func, value: object, required: bool) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    try:
        return ("ok", func(value, required=required))
    except ValidationError as error:
        return ("refused", " ".join(error.messages))


def test_the_sign_up_address_is_cleaned_as_before() -> None:
    assert email_clean(" Eva.Tester@Example.NL ") == "Eva.Tester@example.nl"
    assert email_clean("") == ""
    assert verdict(email_clean, "", True) == (
        "refused",
        "Vul het e-mailadres in: daar komt de mail om het inlogaccount te activeren.",
    )
    assert verdict(email_clean, "eva@", False) == (
        "refused",
        "Dit e-mailadres is niet geldig; het ziet eruit als naam@voorbeeld.nl.",
    )
    assert verdict(email_clean, "eva tester@example.nl", False)[0] == "refused"


addresses = st.one_of(
    st.none(),
    st.integers(),
    st.text(),
    st.emails().map(str),
    st.builds(lambda a, b: f" {a}@{b} ", st.text(max_size=8), st.text(max_size=8)),
)


@settings(max_examples=300, deadline=None)
@given(addresses, st.booleans())
def test_the_login_service_and_the_library_agree_on_every_address(
    value: object, required: bool
) -> None:
    assert verdict(email_clean, value, required) == verdict(clean_email, value, required)


def test_both_sides_use_the_one_check() -> None:
    assert clean_email is email_clean
