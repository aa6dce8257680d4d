import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bieb.core.dates import age_on, month_year_nl, period_valid_through
from bieb.core.money import format_euro


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("42"), "€ 42,00"),
        (Decimal("0"), "€ 0,00"),
        (Decimal("1234.5"), "€ 1.234,50"),
        (Decimal("-10.005"), "€ -10,01"),
        (Decimal("1000000"), "€ 1.000.000,00"),
    ],
)
def test_amounts_are_shown_in_dutch_notation(amount: Decimal, shown: str) -> None:
    assert format_euro(amount) == shown


def test_registered_in_june_runs_through_the_end_of_may_next_year() -> None:
    assert period_valid_through(dt.date(2024, 6, 15), 12) == dt.date(2025, 5, 31)
    assert month_year_nl(dt.date(2025, 5, 31)) == "mei 2025"


def test_periods_cross_year_ends_and_leap_februaries() -> None:
    assert period_valid_through(dt.date(2024, 1, 31), 12) == dt.date(2024, 12, 31)
    assert period_valid_through(dt.date(2023, 3, 1), 12) == dt.date(2024, 2, 29)
    assert period_valid_through(dt.date(2024, 12, 1), 1) == dt.date(2024, 12, 31)
    assert period_valid_through(dt.date(2024, 6, 1), 24) == dt.date(2026, 5, 31)


def test_age_counts_a_birthday_on_the_day_itself() -> None:
    born = dt.date(2006, 6, 15)
    assert age_on(born, dt.date(2024, 6, 14)) == 17
    assert age_on(born, dt.date(2024, 6, 15)) == 18


def test_someone_born_on_29_february_ages_on_1_march_in_other_years() -> None:
    born = dt.date(2008, 2, 29)
    assert age_on(born, dt.date(2026, 2, 28)) == 17
    assert age_on(born, dt.date(2026, 3, 1)) == 18
    assert age_on(born, dt.date(2028, 2, 29)) == 20


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["statistics", "kb_statistics"])
def test_a_backfill_refuses_a_range_backwards_or_over_ten_years_in_dutch(command: str) -> None:
    with pytest.raises(CommandError, match="--to ligt vóór --from"):
        call_command(command, "--from=2026-02-02", "--to=2026-02-01")
    with pytest.raises(CommandError, match="Hoogstens 3660 dagen"):
        call_command(command, "--from=2016-01-01", "--to=2026-01-08")  # 3660 days on
