"""Builders for the tests of Mijn bibliotheek."""

import datetime as dt
import time
import uuid
from typing import Any

from django.test import Client
from django.utils import timezone

from bieb.customers.models import Customer
from bieb.customers.services import customer_register
from bieb.customers.validators import HouseNumber
from bieb.kb.clients import mijn_client_register
from bieb.kb.models import LoginAccount
from bieb.kb.oidc_models import OIDCAccessToken
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mijn.session import SESSION_KEY
from tests.customers.factories import details


def member_customer(
    account: LoginAccount,
    *,
    branch: Branch,
    subscription_type: SubscriptionType,
    **overrides: Any,
) -> Customer:
    """A customer signed up online with this login account (not paid yet)."""
    values: dict[str, Any] = {"house": HouseNumber(41), **overrides}
    return customer_register(
        actor=None,
        branch=branch,
        details=details(**values),
        subscription_type=subscription_type,
        account_id=account.pk,
    ).customer


def sign_in(client: Client, account: LoginAccount) -> Client:
    """The client as after a sign-in at the KB for Mijn bibliotheek: what the callback stores,
    with an access token the login service issued to Mijn bibliotheek for this account (each
    page asks the login service with it whether the sign-in still holds)."""
    later = timezone.now() + dt.timedelta(hours=1)
    access = OIDCAccessToken.objects.create(
        user=account,
        token=uuid.uuid4().hex,
        application=mijn_client_register(),
        expires=later,
        scope="openid profile email",
    )
    session = client.session
    session[SESSION_KEY] = {
        "sub": str(account.pk),
        "username": account.username,
        "email": account.email,
        "token": {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_at": int(later.timestamp()),
        },
        "seen": int(time.time()),
    }
    session.save()
    return client
