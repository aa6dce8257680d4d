import datetime as dt
import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from bieb.core.contact import contact_lines, tel_link
from bieb.kb.types import AccountState

username_validator = RegexValidator(
    r"^[a-z0-9._-]{4,80}$",
    "Een gebruikersnaam heeft 4 tot 80 tekens: kleine letters, cijfers, punt, streepje of "
    "liggend streepje.",
)


# The states an account row can have (the model's choices).
STORED_ACCOUNT_STATES = [
    (state.value, state.label)
    for state in (AccountState.WAITING, AccountState.ACTIVE, AccountState.DISABLED)
]


class AccountOrigin(models.TextChoices):
    COUNTER = "balie", "balie"
    ONLINE = "online", "online"


class LoginAccount(models.Model):
    """A member's national login. Its UUID is the stable OpenID Connect `sub`."""

    id = models.UUIDField("sub", primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        "gebruikersnaam", max_length=80, unique=True, validators=[username_validator]
    )
    email = models.EmailField("e-mailadres", max_length=254)
    email_verified = models.BooleanField("e-mailadres bevestigd", default=False)
    state = models.CharField(
        "status", max_length=12, choices=STORED_ACCOUNT_STATES, default=AccountState.WAITING
    )
    origin = models.CharField("aangemaakt via", max_length=10, choices=AccountOrigin.choices)
    password = models.CharField("wachtwoord", max_length=128, blank=True)
    activation_deadline = models.DateTimeField("activeren vóór", null=True, blank=True)
    # Bumped whenever a new activation link is sent, so that older links stop working.
    link_version = models.PositiveIntegerField(default=0)
    activated_at = models.DateTimeField("geactiveerd op", null=True, blank=True)
    last_login = models.DateTimeField("laatst ingelogd", null=True, blank=True)
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    # Every sign-in stores the version it was made under (bieb.kb.session); bumping it ends
    # every session of the account at once (a password change or reset, "Overal uitloggen").
    session_version = models.PositiveIntegerField("sessieversie", default=0)
    # A new e-mail address waits here until its holder confirms it through the mailed link;
    # the version is bumped with every such link, so that only the newest one works.
    pending_email = models.EmailField("nieuw e-mailadres (onbevestigd)", max_length=254, blank=True)
    pending_email_at = models.DateTimeField("nieuw e-mailadres gevraagd op", null=True, blank=True)
    email_link_version = models.PositiveIntegerField(default=0)
    # The retention rule (bieb.kb.retention): unused for years and without a valid membership,
    # the account is warned by mail; still unused a while later, it is deleted. Cleared by the
    # next sign-in.
    retention_warned_at = models.DateTimeField(
        "gewaarschuwd voor verwijdering op", null=True, blank=True
    )

    class Meta:
        verbose_name = "inlogaccount"
        verbose_name_plural = "inlogaccounts"
        indexes = [
            models.Index(
                fields=["activation_deadline"],
                condition=Q(state="wacht"),
                name="kb_waiting_deadline",
            ),
            models.Index(fields=["email"], name="kb_account_email"),
            models.Index(
                fields=["retention_warned_at"],
                condition=Q(retention_warned_at__isnull=False),
                name="kb_retention_warned",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="wacht") | Q(activation_deadline__isnull=False),
                name="kb_waiting_has_deadline",
                violation_error_message=(
                    "Een inlogaccount dat op activering wacht, heeft een uiterste activeringstijd"
                    " nodig."
                ),
            ),
            models.CheckConstraint(
                condition=Q(username=Lower("username")),
                name="kb_username_lowercase",
                violation_error_message="De gebruikersnaam moet in kleine letters zijn.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    # What Django's machinery (tokens, OIDC) expects of a user-like object.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.state == AccountState.ACTIVE

    def activation_expired(self, at: dt.datetime | None = None) -> bool:
        """Whether a waiting account's activation link is dead: from its deadline on, to the
        second. The one rule for the link, the library's "verlopen" and the purge (whose
        batch query in services says the same in SQL). A deadline is set with the link
        (`bieb.kb.services.activation_lifetime`); a waiting account always has one."""
        return self.state == AccountState.WAITING and (
            self.activation_deadline is None or self.activation_deadline <= (at or timezone.now())
        )

    def get_username(self) -> str:
        return self.username

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        def upgrade(raw_password: str) -> None:
            self.set_password(raw_password)
            self.save(update_fields=["password"])

        return bool(self.password) and check_password(raw, self.password, upgrade)


class HeldUsername(models.Model):
    """A username its account gave up (changed or deleted), held back until `held_until` so
    that nobody takes over a name that mail, a library or a password manager still knows. The
    account that had it (`account_id`, also after it was deleted) may take it back."""

    username = models.CharField("gebruikersnaam", max_length=80, unique=True)
    account_id = models.UUIDField("account")
    reason = models.CharField("reden", max_length=20)
    held_at = models.DateTimeField("vrijgegeven op", auto_now_add=True)
    held_until = models.DateTimeField("vrij vanaf", db_index=True)

    class Meta:
        verbose_name = "vastgehouden gebruikersnaam"
        verbose_name_plural = "vastgehouden gebruikersnamen"

    def __str__(self) -> str:
        return self.username


class SignIn(models.Model):
    """A sign-in, as its member sees it under "Recente inlogmomenten": when, from which kind of
    device, and from roughly where (the network, never the whole address)."""

    account = models.ForeignKey(
        LoginAccount, on_delete=models.CASCADE, related_name="sign_ins", verbose_name="account"
    )
    at = models.DateTimeField("tijdstip", default=timezone.now)
    network = models.CharField("netwerk", max_length=60, blank=True)
    device = models.CharField("apparaat", max_length=120, blank=True)
    via = models.CharField("via", max_length=20, blank=True)

    class Meta:
        verbose_name = "inlogmoment"
        verbose_name_plural = "inlogmomenten"
        indexes = [models.Index(fields=["account", "-at"], name="kb_signin_account_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.device}"


class LinkedMembership(models.Model):
    """A library membership linked to the account, kept current by the library side: what the
    login service and the Online Bibliotheek know of it (they never read the library's own
    tables)."""

    account = models.ForeignKey(
        LoginAccount, on_delete=models.CASCADE, related_name="memberships", verbose_name="account"
    )
    library_code = models.CharField("bibliotheek", max_length=30)
    library_name = models.CharField("naam bibliotheek", max_length=200)
    customer_number = models.CharField("klantnummer", max_length=20)
    subscription_code = models.CharField("abonnement", max_length=10)
    digital_rights = models.CharField("digitale rechten", max_length=20)
    # Through which day the rights run (the library's "rechten t/m"; None: none yet).
    valid_through = models.DateField("geldig t/m", null=True, blank=True)
    state = models.CharField("stand", max_length=30, blank=True)
    pay_url = models.URLField("betaallink", max_length=500, blank=True)
    # The membership's own dates and whether it includes physical loans: what the entitlement
    # answer tells other services. None on a copy the library has not pushed since they came.
    starts_on = models.DateField("ingangsdatum", null=True, blank=True)
    period_through = models.DateField("periode t/m", null=True, blank=True)
    physical_loans = models.BooleanField("fysiek lenen", default=False)
    linked_at = models.DateTimeField("gekoppeld op", auto_now_add=True)

    class Meta:
        verbose_name = "gekoppeld lidmaatschap"
        verbose_name_plural = "gekoppelde lidmaatschappen"
        constraints = [
            models.UniqueConstraint(
                fields=["library_code", "customer_number"],
                name="kb_membership_once",
                violation_error_message=(
                    "Dit klantnummer van deze bibliotheek is al aan een inlogaccount gekoppeld."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.library_code} {self.customer_number}"

    @property
    def state_label(self) -> str:
        """The library's word for where the membership stands, in Dutch for the member."""
        if self.state == "beeindigd" and self.pay_url:
            return "niet verlengd"
        return MEMBERSHIP_STATES.get(self.state, "")

    @property
    def pay_link(self) -> str:
        """The payment link to show: only a web address, and only where paying helps."""
        if self.state in ("uitgeschreven", "opgezegd", "actief"):
            return ""
        return self.pay_url if self.pay_url.startswith(("https://", "http://")) else ""

    @property
    def status(self) -> str:
        """The library's status of the membership: its `state`, where "opgezegd" (cancelled
        and ended) is the library's "beeindigd"."""
        return "beeindigd" if self.state == "opgezegd" else self.state

    @property
    def has_digital_rights(self) -> bool:
        return self.digital_rights not in ("", "none")

    def has_rights_on(self, day: dt.date) -> bool:
        """Whether the membership gives its rights on `day`: the library's rule
        (`Membership.has_rights_on`) on the copy: open, started, and through its rights date."""
        return (
            self.status not in MEMBERSHIP_CLOSED
            and self.valid_through is not None
            and (self.starts_on is None or self.starts_on <= day)
            and day <= self.valid_through
        )


# The states a library reports in `LinkedMembership.state` (the library system's statuses,
# plus "opgezegd" for a cancelled membership that ended).
MEMBERSHIP_STATES = {
    "wacht_op_betaling": "wacht op betaling",
    "actief": "actief",
    "betalingsachterstand": "betalingsachterstand",
    "uitgeschreven": "uitgeschreven",
    "opgezegd": "opgezegd",
    "beeindigd": "beëindigd",
}
# No rights in these (the library's statuses "uitgeschreven" and "beeindigd").
MEMBERSHIP_CLOSED = ("uitgeschreven", "beeindigd")


class LinkCode(models.Model):
    """A one-time code mailed to an account's own address when a library wants to link a
    membership to it: the holder gives it to staff at the desk, which is their consent.

    Only a keyed hash is stored; the code is bound to the account and the library, works once,
    for a short while, and dies after a few wrong tries."""

    account = models.ForeignKey(
        LoginAccount, on_delete=models.CASCADE, related_name="+", verbose_name="account"
    )
    library_code = models.CharField("bibliotheek", max_length=30)
    code_hash = models.CharField(max_length=64)
    requested_by = models.CharField("aangevraagd door", max_length=150, blank=True)
    created_at = models.DateTimeField("aangevraagd op", auto_now_add=True)
    expires_at = models.DateTimeField("geldig tot")
    failures = models.PositiveSmallIntegerField("foute pogingen", default=0)
    used_at = models.DateTimeField("gebruikt op", null=True, blank=True)

    class Meta:
        verbose_name = "koppelcode"
        verbose_name_plural = "koppelcodes"
        indexes = [models.Index(fields=["account", "library_code"], name="kb_linkcode_account")]

    def __str__(self) -> str:
        return f"{self.library_code} {self.account_id}"


class AccountEvent(models.Model):
    """The security log of the login service."""

    at = models.DateTimeField("tijdstip", auto_now_add=True, db_index=True)
    account_id = models.UUIDField("account", null=True, blank=True, db_index=True)
    username = models.CharField("gebruikersnaam", max_length=80, blank=True)
    event = models.CharField("gebeurtenis", max_length=40, db_index=True)
    actor = models.CharField("door", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP-adres", null=True, blank=True)
    data = models.JSONField("gegevens", default=dict, blank=True)

    class Meta:
        verbose_name = "gebeurtenis"
        verbose_name_plural = "gebeurtenissen"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.event} {self.username}"


from bieb.kb.api.models import (  # noqa: E402  (the API's tables, bieb.kb.api)
    ApiCall,
    IdempotentCall,
    LibraryEvent,
    LibraryEventHead,
    LibraryEventKind,
)
from bieb.kb.oidc_models import (  # noqa: E402  (Django finds the app's models here)
    OIDCAccessToken,
    OIDCApplication,
    OIDCDeviceGrant,
    OIDCGrant,
    OIDCIDToken,
    OIDCRefreshToken,
)
from bieb.kb.statistics.models import DailyFigure  # noqa: E402  (the statistics' table)

__all__ = [
    "AccountEvent",
    "AccountOrigin",
    "AccountState",
    "ApiCall",
    "DailyFigure",
    "HeldUsername",
    "IdempotentCall",
    "LibraryEvent",
    "LibraryEventHead",
    "LibraryEventKind",
    "LinkCode",
    "LinkedMembership",
    "LoginAccount",
    "OIDCAccessToken",
    "OIDCApplication",
    "OIDCDeviceGrant",
    "OIDCGrant",
    "OIDCIDToken",
    "OIDCRefreshToken",
    "SignIn",
]


class LibraryContact(models.Model):
    """A library's name and contact details as the libraries tell the login service: the
    Online Bibliotheek shows them to a member who has to pay or contact that library."""

    library_code = models.CharField("bibliotheek", max_length=30, unique=True)
    name = models.CharField("naam", max_length=200)
    contact_address = models.CharField("adres", max_length=200, blank=True)
    contact_phone = models.CharField("telefoon", max_length=30, blank=True)
    contact_email = models.EmailField("e-mail", max_length=254, blank=True)
    website = models.URLField("website", max_length=200, blank=True)

    class Meta:
        verbose_name = "contactgegevens bibliotheek"
        verbose_name_plural = "contactgegevens bibliotheken"

    def __str__(self) -> str:
        return self.name

    @property
    def contact_lines(self) -> list[str]:
        return contact_lines(
            self.name, self.contact_address, self.contact_phone, self.contact_email, self.website
        )

    @property
    def contact_tel(self) -> str:
        return tel_link(self.contact_phone)
