"""Customers of a library, their memberships, and the ledger their saldo is derived from."""

import datetime as dt
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


class MembershipStatus(models.TextChoices):
    AWAITING_PAYMENT = "wacht_op_betaling", "wacht op betaling"
    ACTIVE = "actief", "actief"
    ENDED = "beeindigd", "beëindigd"


class Membership(models.Model):
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="memberships", verbose_name="bibliotheek"
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
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)

    class Meta:
        verbose_name = "lidmaatschap"
        verbose_name_plural = "lidmaatschappen"
        ordering = ["-start_date", "-id"]
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

    def is_valid_on(self, day: dt.date) -> bool:
        return (
            self.status == MembershipStatus.ACTIVE and self.start_date <= day <= self.valid_through
        )


class LedgerKind(models.TextChoices):
    FEE = "abonnementskosten", "Abonnementskosten"
    DISCOUNT = "korting", "Korting"
    PAYMENT = "betaling", "Betaling"


class PaymentMethod(models.TextChoices):
    NONE = "", "—"
    CASH = "contant", "Contant"
    PIN = "pin", "Pin"
    IDEAL = "ideal", "iDEAL"


class LedgerLine(models.Model):
    """One money movement. Fees are positive, discounts and payments negative; saldo = sum."""

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
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
    kind = models.CharField("soort", max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2)
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
                condition=(Q(kind="abonnementskosten") & Q(amount__gte=0))
                | (Q(kind__in=["korting", "betaling"]) & Q(amount__lte=0)),
                name="ledger_sign_by_kind",
                violation_error_message=(
                    "Abonnementskosten zijn een bedrag van 0 of meer; korting en betaling een "
                    "bedrag van 0 of minder."
                ),
            ),
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
