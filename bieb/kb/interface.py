"""The login service as the library side sees it: this module and nothing else.

Today it runs in process (and so inside the library's transaction); the same functions can later
call the login service on its own host over HTTP without the library side changing.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from bieb.kb import services
from bieb.kb.models import AccountOrigin, AccountState, LoginAccount
from bieb.kb.services import MembershipData
from bieb.kb.tokens import lifetime_label

__all__ = [
    "AccountStatus",
    "MembershipData",
    "account_status",
    "activation_lifetime_label",
    "create_account",
    "forget_account",
    "link_account",
    "resend_activation",
    "update_membership",
]


@dataclass(frozen=True)
class AccountStatus:
    username: str
    email: str
    # "wacht", "actief", "geblokkeerd", or "verlopen" (never activated; deadline passed or purged)
    state: str
    activation_deadline: dt.datetime | None = None

    @property
    def label(self) -> str:
        if self.state == AccountState.WAITING and self.activation_deadline:
            deadline = timezone.localtime(self.activation_deadline)
            return f"wacht op activering tot {deadline:%d-%m-%Y %H:%M}"
        if self.state == "verlopen":
            return "verlopen — niet geactiveerd"
        return AccountState(self.state).label


def _status(account: LoginAccount) -> AccountStatus:
    state = "verlopen" if account.activation_expired() else account.state
    return AccountStatus(
        username=account.username,
        email=account.email,
        state=state,
        activation_deadline=account.activation_deadline,
    )


def activation_lifetime_label() -> str:
    """How long a new activation link works, in the words of its mail (`24 uur`): what the
    counter tells the customer."""
    return lifetime_label(services.activation_lifetime())


def create_account(*, email: str, membership: MembershipData, actor: str) -> AccountStatus:
    """A new account for a customer registered at the counter: username = customer number."""
    account = services.account_create(
        username=membership.customer_number,
        email=email,
        origin=AccountOrigin.COUNTER,
        actor=actor,
        membership=membership,
    )
    return _status(account)


def link_account(*, username: str, membership: MembershipData, actor: str) -> AccountStatus:
    return _status(services.account_link(username=username, membership=membership, actor=actor))


def forget_account(*, username: str, library_code: str, customer_number: str, actor: str) -> None:
    services.account_forget(
        username=username, library_code=library_code, customer_number=customer_number, actor=actor
    )


def account_status(*, username: str) -> AccountStatus:
    """The state of the account; a purged (never activated) one reads as "verlopen"."""
    account = LoginAccount.objects.filter(username=services.username_normalize(username)).first()
    if account is None:
        return AccountStatus(username=username, email="", state="verlopen")
    return _status(account)


def resend_activation(*, username: str, actor: str) -> AccountStatus:
    account = LoginAccount.objects.filter(username=services.username_normalize(username)).first()
    if account is None:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een "
            "nieuw inlogaccount."
        )
    return _status(services.activation_resend(account=account, actor=actor))


def update_membership(*, membership: MembershipData) -> None:
    services.membership_update(membership=membership)
