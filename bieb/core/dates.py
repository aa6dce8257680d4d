"""Calendar rules of memberships: ages, periods and Dutch month names."""

import argparse
import calendar
import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone

MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def day_argument(value: str) -> dt.date:
    """A command's `--as-of` day (YYYY-MM-DD), for argparse's `type`: a wrong one is refused in
    Dutch before the command starts."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("gebruik YYYY-MM-DD, bijvoorbeeld 2026-05-02.") from None


# How many days a backfill command computes in one go (ten years).
BACKFILL_MAX_DAYS = 3660


def day_range_arguments(parser: argparse.ArgumentParser) -> None:
    """`--from` and `--to` of a command that computes days anew (a backfill of figures)."""
    parser.add_argument(
        "--from", dest="start", type=day_argument, help="first day, YYYY-MM-DD (default: today)"
    )
    parser.add_argument(
        "--to", dest="end", type=day_argument, help="last day, YYYY-MM-DD (default: --from)"
    )


def day_range_of(options: dict[str, object]) -> tuple[dt.date, dt.date]:
    """The days of `day_range_arguments`: today alone by default; refused in Dutch when the
    range runs backwards or is longer than BACKFILL_MAX_DAYS."""
    start = options.get("start") or local_today()
    end = options.get("end") or start
    assert isinstance(start, dt.date) and isinstance(end, dt.date)  # noqa: S101  (argparse)
    if end < start:
        raise CommandError("--to ligt vóór --from.")
    if (end - start).days >= BACKFILL_MAX_DAYS:
        raise CommandError(f"Hoogstens {BACKFILL_MAX_DAYS} dagen per keer.")
    return start, end


def local_today() -> dt.date:
    """Today in Europe/Amsterdam, which is the day that counts at the counter."""
    return timezone.localdate()


def moment_on(day: dt.date) -> dt.datetime:
    """When a job run for `day` did something: now, on that day. A run of another day (a
    catch-up, or a trial `--as-of` a day ahead) stamps what it does with its own day, so that
    what counts from that moment counts from the day the run stood for, not from the clock."""
    now = timezone.localtime()
    if now.date() == day:
        return now
    return timezone.make_aware(dt.datetime.combine(day, now.time().replace(microsecond=0)))


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, Amsterdam time (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on `day`. A birthday on `day` counts as reached.

    Someone born on 29 February reaches the next age on 1 March in a year without 29 February.
    """
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months_to_day(day: dt.date, months: int) -> dt.date:
    """The same day `months` months later, or that month's last day when it has fewer days."""
    year, month = add_months(day.year, day.month, months)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_valid_through(start: dt.date, months: int) -> dt.date:
    """Last day of the month before the start month, `months` months later.

    Registered in June 2024 for 12 months → valid through 31 May 2025.
    """
    year, month = add_months(start.year, start.month, months - 1)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month_year_nl(day: dt.date) -> str:
    """`2025-05-31` → `mei 2025`."""
    return f"{MONTHS_NL[day.month - 1]} {day.year}"


def date_nl(day: dt.date) -> str:
    """`2025-05-31` → `31-05-2025`, the counter's dd-mm-jjjj."""
    return day.strftime("%d-%m-%Y")


def lifetime_label(lifetime: dt.timedelta) -> str:
    """How long a link works, in words: `24 uur`, `90 minuten`, `1 minuut`, `36 seconden`."""
    seconds = round(lifetime.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} uur"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minuut" if minutes == 1 else f"{minutes} minuten"
    return "1 seconde" if seconds == 1 else f"{seconds} seconden"
