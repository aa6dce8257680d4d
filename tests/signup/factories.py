"""Builders for sign-up and payment tests."""

import uuid
from typing import Any

from bieb.core.dates import local_today
from bieb.kb.models import AccountState, LoginAccount
from bieb.kb.services import account_create
from bieb.libraries.models import Library, SubscriptionType
from bieb.payments.models import Payment
from bieb.signup.services import signup_payment_start

PASSWORD = "Leeslamp-Duinpan-42"


def active_account(username: str = "e.b.tester", email: str = "") -> LoginAccount:
    """An activated login account with PASSWORD, as after the KB's activation mail."""
    account_create(
        username=username,
        email=email or f"{username}@example.nl",
        origin="online",
        actor="test",
    )
    account = LoginAccount.objects.get(username=username)
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.email_verified = True
    account.activation_deadline = None
    account.save()
    return account


def raw_details(**overrides: Any) -> dict[str, Any]:
    """What a member types on the details page (the seed's E.B. Tester)."""
    values: dict[str, Any] = {
        "salutation": "mw",
        "initials": "E.B.",
        "prefix": "",
        "surname": "Tester",
        "first_name": "",
        "birth_date": "04-01-1991",
        "country": "NL",
        "postcode": "9468 BG",
        "house_number": "41",
        "email": "e.b.tester@example.nl",
        "newsletter": False,
    }
    values.update(overrides)
    return values


def return_url(public_id: uuid.UUID) -> str:
    return f"http://127.0.0.1:8000/word-lid/bind/betaling/{public_id}/"


def start_payment(
    library: Library,
    subscription_type: SubscriptionType,
    *,
    username: str = "e.b.tester",
    key: uuid.UUID | None = None,
    id_token: str = "",
    **details: Any,
) -> Payment:
    """Press "Betalen" for a sign-up (the service behind the button); `id_token` is the ID
    token of the member's sign-in at the KB (tests.kb.api.test_accounts.id_token_for)."""
    return signup_payment_start(
        library=library,
        registration_key=key or uuid.uuid4(),
        subscription_type=subscription_type,
        username=username,
        account_id=LoginAccount.objects.get(username=username).pk,
        raw=raw_details(**details),
        today=local_today(),
        return_url=return_url,
        id_token=id_token,
    )
