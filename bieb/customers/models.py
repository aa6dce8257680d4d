"""Customers of a library, their memberships, and the ledger their saldo is derived from."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Lower

from bieb.customers.validators import HouseNumber, format_postcode
from bieb.libraries.models import Branch, Discount, Library, SubscriptionType, Tariff


class Salutation(models.TextChoices):
    NONE = "", "geen"
    MR = "dhr", "Dhr."
    MS = "mw", "Mw."


class IdentityDocument(models.TextChoices):
    NONE = "", "niet vastgelegd"
    PASSPORT = "paspoort", "Paspoort"
    ID_CARD = "id-kaart", "Identiteitskaart"
    DRIVING_LICENCE = "rijbewijs", "Rijbewijs"
    RESIDENCE = "verblijf", "Verblijfsdocument"


def display_name(salutation: str, initials: str, prefix: str, surname: str) -> str:
    """`Mw. T. Tester`, `Dhr. E.B. van der Berg` (of a Customer or a search result)."""
    parts = [_SALUTATIONS.get(salutation, salutation), initials, prefix, surname]
    return " ".join(p for p in parts if p)


_SALUTATIONS = {value: str(label) for value, label in Salutation.choices if value}


class Bytewise(Func):
    """Text compared byte by byte: `(text COLLATE "C")` on PostgreSQL, as it is on SQLite.

    Under a linguistic collation (PostgreSQL counts C.UTF-8 as one) a btree index serves
    `LIKE 'jans%'` only with a pattern operator class, which cannot give ORDER BY. In byte
    order one index serves both, so a search that filters and orders on the same Bytewise
    expression reads only the rows it shows. Used by migration 0004: keep it here.
    """

    arity = 1
    template = '(%(expressions)s COLLATE "C")'

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return compiler.compile(self.get_source_expressions()[0])


class CustomerDisplay:
    """How a customer reads on the pages: name, postcode and house number; shared by the model
    and the search results' rows."""

    __slots__ = ()

    salutation: str
    initials: str
    prefix: str
    surname: str
    postcode: str
    country: str
    house_number: int | None
    house_letter: str
    house_addition: str

    @property
    def display_name(self) -> str:
        return display_name(self.salutation, self.initials, self.prefix, self.surname)

    @property
    def postcode_display(self) -> str:
        return format_postcode(self.postcode, self.country)

    @property
    def house(self) -> HouseNumber | None:
        if self.house_number is None:
            return None
        return HouseNumber(self.house_number, self.house_letter, self.house_addition)


