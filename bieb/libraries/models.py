"""Libraries, their branches, and what they offer: subscription types, tariffs, discounts."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from bieb.core.money import format_euro

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,29}$",
    "Gebruik 2 tot 30 kleine letters, cijfers of streepjes, bijvoorbeeld 'bind'.",
)
digits_validator = RegexValidator(r"^[0-9]+$", "Gebruik alleen cijfers.")


class PaymentProviderCode(models.TextChoices):
    """How members of a library pay; the providers themselves live in `bieb.payments`."""

    DEMO = "demo", "Demo (gesimuleerde betaaldienst, alleen in de demo)"
    MOLLIE = "mollie", "Mollie (iDEAL)"
    BALIE = "balie", "Alleen aan de balie (contant of pin)"


class Library(models.Model):
    code = models.CharField("code", max_length=30, unique=True, validators=[code_validator])
    name = models.CharField("naam", max_length=200)
    customer_number_prefix = models.CharField(
        "voorloopcijfers klantnummer",
        max_length=8,
        unique=True,
        validators=[digits_validator],
        help_text="Elk klantnummer van deze bibliotheek begint hiermee, bijvoorbeeld 25280.",
    )
    customer_number_length = models.PositiveSmallIntegerField(
        "lengte klantnummer",
        default=14,
        validators=[MinValueValidator(8), MaxValueValidator(20)],
        help_text="Inclusief de voorloopcijfers en het controlecijfer (Luhn).",
    )
    payment_provider = models.CharField(
        "betaaldienst",
        max_length=20,
        choices=PaymentProviderCode.choices,
        default=PaymentProviderCode.DEMO,
        help_text="Waarmee leden bij online inschrijven meteen betalen.",
    )
    # Contact details: in every mail to members, and wherever a page says "neem contact op met
    # de bibliotheek".
    contact_address = models.CharField(
        "adres", max_length=200, blank=True, help_text="Bijvoorbeeld: Stationsweg 1, 9401 KJ Assen"
    )
    contact_phone = models.CharField("telefoon", max_length=30, blank=True)
    contact_email = models.EmailField("e-mail", max_length=254, blank=True)
    website = models.URLField("website", max_length=200, blank=True)
    # The membership year (bieb.customers.year): defaults as in Wise, each changeable here.
    payment_term_days = models.PositiveSmallIntegerField(
        "betaaltermijn (dagen)",
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=(
            "0: digitale rechten gaan pas in als de periode betaald is. Meer dan 0: de rechten "
            "gaan meteen in en lopen zoveel dagen door zonder betaling."
        ),
    )
    renewal_lead_days = models.PositiveSmallIntegerField(
        "verlengen vooraf (dagen)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Zoveel dagen voor 'Rechten t/m' wordt de volgende periode berekend en gemaild.",
    )
    grace_days = models.PositiveSmallIntegerField(
        "coulance (dagen)",
        default=0,
        validators=[MaxValueValidator(90)],
        help_text="Zoveel dagen na 'Rechten t/m' lopen de rechten door als niet betaald is.",
    )
    reminder_first_days = models.PositiveSmallIntegerField(
        "eerste herinnering na (dagen)", default=14, validators=[MinValueValidator(1)]
    )
    reminder_second_days = models.PositiveSmallIntegerField(
        "tweede herinnering na (dagen)", default=28, validators=[MinValueValidator(1)]
    )
    arrears_months = models.PositiveSmallIntegerField(
        "betalingsachterstand na (maanden)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Zolang onbetaald na het begin van de periode; een maand later: uitgeschreven.",
    )

    class Meta:
        verbose_name = "bibliotheek"
        verbose_name_plural = "bibliotheken"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_number_length__gte=8) & Q(customer_number_length__lte=20),
                name="library_number_length_range",
                violation_error_message=(
                    "De lengte van het klantnummer moet tussen 8 en 20 cijfers liggen."
                ),
            ),
            models.CheckConstraint(
                condition=Q(reminder_second_days__gt=models.F("reminder_first_days")),
                name="library_reminders_in_order",
                violation_error_message=("De tweede herinnering moet later komen dan de eerste."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def contact_lines(self) -> list[str]:
        """The library's contact details, one per line, as mails and pages show them."""
        lines = [self.name]
        lines += [v for v in (self.contact_address, self.contact_phone, self.contact_email) if v]
        if self.website:
            lines.append(self.website)
        return lines

    @property
    def contact_tel(self) -> str:
        """The phone number as a `tel:` link wants it (digits and a leading +), or ""."""
        digits = "".join(c for c in self.contact_phone if c.isdigit() or c == "+")
        return f"tel:{digits}" if digits else ""


class Branch(models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="branches", verbose_name="bibliotheek"
    )
    number = models.CharField(
        "vestigingsnummer", max_length=10, unique=True, validators=[digits_validator]
    )
    name = models.CharField("naam", max_length=200)

    class Meta:
        verbose_name = "vestiging"
        verbose_name_plural = "vestigingen"
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class DigitalRights(models.TextChoices):
    NONE = "none", "geen"
    COMPLETE = "compleet", "Compleet"
    COMPACT = "compact", "Compact"
    YOUTH = "jeugd", "Jeugd"


class RenewalKind(models.TextChoices):
    FIXED = "vast", "Vast"
    AUTOMATIC = "doorlopend", "Doorlopend"


