"""The login service as the library side sees it: this module and nothing else.

The library apps import nothing else of `bieb.kb` (import-linter's contracts in pyproject.toml,
run by `make test`). What crosses is plain data: frozen dataclasses (`AccountStatus`,
`MembershipData`, `LibraryData`), the `AccountState` enum, ids (a login account is known by its
stable id, the OIDC `sub`), and Django's ValidationError with a Dutch message. No model of the
login service leaves this module.

Transactions, as they are today (in process, the default adapter):
- Every function runs on the caller's database connection. Called inside the caller's
  transaction, its writes are part of it, and the caller's rollback undoes them too. The
  counter's registration relies on that (customer, membership and new account in one
  transaction, DESIGN.md flow A.8). The functions that write take a transaction of their own (a
  savepoint inside the caller's), so a refusal leaves nothing half done; `update_memberships`
  does not, and is called inside the caller's transaction (the renewal run's chunk).
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

Over HTTP, with the login service on its own host (the later parts of issue 14), the first
point cannot hold: the login service commits on its own. The library side will then commit
first and call the login service through its own outbox (retried, idempotent); callers should
not build new behaviour on the shared transaction.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils import timezone

from bieb.kb import self_service, services
from bieb.kb.models import AccountOrigin, AccountState, LoginAccount
from bieb.kb.services import LibraryData, MembershipData
from bieb.kb.signals import accounts_deleted
from bieb.kb.tokens import lifetime_label

__all__ = [
    "AccountState",
    "AccountStatus",
    "LibraryData",
    "MembershipData",
    "account_email_change_request",
    "account_status",
    "account_status_by_id",
    "accounts_deleted",
    "activation_lifetime_label",
    "check_link_code",
    "create_account",
    "forget_account",
    "forget_accounts",
    "is_counter_username",
    "library_update",
    "link_account",
    "link_account_by_id",
    "request_link_code",
    "resend_activation",
    "update_membership",
    "update_memberships",
]


class KBUnavailable(Exception):
    """The login service could not be reached (down, a timeout, a server error): nothing is
    known of the call's outcome, and trying again later is the answer (a refusal is a
    ValidationError instead)."""


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


def _status(account: LoginAccount) -> AccountStatus:
    state = AccountState.EXPIRED if account.activation_expired() else AccountState(account.state)
    return AccountStatus(
        username=account.username,
        email=account.email,
        state=state,
        activation_deadline=account.activation_deadline,
        id=account.pk,
        pending_email=account.pending_email,
    )


def activation_lifetime_label() -> str:
    """How long a new activation link works, in the words of its mail (`24 uur`): what the
    counter tells the customer."""
    return lifetime_label(services.activation_lifetime())


def create_account(
    *,
    email: str,
    membership: MembershipData,
    actor: str,
    account_id: uuid.UUID | None = None,
) -> AccountStatus:
    """A new account for a customer registered at the counter: username = customer number.
    `account_id`, if given, becomes its id (the caller may store it before the call)."""
    account = services.account_create(
        username=membership.customer_number,
        email=email,
        origin=AccountOrigin.COUNTER,
        actor=actor,
        membership=membership,
        account_id=account_id,
    )
    return _status(account)


def is_counter_username(username: str, *, number: str) -> bool:
    """Whether `username` is the name `create_account` gives the customer with this number:
    the number itself, or the number with a suffix when the number was taken already."""
    return services.counter_username_matches(username, number=number)


def request_link_code(*, username: str, library_code: str, library_name: str, actor: str) -> str:
    """Mail the holder of this account a one-time code for linking it to this library; returns
    the answer for staff, which is the same whether or not the account exists."""
    return services.link_code_request(
        username=username, library_code=library_code, library_name=library_name, actor=actor
    )


def check_link_code(*, username: str, code: str, library_code: str, actor: str) -> None:
    """ValidationError ("link_code") unless the code is right; a wrong one counts. Call it
    before the transaction that links, so that the count stays when that rolls back."""
    services.link_code_check(username=username, code=code, library_code=library_code, actor=actor)


def link_account(
    *, username: str, code: str, membership: MembershipData, actor: str
) -> AccountStatus:
    """Link the membership to the existing account whose holder gave staff the mailed code."""
    return _status(
        services.account_link(username=username, code=code, membership=membership, actor=actor)
    )


def link_account_by_id(
    *, account_id: uuid.UUID, membership: MembershipData, actor: str
) -> AccountStatus:
    """Link a membership to the member's own account, for a member signed in through the login
    service (the online sign-up): their sign-in is their consent."""
    return _status(
        services.account_link_own(account_id=account_id, membership=membership, actor=actor)
    )


def forget_account(
    *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
) -> None:
    services.account_forget(
        account_id=account_id,
        library_code=library_code,
        customer_number=customer_number,
        actor=actor,
    )


def forget_accounts(*, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str) -> None:
    """`forget_account` for many memberships of one library at once: (account id, customer
    number) each. For the retention job, which anonymises customers by the thousand."""
    services.accounts_forget(library_code=library_code, links=links, actor=actor)


def account_status(*, username: str) -> AccountStatus:
    """The state of the account that has this username now; an unknown one reads as
    "verlopen". For the library's own customers use `account_status_by_id`."""
    account = LoginAccount.objects.filter(username=services.username_normalize(username)).first()
    if account is None:
        return AccountStatus(username=username, email="", state=AccountState.EXPIRED)
    return _status(account)


def account_status_by_id(*, account_id: uuid.UUID) -> AccountStatus:
    """The state of the account with this id; a deleted (purged, never activated) one reads as
    "verlopen", without a username: that name may be someone else's by now."""
    account = LoginAccount.objects.filter(pk=account_id).first()
    if account is None:
        return AccountStatus(username="", email="", state=AccountState.EXPIRED, id=account_id)
    return _status(account)


def resend_activation(*, account_id: uuid.UUID, actor: str) -> AccountStatus:
    account = LoginAccount.objects.filter(pk=account_id).first()
    if account is None:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een "
            "nieuw inlogaccount."
        )
    return _status(services.activation_resend(account=account, actor=actor))


def account_email_change_request(*, account_id: uuid.UUID, email: str, actor: str) -> AccountStatus:
    """Start a change of the account's e-mail address to `email` (the library's address for
    the customer, changed at the counter): the login service mails a confirmation link there
    and the address changes only when its holder uses it; the old address is then told. An
    account that still waits for activation gets a new activation link at `email` instead (its
    old link stops working). Staff never set the address themselves.

    ValidationError (Dutch, under "email" or general) for an invalid or unchanged address, too
    many requests within the hour, or an account that is gone or blocked."""
    account = LoginAccount.objects.filter(pk=account_id).first()
    if account is None:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een "
            "nieuw inlogaccount."
        )
    return _status(self_service.email_change_request(account=account, email=email, actor=actor))


def update_membership(*, membership: MembershipData) -> None:
    services.membership_update(membership=membership)


def update_memberships(*, memberships: list[MembershipData]) -> None:
    services.memberships_update(memberships=memberships)


def library_update(*, library: LibraryData) -> None:
    """Tell the login service a library's name and contact details (the Online Bibliotheek
    shows them to a member who has to pay or contact it)."""
    services.library_contact_update(library=library)
