"""The login service as the library side sees it: this module and nothing else.

The library apps import nothing else of `bieb.kb` (import-linter's contracts in pyproject.toml,
run by `make test`). What crosses is plain data: frozen dataclasses (`AccountStatus`,
`MembershipData`, `LibraryData`, `LibraryEvents`), the `AccountState` enum, ids (a login account
is known by its stable id, the OIDC `sub`), Django's ValidationError with a Dutch message, and
`KBUnavailable`. No model of the login service leaves this module.

One interface, two adapters (`KBInterface`; the module-level functions below call the adapter
that `adapter()` chooses from the settings):
- In process (`bieb.kb.local.InProcessKB`), for `BIEB_ROLE=all` (the default, the demo) and
  inside the KB itself.
- Over HTTP (`bieb.kb.remote.HttpKB`), for `BIEB_ROLE=library`: the KB's API `/kb/api/v1/` at
  `BIEB_KB_URL`, with this installation's client credentials (`BIEB_KB_CLIENT_ID`,
  `BIEB_KB_CLIENT_SECRET`; `bieb kb_api_client` at the KB makes them). A refusal of the KB comes
  back as the same ValidationError with the same Dutch text; a KB that cannot be reached, does
  not answer within a few seconds or answers with a server error raises `KBUnavailable`.
The contract tests (tests/kb/contract/) run the same tests against both.

Transactions in process:
- Every function runs on the caller's database connection. Called inside the caller's
  transaction, its writes are part of it, and the caller's rollback undoes them too. The
  functions that write take a transaction of their own (a savepoint inside the caller's), so a
  refusal leaves nothing half done; `update_memberships` does not, and is called inside the
  caller's transaction (the renewal run's chunk).
- Mail the login service sends (activation, link codes, notices) is queued in the outbox within
  that transaction and sent by a task after commit: a rollback sends nothing.
- Counts are no exception: inside the caller's transaction they roll back with it. So
  `check_link_code` (a wrong code counts against it) is called before, and outside, the
  transaction that links. The rate limits that `request_link_code` and
  `account_email_change_request` count (`bieb.core.attempts`) are kept when the caller commits;
  a refused request counts nothing, so a rollback loses no refusal.
- The other way round, `accounts_deleted` is sent inside the login service's transaction that
  deletes accounts; a receiver writes in it (see `bieb.kb.signals`).
- Reads (`account_status*`) see what the caller's transaction sees.

Over HTTP none of this holds: the login service commits on its own, whatever the caller does
afterwards. So the library side commits first and calls the login service through its own
outbox (retried, idempotent: `create_account` with the same `account_id` or idempotency key
makes one account), and learns of deleted accounts from the KB's event feed (`library_events`,
polled by the library's periodic job, which then sends `accounts_deleted` itself). Callers
should not build new behaviour on the shared transaction.
"""

import datetime as dt
import threading
import uuid
from typing import Protocol

from django.conf import settings

from bieb.kb.signals import accounts_deleted
from bieb.kb.types import (
    AccountFigures,
    AccountState,
    AccountStatus,
    LibraryData,
    LibraryEvent,
    LibraryEvents,
    MembershipData,
    counter_username_matches,
)

__all__ = [
    "AccountFigures",
    "AccountState",
    "AccountStatus",
    "KBInterface",
    "KBUnavailable",
    "LibraryData",
    "LibraryEvent",
    "LibraryEvents",
    "MembershipData",
    "account_email_change_request",
    "account_figures",
    "account_status",
    "account_status_by_id",
    "account_statuses_by_id",
    "accounts_deleted",
    "activation_lifetime_label",
    "adapter",
    "check_link_code",
    "create_account",
    "forget_account",
    "forget_accounts",
    "is_counter_username",
    "library_events",
    "library_update",
    "link_account",
    "link_account_by_id",
    "polls_events",
    "request_link_code",
    "resend_activation",
    "update_membership",
    "update_memberships",
]


class KBUnavailable(Exception):
    """The login service could not be reached or did not answer in time (over HTTP: no
    connection, a timeout, a 5xx answer, a refused token). Transient: the call may be retried
    later with the same arguments (an account's creation with the same idempotency key). A
    refusal of the login service itself (a wrong code, an invalid address) is a Django
    ValidationError with a Dutch message instead, and retrying it changes nothing."""


