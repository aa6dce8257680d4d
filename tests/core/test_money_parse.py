"""Typed amounts: one parser for every place where staff type an amount (core.money).

Dutch notation as `format_euro` shows it (`€ 1.234,50`), ASCII digits only (Python's `\\d` and
`Decimal()` both take Arabic-Indic and full-width digits), at most two decimals, above zero, and
at most a given maximum."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bieb.core.money import format_euro, money_parse

FAST = settings(max_examples=300, deadline=None)
cents = st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("34", "34.00"),
        ("34,50", "34.50"),
        ("34,5", "34.50"),
        ("€ 34,50", "34.50"),
        ("€34,50", "34.50"),
        ("  € 34,50 ", "34.50"),
        ("1.234,50", "1234.50"),
        ("1234,50", "1234.50"),
        ("1.000", "1000.00"),
        ("34,-", "34.00"),
        ("0,01", "0.01"),
        # the numeric keypad's decimal key types a point: two digits after it are cents
        ("42.50", "42.50"),
        ("42.5", "42.50"),
    ],
)
def test_dutch_amounts_as_staff_type_them(typed: str, amount: str) -> None:
    assert money_parse(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Vul een bedrag in"),
        ("   ", "Vul een bedrag in"),
        ("veertig", "bijvoorbeeld 42,00"),
        ("\u0663\u0664", "cijfers 0 tot en met 9"),  # Arabic-Indic digits
        ("\uff11\uff12\uff13", "cijfers 0 tot en met 9"),  # full-width digits
        ("\u0969\u096a,\u096b\u0966", "cijfers 0 tot en met 9"),  # Devanagari
        ("34,505", "twee cijfers achter de komma"),
        ("0", "groter dan € 0,00"),
        ("0,00", "groter dan € 0,00"),
        ("-5", "bijvoorbeeld 42,00"),
        ("€ -5,00", "bijvoorbeeld 42,00"),
        ("12.34,00", "bijvoorbeeld 42,00"),  # a point that groups no thousands
        ("1,234.50", "bijvoorbeeld 42,00"),  # English notation
        ("34,50,1", "bijvoorbeeld 42,00"),
        ("1e3", "bijvoorbeeld 42,00"),
        ("NaN", "bijvoorbeeld 42,00"),
        ("Infinity", "bijvoorbeeld 42,00"),
        ("34 50", "bijvoorbeeld 42,00"),
        ("9" * 400, "bijvoorbeeld 42,00"),
    ],
)
def test_what_is_no_amount_says_why_in_dutch(typed: str, says: str) -> None:
    with pytest.raises(ValidationError) as error:
        money_parse(typed)
    assert says in error.value.messages[0]


def test_a_maximum() -> None:
    assert money_parse("1.000,00", maximum=Decimal("1000")) == Decimal("1000.00")
    with pytest.raises(ValidationError) as error:
        money_parse("€ 999.999,99", maximum=Decimal("1000"))
    assert error.value.messages == ["Het bedrag is te hoog: hoogstens € 1.000,00."]
    with pytest.raises(ValidationError):
        money_parse("1.000,01", maximum=Decimal("1000"))


@FAST
@given(cents)
def test_what_format_euro_shows_reads_back_as_the_same_amount(amount: Decimal) -> None:
    shown = format_euro(amount)
    assert money_parse(shown) == amount
    assert money_parse(shown.removeprefix("€ ")) == amount
    assert money_parse(shown.replace(".", "")) == amount  # without thousands points


@FAST
@given(st.text(max_size=20))
def test_any_text_is_an_amount_made_of_ascii_digits_or_a_dutch_error(typed: str) -> None:
    try:
        amount = money_parse(typed)
    except ValidationError as error:
        assert error.messages and all(m.strip() for m in error.messages)
        return
    digits = [c for c in typed if c.isdigit()]
    assert digits and all(c in "0123456789" for c in digits), typed
    assert amount > 0 and amount == amount.quantize(Decimal("0.01"))
    assert money_parse(format_euro(amount)) == amount


@FAST
@given(
    cents,
    st.sampled_from(
        "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
        "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
        "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f"
    ),
    st.data(),
)
def test_one_digit_beyond_ascii_makes_any_amount_wrong(
    amount: Decimal, digit: str, data: st.DataObject
) -> None:
    shown = format_euro(amount)
    positions = [i for i, c in enumerate(shown) if c.isdigit()]
    assume(positions)
    i = data.draw(st.sampled_from(positions))
    with pytest.raises(ValidationError):
        money_parse(shown[:i] + digit + shown[i + 1 :])


@pytest.mark.django_db
def test_every_amount_the_admin_edits_is_read_by_the_same_parser(rf) -> None:  # type: ignore[no-untyped-def]
    """The admin's decimal fields (prices, tariff amounts, discounts) take what the desk takes,
    and zero (a free tariff); never digits of another script."""
    from django.contrib import admin
    from django.db import models

    from bieb.staff.models import User

    request = rf.get("/admin/")
    request.user = User(is_superuser=True, is_staff=True)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        decimals = [f.name for f in model._meta.fields if isinstance(f, models.DecimalField)]
        if not decimals or not model_admin.has_change_permission(request):
            continue
        form = model_admin.get_form(request)
        for name in decimals:
            if name not in form.base_fields:
                continue  # shown read-only
            field = form.base_fields[name]
            assert field.clean("42.50") == Decimal("42.50"), (model, name)
            assert field.clean("1.234,50") == Decimal("1234.50"), (model, name)
            assert field.clean("0") == Decimal("0.00"), (model, name)
            for typed in ("\u0664\u0662", "\uff11\uff12\uff13", "4e2"):
                with pytest.raises(ValidationError):
                    field.clean(typed)
            checked += 1
    assert checked >= 3  # price, tariff amount, discount value
