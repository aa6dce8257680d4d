"""The login service's daily figures: one row per day, metric and combination of dimensions.

Derived from the security log (`AccountEvent`), never edited: `bieb.kb.statistics.aggregate`
recomputes a day (delete its rows, insert them again). A dimension a metric does not use is "".
"""

from django.db import models


class KBMetric(models.TextChoices):
    # Accounts made on the day, by origin (balie, online) and, for counter accounts, library.
    CREATED = "created", "aangemaakt"
    # Accounts activated on the day, by origin and how long after their making (`bucket`).
    ACTIVATED = "activated", "geactiveerd"
    # Never-activated accounts the purge deleted on the day, by origin and library.
    PURGED = "purged", "opgeruimd"
    # Successful logins on the day, by hour (`bucket`: 00-23, Amsterdam time).
    LOGINS = "logins", "ingelogd"
    # Of the accounts made on the day (by origin and library): activated within the link's
    # lifetime, and expired unused (purged). They change until the day's links have run out,
    # so the job computes the last days again.
    MADE_ACTIVATED = "made_activated", "op tijd geactiveerd"
    MADE_EXPIRED = "made_expired", "ongebruikt verlopen"


# Time from making to activating: (upper bound in hours, label); the last is open.
ACTIVATION_BUCKETS = [(1, "0-1"), (6, "1-6"), (24, "6-24"), (None, "24+")]


class DailyFigure(models.Model):
    day = models.DateField("dag")
    metric = models.CharField("cijfer", max_length=20, choices=KBMetric.choices)
    library_code = models.CharField("bibliotheek", max_length=30, blank=True, default="")
    origin = models.CharField("aangemaakt via", max_length=10, blank=True, default="")
    bucket = models.CharField("groep", max_length=10, blank=True, default="")
    count = models.PositiveIntegerField("aantal")

    class Meta:
        verbose_name = "dagcijfer"
        verbose_name_plural = "dagcijfers"
        indexes = [models.Index(fields=["metric", "day"], name="kb_figure_read")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "library_code", "origin", "bucket"],
                name="kb_figure_once",
                violation_error_message="Voor die dag is er al een cijfer met deze indeling.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.count}"


class NationalFigure(models.Model):
    """The daily figures of a day summed over the libraries, per metric, origin and bucket:
    what the national funnel reads per day (a year is some 3,600 rows instead of one per
    library and day). Kept with the day's `DailyFigure` rows, in the same transaction."""

    day = models.DateField("dag")
    metric = models.CharField("cijfer", max_length=20, choices=KBMetric.choices)
    origin = models.CharField("aangemaakt via", max_length=10, blank=True, default="")
    bucket = models.CharField("groep", max_length=10, blank=True, default="")
    count = models.PositiveIntegerField("aantal")

    class Meta:
        verbose_name = "landelijk dagcijfer"
        verbose_name_plural = "landelijke dagcijfers"
        indexes = [models.Index(fields=["metric", "day"], name="kb_national_figure_read")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "origin", "bucket"],
                name="kb_national_figure_once",
                violation_error_message="Voor die dag is er al een landelijk cijfer zo ingedeeld.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.count}"


class MonthlyFigure(models.Model):
    """The daily figures of a calendar month summed, per metric and combination of dimensions:
    what a page reads for the months wholly inside its period (a year is 12 rows per library
    instead of 365). Kept by `bieb.kb.statistics.aggregate` in the transaction that writes a
    day of the month, so it always equals the sum of that month's `DailyFigure` rows."""

    month = models.DateField("maand")  # its first day
    metric = models.CharField("cijfer", max_length=20, choices=KBMetric.choices)
    library_code = models.CharField("bibliotheek", max_length=30, blank=True, default="")
    origin = models.CharField("aangemaakt via", max_length=10, blank=True, default="")
    bucket = models.CharField("groep", max_length=10, blank=True, default="")
    count = models.PositiveBigIntegerField("aantal")

    class Meta:
        verbose_name = "maandcijfer"
        verbose_name_plural = "maandcijfers"
        indexes = [models.Index(fields=["metric", "month"], name="kb_month_figure_read")]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "metric", "library_code", "origin", "bucket"],
                name="kb_month_figure_once",
                violation_error_message="Voor die maand is er al een cijfer met deze indeling.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.metric} {self.count}"