class KBInterface(Protocol):
    """What the library side needs of the login service. Every method may raise
    ValidationError (Dutch, for staff or the member) and, over HTTP, KBUnavailable."""

    def activation_lifetime_label(self) -> str: ...

    def create_account(
        self,
        *,
        email: str,
        membership: MembershipData,
        actor: str,
        account_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> AccountStatus: ...

    def request_link_code(
        self, *, username: str, library_code: str, library_name: str, actor: str
    ) -> str: ...

    def check_link_code(
        self, *, username: str, code: str, library_code: str, actor: str
    ) -> None: ...

    def link_account(
        self, *, username: str, code: str, membership: MembershipData, actor: str
    ) -> AccountStatus: ...

    def link_account_by_id(
        self, *, account_id: uuid.UUID, membership: MembershipData, actor: str, id_token: str = ""
    ) -> AccountStatus: ...

    def forget_account(
        self, *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
    ) -> None: ...

    def forget_accounts(
        self, *, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str
    ) -> None: ...

    def account_status(self, *, username: str) -> AccountStatus: ...

    def account_status_by_id(self, *, account_id: uuid.UUID) -> AccountStatus: ...

    def account_statuses_by_id(self, *, account_ids: list[uuid.UUID]) -> list[AccountStatus]: ...

    def resend_activation(self, *, account_id: uuid.UUID, actor: str) -> AccountStatus: ...

    def account_email_change_request(
        self, *, account_id: uuid.UUID, email: str, actor: str
    ) -> AccountStatus: ...

    def update_membership(self, *, membership: MembershipData) -> None: ...

    def update_memberships(self, *, memberships: list[MembershipData]) -> None: ...

    def library_update(self, *, library: LibraryData) -> None: ...

    def library_events(
        self, *, library_code: str, after: int, limit: int = 500
    ) -> LibraryEvents: ...

    def account_figures(
        self, *, library_code: str, start: dt.date, end: dt.date
    ) -> AccountFigures: ...


# --- choosing the adapter -------------------------------------------------------------------

_lock = threading.Lock()
_adapters: dict[tuple[str, str, str, str], KBInterface] = {}


def polls_events() -> bool:
    """Whether this installation learns of deleted accounts by reading the KB's event feed
    (the login service elsewhere) instead of by the signal in process."""
    return settings.BIEB_KB_ADAPTER == "http"


def adapter() -> KBInterface:
    """The adapter the settings choose: over HTTP to `BIEB_KB_URL` for a library installation
    (`BIEB_KB_ADAPTER=http`, set by `BIEB_ROLE=library`), else in process. One per process and
    configuration (the HTTP one keeps its access token and connections)."""
    key = (
        settings.BIEB_KB_ADAPTER,
        settings.BIEB_KB_URL,
        settings.BIEB_KB_CLIENT_ID,
        settings.BIEB_KB_CLIENT_SECRET,
    )
    found = _adapters.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _adapters:
            if settings.BIEB_KB_ADAPTER == "http":
                from bieb.kb.remote import HttpKB

                _adapters[key] = HttpKB(
                    base_url=settings.BIEB_KB_URL,
                    client_id=settings.BIEB_KB_CLIENT_ID,
                    client_secret=settings.BIEB_KB_CLIENT_SECRET,
                )
            else:
                from bieb.kb.local import InProcessKB

                _adapters[key] = InProcessKB()
        return _adapters[key]


# --- the functions the library side calls ---------------------------------------------------


def activation_lifetime_label() -> str:
    """How long a new activation link works, in the words of its mail (`24 uur`): what the
    counter tells the customer. Never KBUnavailable: over HTTP, while the KB cannot be asked,
    what it said last or this installation's BIEB_ACTIVATION_HOURS."""
    return adapter().activation_lifetime_label()


def create_account(
    *,
    email: str,
    membership: MembershipData,
    actor: str,
    account_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> AccountStatus:
    """A new account for a customer registered at the counter: username = customer number.
    `account_id`, if given, becomes its id (the caller may store it before the call); called
    again with the same `account_id` (or `idempotency_key`) after it went through, it answers
    the same account and makes and mails nothing again."""
    return adapter().create_account(
        email=email,
        membership=membership,
        actor=actor,
        account_id=account_id,
        idempotency_key=idempotency_key,
    )


def is_counter_username(username: str, *, number: str) -> bool:
    """Whether `username` is the name `create_account` gives the customer with this number:
    the number itself, or the number with a suffix when the number was taken already."""
    return counter_username_matches(username, number=number)


def request_link_code(*, username: str, library_code: str, library_name: str, actor: str) -> str:
    """Mail the holder of this account a one-time code for linking it to this library; returns
    the answer for staff, which is the same whether or not the account exists."""
    return adapter().request_link_code(
        username=username, library_code=library_code, library_name=library_name, actor=actor
    )


def check_link_code(*, username: str, code: str, library_code: str, actor: str) -> None:
    """ValidationError ("link_code") unless the code is right; a wrong one counts. Call it
    before the transaction that links, so that the count stays when that rolls back."""
    adapter().check_link_code(username=username, code=code, library_code=library_code, actor=actor)


def link_account(
    *, username: str, code: str, membership: MembershipData, actor: str
) -> AccountStatus:
    """Link the membership to the existing account whose holder gave staff the mailed code."""
    return adapter().link_account(username=username, code=code, membership=membership, actor=actor)


def link_account_by_id(
    *, account_id: uuid.UUID, membership: MembershipData, actor: str, id_token: str = ""
) -> AccountStatus:
    """Link a membership to the member's own account, for a member signed in through the login
    service (the online sign-up): their sign-in is their consent. Over HTTP the KB wants the
    ID token of that sign-in as its proof (`id_token`)."""
    return adapter().link_account_by_id(
        account_id=account_id, membership=membership, actor=actor, id_token=id_token
    )


def forget_account(
    *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
) -> None:
    """'Vergeet inlogaccount': unlink the membership; an account never activated is deleted.
    Nothing left to forget (the account gone, or not linked) is no error."""
    adapter().forget_account(
        account_id=account_id,
        library_code=library_code,
        customer_number=customer_number,
        actor=actor,
    )


def forget_accounts(*, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str) -> None:
    """`forget_account` for many memberships of one library at once: (account id, customer
    number) each. For the retention job, which anonymises customers by the thousand."""
    adapter().forget_accounts(library_code=library_code, links=links, actor=actor)


def account_status(*, username: str) -> AccountStatus:
    """The state of the account that has this username now; an unknown one reads as
    "verlopen". For the library's own customers use `account_status_by_id`. (Over HTTP only
    accounts linked to this installation's libraries are told.)"""
    return adapter().account_status(username=username)


def account_status_by_id(*, account_id: uuid.UUID) -> AccountStatus:
    """The state of the account with this id; a deleted (purged, never activated) one reads as
    "verlopen", without a username: that name may be someone else's by now."""
    return adapter().account_status_by_id(account_id=account_id)


def account_statuses_by_id(*, account_ids: list[uuid.UUID]) -> list[AccountStatus]:
    """`account_status_by_id` for many accounts at once, in the order asked (one call)."""
    return adapter().account_statuses_by_id(account_ids=account_ids)


def resend_activation(*, account_id: uuid.UUID, actor: str) -> AccountStatus:
    return adapter().resend_activation(account_id=account_id, actor=actor)


def account_email_change_request(*, account_id: uuid.UUID, email: str, actor: str) -> AccountStatus:
    """Start a change of the account's e-mail address to `email` (the library's address for
    the customer, changed at the counter): the login service mails a confirmation link there
    and the address changes only when its holder uses it; the old address is then told. An
    account that still waits for activation gets a new activation link at `email` instead (its
    old link stops working). Staff never set the address themselves.

    ValidationError (Dutch, under "email" or general) for an invalid or unchanged address, too
    many requests within the hour, or an account that is gone or blocked."""
    return adapter().account_email_change_request(account_id=account_id, email=email, actor=actor)


def update_membership(*, membership: MembershipData) -> None:
    adapter().update_membership(membership=membership)


def update_memberships(*, memberships: list[MembershipData]) -> None:
    adapter().update_memberships(memberships=memberships)


def library_update(*, library: LibraryData) -> None:
    """Tell the login service a library's name and contact details (the Online Bibliotheek
    shows them to a member who has to pay or contact it)."""
    adapter().library_update(library=library)


def library_events(*, library_code: str, after: int, limit: int = 500) -> LibraryEvents:
    """What happened to the accounts linked to the library's customers after the cursor
    `after`, oldest first (the KB's event feed)."""
    return adapter().library_events(library_code=library_code, after=after, limit=limit)


def account_figures(*, library_code: str, start: dt.date, end: dt.date) -> AccountFigures:
    """The login accounts the library's counter made from `start` through `end` (days of
    making): how many, how many were activated in time, how many expired unused."""
    return adapter().account_figures(library_code=library_code, start=start, end=end)
