from typing import Any

from django.db import models

from bieb.audit.models import AuditEvent
from bieb.libraries.models import Library
from bieb.staff.models import User


def audit_record(
    *,
    actor: User | None,
    action: str,
    library: Library | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write the audit row of a state change; call it inside the change's transaction."""
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        library=library,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
