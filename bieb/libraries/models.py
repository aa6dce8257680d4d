"""Libraries, their branches, and what they offer: subscription types, tariffs, discounts."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import at_02
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as ValidationStdnumError

from bieb.core.contact import contact_lines, tel_link
from bieb.core.money import format_euro

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,29}$",
    "Gebruik 2 tot 30 kleine letters, cijfers of streepjes, bijvoorbeeld 'bind'.",
)
digits_validator = RegexValidator(r"^[0-9]+$", "Gebruik alleen cijfers.")


def creditor_id_validator(value: str) -> None:
    """A SEPA creditor identifier (Incassant-ID): country, check digits, business code (ZZZ in
    the Netherlands) and national id, checked by python-stdnum."""
    try:
        at_02.validate(value)
    except (InvalidChecksum, InvalidComponent):
        raise ValidationError(
            "Het controlegetal van dit Incassant-ID klopt niet; controleer de tekens.",
            code="invalid",
        ) from None
    except ValidationStdnumError:
        raise ValidationError(
            "Een Incassant-ID ziet eruit als NL69ZZZ123456780000: landcode, twee cijfers, "
            "ZZZ en het nummer van de bibliotheek.",
            code="invalid",
        ) from None
    if value != at_02.compact(value):
        raise ValidationError(
            "Schrijf het Incassant-ID zonder spaties, in hoofdletters.", code="not_compact"
        )


def iban_validator(value: str) -> None:
    try:
        IBAN(value, validate_bban=False)
    except (SchwiftyException, ValueError):
        raise ValidationError(
            "Dit is geen geldige IBAN; een IBAN ziet eruit als NL91ABNA0417164300.",
            code="invalid",
        ) from None


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
    # Direct debit (bieb.debits): the library is the creditor, with its own bank.
    creditor_name = models.CharField(
        "naam incassant",
        max_length=70,
        blank=True,
        help_text="Zoals op het bankafschrift van het lid; leeg: de naam van de bibliotheek.",
    )
    creditor_id = models.CharField(
        "Incassant-ID",
        max_length=35,
        blank=True,
        validators=[creditor_id_validator],
        help_text="Van de bank gekregen, bijvoorbeeld NL69ZZZ123456780000. Leeg: geen incasso.",
    )
    creditor_iban = models.CharField(
        "IBAN van de bibliotheek", max_length=34, blank=True, validators=[iban_validator]
    )
    creditor_bic = models.CharField(
        "BIC van de bibliotheek",
        max_length=11,
        blank=True,
        help_text="Leeg: afgeleid van een Nederlandse IBAN.",
    )
    prenotification_days = models.PositiveSmallIntegerField(
        "vooraankondiging (dagen)",
        default=14,
        validators=[MinValueValidator(2), MaxValueValidator(60)],
        help_text="Zoveel dagen vóór de incassodatum krijgt het lid bericht.",
    )
    collection_day = models.PositiveSmallIntegerField(
        "incassodag van de maand",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="De eerste zo'n dag na de vooraankondiging is de incassodatum.",
    )
    debits_per_file = models.PositiveIntegerField(
        "incasso's per bestand (hoogstens)",
        default=5000,
        validators=[MinValueValidator(1), MaxValueValidator(100000)],
    )
    # Privacy (bieb.retention): personal data of a customer whose last membership ended this
    # long ago, with nothing open, is anonymised by the daily retention job.
    retention_months = models.PositiveSmallIntegerField(
        "bewaartermijn persoonsgegevens (maanden)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=(
            "Zoveel maanden na het einde van het laatste lidmaatschap worden de persoonsgegevens "
            "van een klant zonder openstaand saldo of incasso geanonimiseerd. De boekingen "
            "blijven 7 jaar bewaard."
        ),
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
        return contact_lines(
            self.name, self.contact_address, self.contact_phone, self.contact_email, self.website
        )

    @property
    def contact_tel(self) -> str:
        return tel_link(self.contact_phone)

    def clean(self) -> None:
        super().clean()
        if self.creditor_id and not self.creditor_iban:
            raise ValidationError(
                {"creditor_iban": "Vul de IBAN in waarop de incasso's binnenkomen."}
            )
        if self.creditor_iban and not self.creditor_bic:
            try:
                bic = IBAN(self.creditor_iban, validate_bban=False).bic
            except (SchwiftyException, ValueError):
                bic = None
            self.creditor_bic = str(bic.compact) if bic else ""

    @property
    def debits_enabled(self) -> bool:
        """Whether the library collects by direct debit: it has an Incassant-ID and a bank."""
        return bool(self.creditor_id and self.creditor_iban)

    @property
    def creditor_display_name(self) -> str:
        return self.creditor_name or self.name

    def debit_rights_gap_warning(self) -> str:
        """A warning when members who pay by direct debit would lose their rights before the
        debit is collected: a period starts on the 1st, its debit is collected on the
        collection day, and unpaid rights run on only the grace days or the payment term. Empty
        when they cover it (or the library does not collect)."""
        if not self.debits_enabled:
            return ""
        run_on = max(self.grace_days, self.payment_term_days)
        needed = self.collection_day - 1
        if run_on >= needed:
            return ""
        return (
            f"Let op: met incassodag {self.collection_day} lopen de rechten van leden met "
            f"automatische incasso niet door tot de incasso (coulance {self.grace_days} en "
            f"betaaltermijn {self.payment_term_days} dagen): zij verliezen hun rechten "
            f"{needed - run_on} dagen per jaar. Zet de coulance op ten minste {needed} dagen, "
            "of kies incassodag 1."
        )


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


class KBEventCursor(models.Model):
    """How far a library installation has read the login service's event feed for one of its
    libraries (BIEB_ROLE=library; bieb.libraries.kb_events): the cursor of the last event
    processed, stored in the transaction that processed it."""

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, primary_key=True, related_name="kb_event_cursor"
    )
    cursor = models.BigIntegerField("laatst verwerkte gebeurtenis", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "leespositie KB-gebeurtenissen"
        verbose_name_plural = "leesposities KB-gebeurtenissen"

    def __str__(self) -> str:
        return f"{self.library_id}: {self.cursor}"
