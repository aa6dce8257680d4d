import datetime as dt
from typing import Any

from bieb.customers.details import CustomerDetails


def details(**overrides: Any) -> CustomerDetails:
    """The seed's customer: E.B. Tester, born 04-01-1991, 9468 BG 41."""
    values: dict[str, Any] = {
        "salutation": "mw",
        "initials": "E.B.",
        "surname": "Tester",
        "birth_date": dt.date(1991, 1, 4),
        "country": "NL",
        "postcode": "9468BG",
        "email": "e.b.tester@example.nl",
        "identity_checked": True,
    }
    values.update(overrides)
    return CustomerDetails(**values)


def mailed_link_code(to: str) -> str:
    """The code in the last link-code mail to this address (what the holder reads to staff)."""
    import re

    from bieb.mail.models import OutboxMessage

    message = OutboxMessage.objects.filter(to=to, kind="kb.link_code").latest("id")
    match = re.search(r"\b(\d{3} ?\d{3})\b", message.text_body)
    assert match, message.text_body
    return match.group(1).replace(" ", "")


def link_code_for(username: str, *, library: Any, actor: Any) -> str:
    """Staff ask the login service for a link code; the holder reads it from their mail."""
    from bieb.kb import interface
    from bieb.kb.models import LoginAccount

    interface.request_link_code(
        username=username,
        library_code=library.code,
        library_name=library.name,
        actor=actor.username,
    )
    return mailed_link_code(LoginAccount.objects.get(username=username).email)
