from typing import Any

from django.db import models

from bieb.audit.models import AuditEvent
from bieb.libraries.models import Library
from bieb.staff.models import User


def audit_event(
    *,
    actor: User | None,
    action: str,
    library: Library | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """The unsaved audit row of a state change (`audit_record` saves one; `audit_record_many`
    saves many in one statement, for the jobs that change thousands)."""
    return AuditEvent(
        actor=actor,
        actor_name=actor.get_username() if actor else actor_name,
        library=library,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


def audit_record(
    *,
    actor: User | None,
    action: str,
    library: Library | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Write the audit row of a state change; call it inside the change's transaction.

    `actor` is the staff user; a change a member makes online has none and names the member's
    login in `actor_name` (e.g. "online:e.b.tester")."""
    event = audit_event(
        actor=actor,
        action=action,
        library=library,
        target=target,
        data=data,
        actor_name=actor_name,
    )
    event.save(force_insert=True)
    return event


def audit_record_many(events: list[AuditEvent]) -> None:
    """Write many audit rows (from `audit_event`) at once, inside the changes' transaction."""
    if events:
        AuditEvent.objects.bulk_create(events, batch_size=1000)
