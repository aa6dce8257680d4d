"""What the login service tells the rest of the process, without knowing who listens.

kb never imports the library apps; they subscribe here instead (in their AppConfig.ready).
"""

import uuid
from collections.abc import Iterable

from django.dispatch import Signal

# Sent inside the transaction that deletes login accounts (the purge of never-activated
# accounts, "Vergeet inlogaccount", an expired account whose username is taken again), with
# `account_ids`: the ids (OIDC `sub`) of the deleted accounts, and `reason`. A receiver
# clears its references in that same transaction: when the deletion rolls back, so does it,
# and when it commits nobody refers to an id that no longer exists. A receiver that fails
# makes the deletion fail.
accounts_deleted = Signal()


def accounts_deleted_send(*, account_ids: Iterable[uuid.UUID], reason: str) -> None:
    ids = [uuid.UUID(str(pk)) for pk in account_ids]
    if ids:
        accounts_deleted.send(sender=None, account_ids=ids, reason=reason)
