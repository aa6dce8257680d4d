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