class SubscriptionType(models.Model):
    library = models.ForeignKey(
        Library,
        on_delete=models.PROTECT,
        related_name="subscription_types",
        verbose_name="bibliotheek",
    )
    code = models.CharField("code", max_length=10, validators=[digits_validator])
    name = models.CharField("naam", max_length=100)
    price = models.DecimalField(
        "prijs", max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    period_months = models.PositiveSmallIntegerField(
        "periode (maanden)", default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    renewal = models.CharField(
        "verlenging", max_length=20, choices=RenewalKind.choices, default=RenewalKind.FIXED
    )
    min_age = models.PositiveSmallIntegerField("minimumleeftijd", default=0)
    max_age = models.PositiveSmallIntegerField(
        "maximumleeftijd", null=True, blank=True, help_text="Leeg: geen maximum."
    )
    digital_rights = models.CharField(
        "digitale rechten", max_length=20, choices=DigitalRights.choices, default=DigitalRights.NONE
    )
    physical_loans = models.BooleanField("fysiek lenen", default=True)
    card = models.BooleanField("pas", default=True)
    login_account_required = models.BooleanField("inlogaccount verplicht", default=False)
    offered_online = models.BooleanField("online aangeboden", default=False)
    active = models.BooleanField("actief", default=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="gaat over op",
        help_text=(
            "Bij verlenging, als de klant te oud is geworden voor dit abonnement (bijvoorbeeld "
            "jeugd wordt volwassen). Leeg: het abonnement wordt dan niet verlengd."
        ),
    )

    class Meta:
        verbose_name = "abonnementstype"
        verbose_name_plural = "abonnementstypen"
        ordering = ["library", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "code"],
                name="subscription_type_code",
                violation_error_message=(
                    "Deze bibliotheek heeft al een abonnementstype met deze code."
                ),
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="subscription_price_positive",
                violation_error_message="De prijs mag niet negatief zijn.",
            ),
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=models.F("min_age")),
                name="subscription_age_band",
                violation_error_message=(
                    "De maximumleeftijd moet leeg zijn, of gelijk aan of hoger dan de "
                    "minimumleeftijd."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def has_digital_rights(self) -> bool:
        return self.digital_rights != DigitalRights.NONE

    @property
    def label(self) -> str:
        """`0141 Digital only € 42,00 /12 mnd`, as the counter shows it."""
        return f"{self.code} {self.name} {format_euro(self.price)} /{self.period_months} mnd"

    def age_band_label(self) -> str:
        if self.max_age is None:
            return f"{self.min_age} jaar en ouder"
        return f"{self.min_age} t/m {self.max_age} jaar"


class TariffKind(models.TextChoices):
    FREE = "gratis", "Gratis"
    STANDARD = "standaard", "Standaard (prijs van het abonnement)"
    FIXED = "vast", "Vast bedrag"


class Tariff(models.Model):
    """A tariff code sets the amount charged for a subscription."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="tariffs", verbose_name="bibliotheek"
    )
    code = models.CharField("tariefcode", max_length=10, validators=[digits_validator])
    name = models.CharField("naam", max_length=100)
    kind = models.CharField("soort", max_length=20, choices=TariffKind.choices)
    amount = models.DecimalField(
        "bedrag",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Alleen bij soort 'Vast bedrag'.",
    )
    is_default = models.BooleanField(
        "standaardtarief", default=False, help_text="Gekozen voor klanten van 18 jaar en ouder."
    )

    class Meta:
        verbose_name = "tariefcode"
        verbose_name_plural = "tariefcodes"
        ordering = ["library", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "code"],
                name="tariff_code",
                violation_error_message="Deze bibliotheek heeft al een tariefcode met deze code.",
            ),
            models.UniqueConstraint(
                fields=["library"],
                condition=Q(is_default=True),
                name="one_default_tariff",
                violation_error_message=(
                    "Deze bibliotheek heeft al een standaardtarief. Zet dat eerst uit, of kies "
                    "hier geen standaardtarief."
                ),
            ),
            models.CheckConstraint(
                # NULL would pass a CHECK of amount >= 0 alone: a fixed tariff with no amount.
                condition=~Q(kind=TariffKind.FIXED) | Q(amount__isnull=False, amount__gte=0),
                name="fixed_tariff_has_amount",
                violation_error_message=(
                    "Een tarief van de soort 'Vast bedrag' heeft een bedrag nodig (€ 0,00 of meer)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    def amount_for(self, subscription_type: SubscriptionType) -> Decimal:
        if self.kind == TariffKind.FREE:
            return Decimal("0.00")
        if self.kind == TariffKind.FIXED and self.amount is not None:
            return self.amount
        return subscription_type.price


class DiscountKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage"
    AMOUNT = "bedrag", "Bedrag"


class Discount(models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="discounts", verbose_name="bibliotheek"
    )
    code = models.CharField("code", max_length=10)
    name = models.CharField("naam", max_length=100)
    kind = models.CharField("soort", max_length=20, choices=DiscountKind.choices)
    value = models.DecimalField(
        "waarde",
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Percentage (bijvoorbeeld 25) of bedrag in euro.",
    )

    class Meta:
        verbose_name = "korting"
        verbose_name_plural = "kortingen"
        ordering = ["library", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "code"],
                name="discount_code",
                violation_error_message="Deze bibliotheek heeft al een korting met deze code.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="discount_value_positive",
                violation_error_message="De waarde van een korting mag niet negatief zijn.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100),
                name="discount_percentage_max_100",
                violation_error_message="Een kortingspercentage kan niet hoger zijn dan 100.",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == DiscountKind.PERCENTAGE:
            return f"{self.code} - {self.name} ({self.value.normalize():f}%)"
        return f"{self.code} - {self.name} ({format_euro(self.value)})"
