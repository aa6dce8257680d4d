"""What the customer administration does when the login service says something happened."""

import uuid
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from bieb.audit.services import audit_event, audit_record_many
from bieb.customers.models import Customer
from bieb.kb import interface as login_service

# Deletions the library side knows of already: a purge of never-activated accounts (shown as
# "verlopen") and staff's own "Vergeet inlogaccount" (audited where it happens).
UNAUDITED = ("purged", "forgotten")


@receiver(login_service.accounts_deleted, dispatch_uid="customers.login_accounts_deleted")
def login_accounts_deleted(
    sender: object, *, account_ids: list[uuid.UUID], reason: str, **kwargs: Any
) -> None:
    """Runs in the login service's transaction: no customer keeps an id that is gone. A purged
    (never activated) account is shown as "verlopen" until staff forget it or make a new one;
    a forgotten one is simply no longer there. One the member (or the login service) deleted
    after it was used leaves an audit row on each customer that had it: the counter's history
    says why the account is gone."""
    customers = Customer.objects.filter(login_account_id__in=account_ids)
    if reason not in UNAUDITED:
        audit_record_many(
            [
                audit_event(
                    actor=None,
                    actor_name="inlogdienst (KB)",
                    action="customer.login_account_deleted",
                    library=customer.library,
                    target=customer,
                    data={"reason": reason, "account_id": str(customer.login_account_id)},
                )
                for customer in customers.select_related("library")
            ]
        )
    customers.update(
        login_account_id=None,
        login_account_lapsed=reason == "purged",
        updated_at=timezone.now(),
    )
