"""Request and response bodies of the KB's API (pydantic, through django-ninja): what the
OpenAPI document says and what every request is checked against before a service sees it.

Text fields take no control characters (a NUL could not be stored) and no more than their
column holds, so that a request the schema accepts never fails in the database.
"""

import datetime as dt
import uuid
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from bieb.kb.models import MEMBERSHIP_STATES

_TEXT = r"^[^\x00-\x1f\x7f]*$"


def text(*, min_length: int = 0, max_length: int) -> object:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=_TEXT)


LIBRARY_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,29}$"
CUSTOMER_NUMBER_PATTERN = r"^[A-Za-z0-9._-]{1,20}$"
CustomerNumber = Annotated[str, StringConstraints(pattern=CUSTOMER_NUMBER_PATTERN)]
Email = Annotated[str, text(min_length=3, max_length=254)]
Username = Annotated[str, text(min_length=1, max_length=80)]
PayUrl = Annotated[
    str, StringConstraints(max_length=500, pattern=r"^(https?://[^\s\x00-\x1f\x7f]+)?$")
]
MembershipState = Literal[tuple(["", *MEMBERSHIP_STATES])]  # type: ignore[valid-type]
AccountState = Literal["wacht", "actief", "geblokkeerd", "verlopen"]
EventType = Literal[
    "account.activated", "account.email_changed", "account.deleted", "account.purged"
]

MAX_STATUS = 500
MAX_MEMBERSHIPS = 1000


class MembershipValues(Schema):
    subscription_code: Annotated[str, text(min_length=1, max_length=10)] = Field(
        description="The subscription type's code (e.g. `0141`)."
    )
    digital_rights: Annotated[str, text(max_length=20)] = Field(
        description="Which digital rights the membership gives (e.g. `compleet`); empty: none."
    )
    valid_through: dt.date | None = Field(
        None, description="Through which day the digital rights run; null: none (yet)."
    )
    state: MembershipState = Field(  # type: ignore[valid-type]
        "", description="Where the membership stands, in the library system's words."
    )
    pay_url: PayUrl = Field("", description="Where the member pays to (re)gain the rights.")
    starts_on: dt.date | None = Field(None, description="The membership's first day.")
    period_through: dt.date | None = Field(
        None, description="The end of the membership's current period."
    )
    physical_loans: bool = Field(False, description="Whether it includes physical loans.")


class MembershipIn(MembershipValues):
    customer_number: CustomerNumber = Field(description="The library's customer number.")
    library_name: Annotated[str, text(min_length=1, max_length=200)] = Field(
        description="The library's name as members know it (used in the KB's mail)."
    )


class MembershipUpdate(MembershipValues):
    customer_number: CustomerNumber


class AccountCreate(Schema):
    email: Email = Field(description="Where the activation link goes.")
    account_id: uuid.UUID | None = Field(
        None,
        description="The id the new account gets, if the library system chose it before the "
        "call (so it can store it first); default: the KB chooses.",
    )
    membership: MembershipIn


class AccountLink(Schema):
    username: Username = Field(
        description="The existing account's username, as the member says it."
    )
    code: Annotated[str, text(min_length=1, max_length=20)] = Field(
        description="The code the KB mailed to the account's address (POST .../link-codes)."
    )
    membership: MembershipIn


class AccountLinkOwn(Schema):
    id_token: Annotated[str, text(min_length=1, max_length=8000)] = Field(
        description="The ID token the KB issued at the member's sign-in (the online sign-up's "
        "OpenID Connect login, client bibliotheek-website): their consent. About this account "
        "and issued (iat) at most 8 days ago; it may have expired (exp) since."
    )
    membership: MembershipIn


class LinkCodeRequest(Schema):
    username: Username
    library_name: Annotated[str, text(min_length=1, max_length=200)]


class LinkCodeCheck(Schema):
    username: Username
    code: Annotated[str, text(min_length=1, max_length=20)]


class EmailChange(Schema):
    email: Email = Field(description="The customer's new address, as changed at the library.")


class AccountForget(Schema):
    customer_number: CustomerNumber = Field(description="The membership to unlink.")


class ForgetLink(Schema):
    account_id: uuid.UUID
    customer_number: CustomerNumber = Field(description="The membership to unlink.")


class AccountsForget(Schema):
    links: list[ForgetLink] = Field(min_length=1, max_length=MAX_MEMBERSHIPS)


class AccountsForgotten(Schema):
    forgotten: int = Field(description="How many of the links were linked (and are no more).")
    deleted: int = Field(description="How many accounts were deleted (never activated).")


class StatusQuery(Schema):
    usernames: list[Username] = Field(
        default_factory=list,
        max_length=MAX_STATUS,
        description="Usernames; an account not linked to this library reads as unknown.",
    )
    account_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_STATUS)


class AccountOut(Schema):
    id: uuid.UUID | None = Field(
        description="The account's stable id (the OIDC `sub`); null for an unknown username."
    )
    username: str
    email: str
    state: AccountState = Field(
        description="`verlopen`: never activated and its link expired, or no such account."
    )
    label: str = Field(description="The state in Dutch, as the counter shows it.")
    activation_deadline: dt.datetime | None
    pending_email: str = Field(description="A new address waiting for its confirmation.")


class StatusOut(Schema):
    usernames: list[AccountOut] = Field(description="In the order asked.")
    account_ids: list[AccountOut] = Field(description="In the order asked.")


class MessageOut(Schema):
    detail: str = Field(description="Dutch, for counter staff.")


class ForgetOut(Schema):
    deleted: bool = Field(description="Whether the account itself was deleted (never activated).")


class MembershipsUpdate(Schema):
    memberships: list[MembershipUpdate] = Field(min_length=1, max_length=MAX_MEMBERSHIPS)


class MembershipsUpdated(Schema):
    updated: int
    not_linked: list[str] = Field(
        description="Customer numbers with no membership linked at the KB (nothing to update)."
    )


class EventOut(Schema):
    cursor: int = Field(description="This event's position; pass the last one as `after`.")
    type: EventType
    at: dt.datetime
    account_id: uuid.UUID
    customer_number: str
    username: str = Field(description="The username (activated, e-mail changed); else empty.")
    email: str = Field(description="The account's address (activated, e-mail changed); else empty.")


class EventsOut(Schema):
    events: list[EventOut]
    cursor: int = Field(description="Where the next read starts: pass it as `after`.")
    more: bool = Field(description="Whether more events wait (read again at once).")


class AccountFiguresOut(Schema):
    made: int = Field(description="Accounts this library's counter made in the period.")
    activated_in_time: int = Field(description="Of those, activated before the link ran out.")
    expired: int = Field(description="Of those, never activated and removed (purged).")


class LibraryIn(Schema):
    name: Annotated[str, text(min_length=1, max_length=200)]
    contact_address: Annotated[str, text(max_length=200)] = ""
    contact_phone: Annotated[str, text(max_length=30)] = ""
    contact_email: Annotated[str, text(max_length=254)] = Field(
        "", description="An e-mail address, or empty."
    )
    website: Annotated[
        str, StringConstraints(max_length=200, pattern=r"^(https?://[^\s\x00-\x1f\x7f]+)?$")
    ] = ""


class ServiceOut(Schema):
    activation_hours: float = Field(description="How long an activation link works.")
    activation_lifetime: str = Field(description="The same in Dutch words (`24 uur`).")
    libraries: list[str] = Field(
        description="The codes of the libraries this client may act for, in order."
    )


class FieldProblem(Schema):
    field: str
    detail: str


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None
