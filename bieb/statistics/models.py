"""One row per library, day, metric and combination of dimensions: a count and an amount.

The rows are derived, never edited: `bieb.statistics.aggregate` recomputes a day from the
customer administration and the ledger (delete that day's rows, insert them again), so that a
day computed twice gives the same rows. A dimension a metric does not use is "".
"""

from django.db import models

from bieb.libraries.models import Library


class Metric(models.TextChoices):
    # Memberships that started on the day (registrations), by channel, subscription, age band.
    NEW = "new", "nieuwe abonnementen"
    # Memberships with (digital) rights on the day, by subscription and age band.
    ACTIVE = "active", "actieve leden"
    # "Opzeggen" done on the day, by subscription and reason (`kind`).
    CANCELLED = "cancelled", "opzeggingen"
    # Uitgeschreven on the day: unpaid past the library's arrears limit.
    DEREGISTERED = "deregistered", "uitgeschreven (niet betaald)"
    # A Vast membership that ended on the day without being renewed.
    NOT_RENEWED = "not_renewed", "niet verlengd"
    # Payments booked on the day by a customer with a renewed period, by way of payment.
    RENEWAL_PAID = "renewal_paid", "verlengingen betaald"
    # Every ledger line booked on the day, by kind and way of payment.
    LEDGER = "ledger", "grootboek"
    # At the counter: "Vergeet inlogaccount", and "Nieuw inlogaccount genereren" on a customer
    # (after forgetting, or after an account expired unused), from the audit rows.
    ACCOUNT_FORGOTTEN = "account_forgotten", "inlogaccount vergeten"
    ACCOUNT_REMADE = "account_remade", "inlogaccount opnieuw aangemaakt"


class Channel(models.TextChoices):
    COUNTER = "balie", "balie"
    ONLINE = "online", "online"


# Age bands by completed years on the day: (lowest age, label). Under 18 is free by law.
AGE_BANDS = [(0, "0-17"), (18, "18-24"), (25, "25-44"), (45, "45-64"), (65, "65+")]


class DailyFigure(models.Model):
    library = models.ForeignKey(
        Library,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="bibliotheek",
        db_index=False,  # statistics_read (library, metric, day) serves it
    )
    day = models.DateField("dag")
    metric = models.CharField("cijfer", max_length=20, choices=Metric.choices)
    channel = models.CharField("kanaal", max_length=10, blank=True, default="")
    subscription = models.CharField("abonnement", max_length=10, blank=True, default="")
    age_band = models.CharField("leeftijd", max_length=10, blank=True, default="")
    method = models.CharField("betaalwijze", max_length=10, blank=True, default="")
    # The ledger line's kind, or the reason of a cancellation.
    kind = models.CharField("soort", max_length=30, blank=True, default="")
    count = models.PositiveIntegerField("aantal")
    amount = models.DecimalField("bedrag", max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = "dagcijfer"
        verbose_name_plural = "dagcijfers"
        indexes = [
            models.Index(fields=["library", "metric", "day"], name="statistics_read"),
            # Recomputing a day deletes its rows first.
            models.Index(fields=["day"], name="statistics_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "library",
                    "day",
                    "metric",
                    "channel",
                    "subscription",
                    "age_band",
                    "method",
                    "kind",
                ],
                name="statistics_figure_once",
                violation_error_message=(
                    "Deze bibliotheek heeft voor die dag al een cijfer met deze indeling."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.library_id} {self.day} {self.metric} {self.count}"
