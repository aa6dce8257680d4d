"""Direct debit: a customer's mandate, the debits collected under it, the files they go to
the bank in, and the returns that come back.

A mandate is one consent of one customer to one library (the creditor), identified by its
reference (unique per library, stable for ever). A debit collects one amount (a period's
saldo, or an open amount the library chose to collect, which has no period) on one date under
one mandate, with an end-to-end id that the bank reports back; it becomes a payment line in
the ledger when its batch is processed, and a storno of that line when the bank returns it.
A planned debit that will not be collected is `vervallen`, with the reason.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from bieb.customers.models import Customer, LedgerLine, MembershipPeriod
from bieb.libraries.models import Library


class MandateKind(models.TextChoices):
    COUNTER = "balie", "aan de balie getekend"
    ONLINE = "online", "online gegeven (elektronische machtiging)"


class MandateState(models.TextChoices):
    ACTIVE = "actief", "actief"
    WITHDRAWN = "ingetrokken", "ingetrokken"
    LAPSED = "vervallen", "vervallen (36 maanden niet gebruikt)"
    BLOCKED = "geblokkeerd", "geblokkeerd (terugboeking door klant)"


class Mandate(models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="mandates", verbose_name="klant"
    )
    reference = models.CharField("machtigingskenmerk", max_length=35)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11, blank=True)
    holder_name = models.CharField("naam rekeninghouder", max_length=70)
    signed_on = models.DateField("datum ondertekening")
    kind = models.CharField("soort", max_length=10, choices=MandateKind.choices)
    state = models.CharField(
        "stand", max_length=12, choices=MandateState.choices, default=MandateState.ACTIVE
    )
    state_changed_at = models.DateTimeField("stand gewijzigd op", null=True, blank=True)
    # An amendment (a new IBAN) travels with the next debit, then is cleared.
    original_iban = models.CharField("oorspronkelijke IBAN", max_length=34, blank=True)
    original_bic = models.CharField("oorspronkelijke BIC", max_length=11, blank=True)
    # FRST until a debit under it was collected; RCUR after. Lapses 36 months after the last.
    first_collected_on = models.DateField("eerste incasso", null=True, blank=True)
    last_collected_on = models.DateField("laatste incasso", null=True, blank=True)
    # The evidence of an electronic mandate.
    consent_text = models.TextField("tekst van de toestemming", blank=True)
    consent_at = models.DateTimeField("toestemming gegeven op", null=True, blank=True)
    consent_ip = models.GenericIPAddressField("IP-adres", null=True, blank=True)
    consent_user_agent = models.CharField("browser", max_length=300, blank=True)
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="aangemaakt door",
    )

    class Meta:
        verbose_name = "machtiging"
        verbose_name_plural = "machtigingen"
        constraints = [
            models.UniqueConstraint(
                fields=["library", "reference"],
                name="mandate_reference",
                violation_error_message="Dit machtigingskenmerk bestaat al bij deze bibliotheek.",
            ),
            # One active mandate per customer and library: a new one replaces the old.
            models.UniqueConstraint(
                fields=["library", "customer"],
                condition=Q(state="actief"),
                name="mandate_one_active",
                violation_error_message="Deze klant heeft al een actieve machtiging.",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.state == MandateState.ACTIVE

    @property
    def amended(self) -> bool:
        return bool(self.original_iban)


class MandateEvent(models.Model):
    """The history of a mandate, as the customer page shows it."""

    mandate = models.ForeignKey(
        Mandate, on_delete=models.PROTECT, related_name="events", verbose_name="machtiging"
    )
    at = models.DateTimeField("tijdstip", auto_now_add=True)
    action = models.CharField("wat", max_length=30)
    description = models.CharField("omschrijving", max_length=300)
    actor_name = models.CharField("door", max_length=150, blank=True)

    class Meta:
        verbose_name = "gebeurtenis machtiging"
        verbose_name_plural = "gebeurtenissen machtigingen"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.description


class SequenceType(models.TextChoices):
    FIRST = "FRST", "eerste (FRST)"
    RECURRING = "RCUR", "herhaald (RCUR)"


class BatchState(models.TextChoices):
    MADE = "aangemaakt", "aangemaakt"
    SENT = "verstuurd", "verstuurd"
    PROCESSED = "verwerkt", "verwerkt"


class DebitBatch(models.Model):
    """One pain.008 file: the debits of one collection date and sequence type, at most the
    library's maximum per file."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    message_id = models.CharField("berichtkenmerk", max_length=35, unique=True)
    collection_date = models.DateField("incassodatum")
    sequence_type = models.CharField("soort", max_length=4, choices=SequenceType.choices)
    state = models.CharField(
        "stand", max_length=12, choices=BatchState.choices, default=BatchState.MADE
    )
    count = models.PositiveIntegerField("aantal")
    total = models.DecimalField("totaal", max_digits=12, decimal_places=2)
    xml = models.TextField("bestand (pain.008.001.02)")
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    created_by = models.CharField("aangemaakt door", max_length=150)
    sent_at = models.DateTimeField("verstuurd op", null=True, blank=True)
    sent_by = models.CharField("verstuurd door", max_length=150, blank=True)
    processed_at = models.DateTimeField("verwerkt op", null=True, blank=True)

    class Meta:
        verbose_name = "incassobestand"
        verbose_name_plural = "incassobestanden"
        ordering = ["-collection_date", "-id"]

    def __str__(self) -> str:
        return self.message_id

    @property
    def filename(self) -> str:
        return f"incasso-{self.collection_date:%Y%m%d}-{self.sequence_type}-{self.pk}.xml"


