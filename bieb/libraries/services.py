"""What the library side tells others about a library."""

from bieb.kb import interface as login_service
from bieb.libraries.models import Library


def library_publish(*, library: Library) -> None:
    """Tell the login service the library's name and contact details: the Online Bibliotheek
    shows them to a member who has to pay or contact the library (it never reads ours)."""
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
