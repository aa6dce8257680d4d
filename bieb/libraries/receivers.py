"""The login service's copy of a library follows each change of it (in the admin, the demo)."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from bieb.libraries.models import Library
from bieb.libraries.services import library_publish


@receiver(post_save, sender=Library, dispatch_uid="libraries.library_publish")
def library_saved(sender: type[Library], *, instance: Library, raw: bool, **kwargs: Any) -> None:
    if not raw:  # not while loading fixtures
        library_publish(library=instance)
