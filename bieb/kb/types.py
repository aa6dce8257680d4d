"""What crosses the interface between the library side and the login service, as plain values:
no model, no database. Both adapters (in process, `bieb.kb.local`; over HTTP, `bieb.kb.remote`)
answer in these, and a library installation imports this module without the login service's
app being installed (`BIEB_ROLE=library`). `bieb.kb.interface` re-exports them."""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone


class AccountState(models.TextChoices):
    """Where a login account stands, in the work instruction's words; both sides use this one
    enum (the library side through `bieb.kb.interface`). The first three are stored; EXPIRED is
    what a waiting account whose activation link is dead, or that the purge deleted, reads as
    through the interface ("verlopen"): never stored."""

    WAITING = "wacht", "wacht op activering"
    ACTIVE = "actief", "actief"
    DISABLED = "geblokkeerd", "geblokkeerd"
    EXPIRED = "verlopen", "verlopen — niet geactiveerd"


@dataclass(frozen=True)
class MembershipData:
    library_code: str
    library_name: str
    customer_number: str
    subscription_code: str
    digital_rights: str
    # Through which day the digital rights run (None: none yet).
    valid_through: dt.date | None
    # The library's word for where the membership stands ("wacht_op_betaling", "actief", ...)
    # and where the member pays to (re)gain the rights; told to the member at /online/.
    state: str = ""
    pay_url: str = ""
    # The membership's first day and the end of its current period ("geldig t/m"), and
    # whether it includes physical loans: for the entitlement answer to other services.
    starts_on: dt.date | None = None
    period_through: dt.date | None = None
    physical_loans: bool = False


@dataclass(frozen=True)
class LibraryData:
    """A library's name and contact details, for the members' pages of the login service."""

    code: str
    name: str
    contact_address: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    website: str = ""


@dataclass(frozen=True)
class AccountStatus:
    username: str
    email: str
    # WAITING, ACTIVE, DISABLED, or EXPIRED ("verlopen": never activated, its link dead or the
    # account purged)
    state: AccountState
    activation_deadline: dt.datetime | None = None
    # The account's stable id, the OIDC `sub`: what the library side keeps. None only for a
    # name that no account has.
    id: uuid.UUID | None = None
    # A new address the member has been asked to confirm (an active account keeps `email`
    # until then); "" when none is waiting.
    pending_email: str = ""

    @property
    def label(self) -> str:
        """The state in the work instruction's words, as the counter shows it."""
        if self.state == AccountState.WAITING and self.activation_deadline:
            deadline = timezone.localtime(self.activation_deadline)
            return f"wacht op activering tot {deadline:%d-%m-%Y %H:%M}"
        return str(self.state.label)

    # For templates, which cannot name the enum.
    @property
    def is_waiting(self) -> bool:
        return self.state == AccountState.WAITING

    @property
    def is_active(self) -> bool:
        return self.state == AccountState.ACTIVE

    @property
    def is_expired(self) -> bool:
        return self.state == AccountState.EXPIRED


@dataclass(frozen=True)
class LibraryEvent:
    """Something that happened to an account linked to one of the library's customers (the
    KB's event feed, docs/kb-api.md): `account.activated`, `account.email_changed`,
    `account.deleted` or `account.purged`."""

    cursor: int
    type: str
    at: dt.datetime
    account_id: uuid.UUID
    customer_number: str
    username: str = ""
    email: str = ""


@dataclass(frozen=True)
class LibraryEvents:
    """One page of the feed: pass `cursor` as `after` next time; read again while `more`."""

    events: list[LibraryEvent] = field(default_factory=list)
    cursor: int = 0
    more: bool = False


@dataclass(frozen=True)
class AccountFigures:
    """The login accounts a library's counter made in a period, as the KB counts them
    (`bieb.kb.statistics`): made, activated within the link's lifetime, expired unused (purged)."""

    made: int = 0
    activated_in_time: int = 0
    expired: int = 0


def counter_username_matches(username: str, *, number: str) -> bool:
    """The name a counter account for customer `number` gets: the number, or `number-N` when
    the number was taken (see `bieb.kb.services.account_create`)."""
    base, _, suffix = username.partition("-")
    return base == number and (not suffix or suffix.isdigit())


ACCOUNT_GONE = (
    "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een nieuw "
    "inlogaccount."
)
