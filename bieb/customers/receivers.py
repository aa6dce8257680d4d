"""What the customer administration does when the login service says something happened."""

import uuid
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from bieb.customers.models import Customer
from bieb.kb import interface as login_service


@receiver(login_service.accounts_deleted, dispatch_uid="customers.login_accounts_deleted")
def login_accounts_deleted(
    sender: object, *, account_ids: list[uuid.UUID], reason: str, **kwargs: Any
) -> None:
    """Runs in the login service's transaction: no customer keeps an id that is gone. A purged
    (never activated) account is shown as "verlopen" until staff forget it or make a new one;
    a forgotten one is simply no longer there."""
    Customer.objects.filter(login_account_id__in=account_ids).update(
        login_account_id=None,
        login_account_lapsed=reason == "purged",
        updated_at=timezone.now(),
    )