class Customer(CustomerDisplay, models.Model):
    """A library's customer. Never holds a BSN or a copy of an identity document."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="customers", verbose_name="bibliotheek"
    )
    number = models.CharField("klantnummer", max_length=20, unique=True)
    salutation = models.CharField(
        "aanhef", max_length=3, choices=Salutation.choices, blank=True, default=""
    )
    initials = models.CharField("voorletters", max_length=30)
    prefix = models.CharField("voorvoegsel", max_length=20, blank=True)
    surname = models.CharField("achternaam", max_length=100)
    first_name = models.CharField("roepnaam", max_length=100, blank=True)
    birth_date = models.DateField("geboortedatum")
    country = models.CharField("land", max_length=2, default="NL")
    postcode = models.CharField("postcode", max_length=12, blank=True)
    house_number = models.PositiveIntegerField("huisnummer", null=True, blank=True)
    house_letter = models.CharField("huisletter", max_length=1, blank=True)
    house_addition = models.CharField("toevoeging", max_length=4, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    bic = models.CharField("BIC", max_length=11, blank=True)
    identity_checked = models.BooleanField("legitimatie gecontroleerd", default=False)
    identity_document = models.CharField(
        "soort legitimatie", max_length=10, choices=IdentityDocument.choices, blank=True
    )
    email = models.EmailField("e-mail", max_length=254, blank=True)
    newsletter = models.BooleanField("nieuwsbrief", default=False)
    newsletter_consent_at = models.DateTimeField(
        "toestemming nieuwsbrief op", null=True, blank=True
    )
    uses_login_account = models.BooleanField("gebruik inlogaccount", default=True)
    # The login account by its stable id (the OIDC `sub`), never by its username: a username
    # of an account that was never activated is freed by the purge and may be someone else's
    # next. The login service tells us when it deletes an account (`bieb.kb.signals`).
    login_account_id = models.UUIDField("inlogaccount", null=True, blank=True, db_index=True)
    # The account made for this customer was never activated and the login service deleted it:
    # the counter shows "verlopen" until staff forget it or generate a new one.
    login_account_lapsed = models.BooleanField("inlogaccount verlopen", default=False)
    registered_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="+", verbose_name="ingeschreven in vestiging"
    )
    # Set from the form that registered the customer, so a repeated submit finds this row.
    registration_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField("ingeschreven op", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="ingeschreven door",
    )
    updated_at = models.DateTimeField("gewijzigd op", auto_now=True)
    # Set when the retention job (bieb.retention) replaced the personal data: the customer
    # number, memberships and ledger stay for the financial retention, then go.
    anonymised_at = models.DateTimeField("geanonimiseerd op", null=True, blank=True)

    class Meta:
        verbose_name = "klant"
        verbose_name_plural = "klanten"
        ordering = ["surname", "initials", "number"]
        indexes = [
            # The counter's search (customers.selectors.customer_search): each index serves
            # both the condition and the order of one kind of search.
            models.Index(F("library"), Bytewise("number"), name="customer_search_number"),
            models.Index(
                F("library"),
                Bytewise(Lower("surname")),
                F("initials"),
                F("number"),
                name="customer_search_name",
            ),
            models.Index(F("library"), Bytewise(Lower("email")), name="customer_search_email"),
            models.Index(fields=["library", "postcode", "house_number"], name="customer_address"),
            # The retention job's deletion after the financial retention: only the few
            # anonymised customers are in it.
            models.Index(
                fields=["anonymised_at"],
                condition=Q(anonymised_at__isnull=False),
                name="customer_anonymised",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(newsletter=False) | Q(newsletter_consent_at__isnull=False),
                name="newsletter_needs_consent_time",
                violation_error_message=(
                    "Een aanmelding voor de nieuwsbrief heeft het tijdstip van de toestemming "
                    "nodig."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}"

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class MembershipStatus(models.TextChoices):
    """Where a membership stands; set by `bieb.customers.year` (never by hand)."""

    AWAITING_PAYMENT = "wacht_op_betaling", "wacht op betaling"
    ACTIVE = "actief", "actief"
    # Unpaid for the library's limit (Wise's monthly customer run), then a month later:
    ARREARS = "betalingsachterstand", "betalingsachterstand"
    DEREGISTERED = "uitgeschreven", "uitgeschreven"
    # Cancelled (opgezegd) and past its end, or a Vast membership that was not renewed (that
    # one may still be renewed).
    ENDED = "beeindigd", "beëindigd"


# No digital rights and no renewal in these states.
MEMBERSHIP_CLOSED = (MembershipStatus.DEREGISTERED, MembershipStatus.ENDED)


class CancelReason(models.TextChoices):
    MOVED = "verhuisd", "Verhuisd"
    PRICE = "prijs", "Te duur"
    UNUSED = "geen_gebruik", "Geen gebruik meer"
    OTHER_LIBRARY = "andere_bibliotheek", "Lid bij een andere bibliotheek"
    DECEASED = "overleden", "Overleden"
    OTHER = "anders", "Anders"


class Membership(models.Model):
    library = models.ForeignKey(
        Library,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name="bibliotheek",
        db_index=False,  # membership_renewal (library, valid_through) serves it
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="memberships", verbose_name="klant"
    )
    subscription_type = models.ForeignKey(
        SubscriptionType, on_delete=models.PROTECT, related_name="+", verbose_name="abonnement"
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.PROTECT, related_name="+", verbose_name="tariefcode"
    )
    discount = models.ForeignKey(
        Discount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="korting",
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="+", verbose_name="vestiging"
    )
    start_date = models.DateField("ingangsdatum")
    expiry_month = models.PositiveSmallIntegerField("vervalmaand")
    valid_through = models.DateField("geldig t/m")
    status = models.CharField(
        "status", max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    # Through which day the digital rights run: the end of the last paid period, or further
    # into an unpaid one by the library's payment term or grace days. Derived from the periods
    # and the ledger by `bieb.customers.year.customer_year_refresh`, and stored so that the
    # entitlement check and the login service's copy need no sums. None: no rights (yet).
    rights_through = models.DateField("rechten t/m", null=True, blank=True)
    # "Wijzig abonnement": the type of the next period (None: the same).
    next_subscription_type = models.ForeignKey(
        SubscriptionType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="abonnement vanaf de volgende periode",
    )
    # "Opzeggen": the last day of the membership; it does not renew.
    ends_on = models.DateField("opgezegd per", null=True, blank=True)
    cancelled_at = models.DateTimeField("opgezegd op", null=True, blank=True)
    cancel_reason = models.CharField(
        "reden opzegging", max_length=30, choices=CancelReason.choices, blank=True
    )
    status_changed_on = models.DateField("status sinds", null=True, blank=True)
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)

    class Meta:
        verbose_name = "lidmaatschap"
        verbose_name_plural = "lidmaatschappen"
        ordering = ["-start_date", "-id"]
        indexes = [
            # The renewal run: memberships of a library whose period ends on a day.
            models.Index(fields=["library", "valid_through"], name="membership_renewal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expiry_month__gte=1) & Q(expiry_month__lte=12),
                name="membership_expiry_month",
                violation_error_message="De vervalmaand moet een maand van 1 tot en met 12 zijn.",
            ),
            models.CheckConstraint(
                condition=Q(valid_through__gte=models.F("start_date")),
                name="membership_period_order",
                violation_error_message="'Geldig t/m' kan niet vóór de begindatum liggen.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_type} t/m {self.valid_through:%d-%m-%Y}"

    def has_rights_on(self, day: dt.date) -> bool:
        """Whether the membership gives its (digital) rights on `day`."""
        return (
            self.status not in MEMBERSHIP_CLOSED
            and self.rights_through is not None
            and self.start_date <= day <= self.rights_through
        )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class PeriodState(models.TextChoices):
    # Vast: priced and offered to the member, not (yet) renewed; nothing booked.
    OFFERED = "aangeboden", "aangeboden"
    # Booked in the ledger: the fee is owed (paid or not is the ledger's to say).
    BOOKED = "geboekt", "geboekt"
    # An offer that was not taken (cancelled, changed, or the membership ended).
    LAPSED = "vervallen", "vervallen"


class RenewalRun(models.Model):
    """One run of the renewal job for a library and a day (`bieb renewals`): what it did."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    day = models.DateField("dag")
    started_at = models.DateTimeField("gestart op", auto_now_add=True)
    finished_at = models.DateTimeField("klaar op", null=True, blank=True)
    started_by = models.CharField("gestart door", max_length=150)
    booked = models.PositiveIntegerField("verlengd en geboekt", default=0)
    booked_amount = models.DecimalField(
        "geboekt bedrag", max_digits=14, decimal_places=2, default=0
    )
    offered = models.PositiveIntegerField("aangeboden (Vast)", default=0)
    offered_amount = models.DecimalField(
        "aangeboden bedrag", max_digits=14, decimal_places=2, default=0
    )
    not_renewed = models.PositiveIntegerField("niet verlengd", default=0)
    mailed = models.PositiveIntegerField("gemaild", default=0)
    reminders = models.PositiveIntegerField("herinneringen", default=0)
    awaiting = models.PositiveIntegerField("wacht op betaling", default=0)
    arrears = models.PositiveIntegerField("betalingsachterstand", default=0)
    deregistered = models.PositiveIntegerField("uitgeschreven", default=0)
    ended = models.PositiveIntegerField("beëindigd", default=0)

    class Meta:
        verbose_name = "verlengrun"
        verbose_name_plural = "verlengruns"
        ordering = ["-day", "-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.library} {self.day:%d-%m-%Y}"


class MembershipPeriod(models.Model):
    """One period (12 months as a rule) of a membership, priced by a cost build-up on its first
    day. One row per membership and start date: the renewal run books each period once."""

    library = models.ForeignKey(
        Library,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="bibliotheek",
        db_index=False,  # period_reminders (library, state, mailed_at) serves it
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="periods",
        verbose_name="lidmaatschap",
        db_index=False,  # period_once (membership, start) serves it
    )
    subscription_type = models.ForeignKey(
        SubscriptionType, on_delete=models.PROTECT, related_name="+", verbose_name="abonnement"
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.PROTECT, related_name="+", verbose_name="tariefcode"
    )
    discount = models.ForeignKey(
        Discount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="korting",
    )
    start = models.DateField("van")
    end = models.DateField("t/m")
    fee = models.DecimalField("abonnementskosten", max_digits=10, decimal_places=2)
    discount_amount = models.DecimalField(
        "korting", max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    state = models.CharField("stand", max_length=20, choices=PeriodState.choices)
    renewal_run = models.ForeignKey(
        RenewalRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="periods",
        verbose_name="verlengrun",
    )
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    booked_at = models.DateTimeField("geboekt op", null=True, blank=True)
    mailed_at = models.DateTimeField("gemaild op", null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField("herinneringen verstuurd", default=0)
    reminded_at = models.DateTimeField("laatste herinnering op", null=True, blank=True)

    class Meta:
        verbose_name = "periode"
        verbose_name_plural = "periodes"
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "start"],
                name="period_once",
                violation_error_message="Dit lidmaatschap heeft al een periode die dan begint.",
            ),
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")),
                name="period_order",
                violation_error_message="Het einde van een periode kan niet vóór het begin liggen.",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0)
                & Q(discount_amount__gte=0)
                & Q(discount_amount__lte=models.F("fee")),
                name="period_amounts",
                violation_error_message=(
                    "Abonnementskosten en korting zijn 0 of meer; de korting is niet hoger dan "
                    "de kosten."
                ),
            ),
        ]
        indexes = [
            # Reminders: the open periods of a library by state and mail date.
            models.Index(fields=["library", "state", "mailed_at"], name="period_reminders"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.start:%d-%m-%Y} t/m {self.end:%d-%m-%Y}"

    @property
    def amount(self) -> Decimal:
        """What the period costs: the fee less the discount ("Te betalen")."""
        return self.fee - self.discount_amount


class LedgerKind(models.TextChoices):
    FEE = "abonnementskosten", "Abonnementskosten"
    DISCOUNT = "korting", "Korting"
    PAYMENT = "betaling", "Betaling"
    # Corrections only ever add lines (bieb.customers.ledger):
    STORNO = "storno", "Storno"  # reverses one line: its amount with the sign flipped
    REFUND = "terugbetaling", "Terugbetaling"  # money paid back to the customer: positive
    WRITE_OFF = "kwijtschelding", "Kwijtschelding"  # a debt forgiven: negative


class PaymentMethod(models.TextChoices):
    NONE = "", "—"
    CASH = "contant", "Contant"
    PIN = "pin", "Pin"
    IDEAL = "ideal", "iDEAL"
    DEBIT = "incasso", "Automatische incasso"


class LedgerLine(models.Model):
    """One money movement. Fees are positive, discounts and payments negative; saldo = sum."""

    library = models.ForeignKey(
        Library,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="bibliotheek",
        db_index=False,  # ledger_day (library, kind, booked_at) serves it
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="ledger_lines", verbose_name="klant"
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_lines",
        verbose_name="lidmaatschap",
    )
    period = models.ForeignKey(
        MembershipPeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_lines",
        verbose_name="periode",
    )
    kind = models.CharField("soort", max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2)
    # A storno names the payment line it reverses (once).
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name="draait terug",
    )
    reason = models.CharField("reden", max_length=200, blank=True)
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="vestiging",
    )
    method = models.CharField(
        "betaalwijze", max_length=10, choices=PaymentMethod.choices, blank=True, default=""
    )
    description = models.CharField("omschrijving", max_length=200)
    booked_at = models.DateTimeField("geboekt op", auto_now_add=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="geboekt door",
    )

    class Meta:
        verbose_name = "boeking"
        verbose_name_plural = "boekingen"
        ordering = ["booked_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["abonnementskosten", "terugbetaling"]) & Q(amount__gte=0))
                | (Q(kind__in=["korting", "betaling", "kwijtschelding"]) & Q(amount__lte=0))
                | (Q(kind="storno") & Q(reverses__isnull=False)),
                name="ledger_sign_by_kind",
                violation_error_message=(
                    "Abonnementskosten en terugbetaling zijn een bedrag van 0 of meer; korting, "
                    "betaling en kwijtschelding een bedrag van 0 of minder; een storno draait "
                    "een boeking terug."
                ),
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind="storno"),
                name="ledger_only_storno_reverses",
                violation_error_message="Alleen een storno draait een boeking terug.",
            ),
        ]
        indexes = [
            # The kasopmaak: a library's desk payments of a day.
            models.Index(fields=["library", "kind", "booked_at"], name="ledger_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class CustomerNumberSequence(models.Model):
    """The last sequence number handed out per library; its row lock serialises allocation."""

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, related_name="+", verbose_name="bibliotheek"
    )
    last_value = models.BigIntegerField("laatste volgnummer", default=0)

    class Meta:
        verbose_name = "klantnummerreeks"
        verbose_name_plural = "klantnummerreeksen"

    def __str__(self) -> str:
        return f"{self.library}: {self.last_value}"
