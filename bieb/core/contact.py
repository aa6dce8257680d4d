"""A library's contact details as mails and pages show them, for whichever side holds them
(the library's own `Library`, the login service's copy `LibraryContact`)."""


def contact_lines(name: str, address: str, phone: str, email: str, website: str) -> list[str]:
    """The contact details, one per line: the name, then each one that is filled in."""
    return [name, *(value for value in (address, phone, email, website) if value)]


def tel_link(phone: str) -> str:
    """The phone number as a `tel:` link wants it (digits and a leading +), or ""."""
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    return f"tel:{digits}" if digits else ""
