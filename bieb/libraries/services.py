"""What the library side tells others about a library."""

from typing import Any

from bieb.kb import interface as login_service
from bieb.kboutbox.models import KBCall, KBCallKind
from bieb.kboutbox.services import kb_call_handler, kb_call_queue
from bieb.libraries.models import Library


def library_publish(*, library: Library) -> None:
    """Tell the login service the library's name and contact details: the Online Bibliotheek
    shows them to a member who has to pay or contact the library (it never reads ours). Told
    after the commit, through the library's outbox (bieb.kboutbox); what holds then is sent."""
    kb_call_queue(
        kind=KBCallKind.LIBRARY_UPDATE,
        library_id=library.pk,
        ordering_key=f"library:{library.pk}",
        payload={"code": library.code},
    )


def _library_update(call: KBCall) -> dict[str, Any]:
    library = Library.objects.get(pk=call.library_id)
    login_service.library_update(
        library=login_service.LibraryData(
            code=library.code,
            name=library.name,
            contact_address=library.contact_address,
            contact_phone=library.contact_phone,
            contact_email=library.contact_email,
            website=library.website,
        )
    )
    return {}


kb_call_handler(KBCallKind.LIBRARY_UPDATE)(_library_update)