class DebitState(models.TextChoices):
    PLANNED = "gepland", "gepland (vooraangekondigd)"
    IN_FILE = "in_bestand", "in een incassobestand"
    COLLECTED = "geincasseerd", "geïncasseerd"
    RETURNED = "teruggeboekt", "teruggeboekt"
    CANCELLED = "vervallen", "vervallen"


class DebitCancelReason(models.TextChoices):
    """Why a planned debit was not collected (it is then `vervallen`)."""

    MANDATE_STOPPED = "machtiging", "de machtiging is gestopt"
    DATE_PASSED = "datum_voorbij", "de incassodatum ging voorbij zonder incassobestand"
    PAID = "betaald", "anders betaald"
    NOT_COLLECTING = "geen_incasso", "de bibliotheek incasseert niet meer"


class Debit(models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    mandate = models.ForeignKey(
        Mandate, on_delete=models.PROTECT, related_name="debits", verbose_name="machtiging"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="debits", verbose_name="klant"
    )
    period = models.ForeignKey(
        MembershipPeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debits",
        verbose_name="periode",
    )
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2)
    description = models.CharField("omschrijving", max_length=140)
    collection_date = models.DateField("incassodatum")
    end_to_end_id = models.CharField("end-to-end-id", max_length=35, unique=True)
    sequence_type = models.CharField(
        "soort", max_length=4, choices=SequenceType.choices, blank=True
    )
    state = models.CharField(
        "stand", max_length=14, choices=DebitState.choices, default=DebitState.PLANNED
    )
    batch = models.ForeignKey(
        DebitBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debits",
        verbose_name="bestand",
    )
    # The mandate's account at the time the debit went into its file (an amendment included).
    iban = models.CharField("IBAN", max_length=34, blank=True)
    original_iban = models.CharField("oorspronkelijke IBAN", max_length=34, blank=True)
    prenotified_at = models.DateTimeField("vooraankondiging", null=True, blank=True)
    # A planned debit whose collection date passed without a file is planned once more on a
    # new date (a new pre-notification); the second time it is cancelled (bieb.debits.stale).
    replanned = models.PositiveSmallIntegerField("keer opnieuw gepland", default=0)
    replanned_at = models.DateTimeField("opnieuw gepland op", null=True, blank=True)
    cancelled_at = models.DateTimeField("vervallen op", null=True, blank=True)
    cancel_reason = models.CharField(
        "reden vervallen", max_length=20, choices=DebitCancelReason.choices, blank=True
    )
    payment_line = models.OneToOneField(
        LedgerLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debit",
        verbose_name="betaling",
    )
    return_code = models.CharField("reden terugboeking", max_length=4, blank=True)
    returned_at = models.DateTimeField("teruggeboekt op", null=True, blank=True)
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)

    class Meta:
        verbose_name = "incasso"
        verbose_name_plural = "incasso's"
        indexes = [
            models.Index(fields=["library", "state", "collection_date"], name="debit_due"),
            # What the daily run re-planned or cancelled lately (the incasso page's counts).
            models.Index(
                fields=["library", "replanned_at"],
                condition=Q(replanned_at__isnull=False),
                name="debit_replanned",
            ),
            models.Index(
                fields=["library", "cancelled_at"],
                condition=Q(cancelled_at__isnull=False),
                name="debit_cancelled",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="debit_amount_positive",
                violation_error_message="Een incasso is een bedrag boven nul.",
            ),
            # One open debit per period: a second run or click does not collect twice.
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(state__in=["gepland", "in_bestand", "geincasseerd"]),
                name="debit_once_per_period",
                violation_error_message="Voor deze periode loopt al een incasso.",
            ),
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


class ReturnFile(models.Model):
    """An imported camt.054 or camt.053 file; the same file twice is recognised by its hash."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    sha256 = models.CharField("vingerafdruk", max_length=64)
    filename = models.CharField("bestandsnaam", max_length=200)
    message_type = models.CharField("soort", max_length=20)
    items = models.PositiveIntegerField("posten", default=0)
    matched = models.PositiveIntegerField("verwerkt", default=0)
    unmatched = models.PositiveIntegerField("niet herkend", default=0)
    imported_at = models.DateTimeField("ingelezen op", auto_now_add=True)
    imported_by = models.CharField("ingelezen door", max_length=150)

    class Meta:
        verbose_name = "terugboekingsbestand"
        verbose_name_plural = "terugboekingsbestanden"
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "sha256"],
                name="return_file_once",
                violation_error_message="Dit bestand is al eens ingelezen.",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class ReturnItemState(models.TextChoices):
    PROCESSED = "verwerkt", "verwerkt (storno geboekt)"
    ALREADY = "al_verwerkt", "al eerder verwerkt"
    UNMATCHED = "onbekend", "niet herkend: handmatig afhandelen"
    HANDLED = "afgehandeld", "handmatig afgehandeld"


class ReturnItem(models.Model):
    file = models.ForeignKey(
        ReturnFile, on_delete=models.PROTECT, related_name="lines", verbose_name="bestand"
    )
    end_to_end_id = models.CharField("end-to-end-id", max_length=35, blank=True)
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2, null=True)
    reason_code = models.CharField("redencode", max_length=4, blank=True)
    debtor_name = models.CharField("naam", max_length=140, blank=True)
    debtor_iban = models.CharField("IBAN", max_length=34, blank=True)
    debit = models.ForeignKey(
        Debit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name="incasso",
    )
    state = models.CharField("stand", max_length=12, choices=ReturnItemState.choices)
    handled_by = models.CharField("afgehandeld door", max_length=150, blank=True)
    handled_note = models.CharField("toelichting", max_length=300, blank=True)

    class Meta:
        verbose_name = "terugboeking"
        verbose_name_plural = "terugboekingen"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.end_to_end_id} {self.reason_code}"
