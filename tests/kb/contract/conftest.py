"""One suite, two adapters: the tests in this folder take `kb`, the login service as the
library side reaches it (`bieb.kb.interface.KBInterface`), once in process and once over HTTP
to a real server (pytest-django's live server, a thread serving real sockets on loopback, on
the test database: SQLite or PostgreSQL). Over HTTP every call gets a real access token from
the KB's token endpoint with the client credentials `bieb kb_api_client` would make.

What a test checks at the KB itself (a mail in the outbox, a membership's copy) it reads from
the login service's tables, which the live server shares with the test."""

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from bieb.kb.interface import KBInterface, MembershipData
from bieb.kb.local import InProcessKB
from bieb.kb.remote import HttpKB

ADAPTERS = ["in-process", "http"]
CLIENT_ID, CLIENT_SECRET = "bieb-contract", "contract-geheim-" + "z" * 24


def http_kb(base_url: str) -> HttpKB:
    from bieb.kb.api.clients import library_system_register

    library_system_register(
        client_id=CLIENT_ID,
        name="Bieb (contracttest)",
        library_codes=["bind", "oost"],
        secret=CLIENT_SECRET,
    )
    return HttpKB(base_url=base_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture(params=ADAPTERS)
def kb(request: pytest.FixtureRequest, transactional_db: None) -> Iterator[KBInterface]:
    """Both adapters on a database whose writes commit (the live server's thread must see
    them), so that each sees the same: no test transaction around the in-process one either."""
    if request.param == "in-process":
        yield InProcessKB()
    else:
        from bieb.kb.api.models import ApiCall

        live_server = request.getfixturevalue("live_server")
        yield http_kb(str(live_server.url))
        # Every call went over HTTP to the KB's API, which logged it with this client.
        assert ApiCall.objects.filter(client_id=CLIENT_ID).exists()


def membership(number: str, library: str = "bind", **changes: object) -> MembershipData:
    values: dict[str, object] = {
        "library_code": library,
        "library_name": {"bind": "Bibliotheken Bind", "oost": "Bibliotheek Oost"}[library],
        "customer_number": number,
        "subscription_code": "0141",
        "digital_rights": "compleet",
        "valid_through": dt.date(2027, 5, 31),
        "state": "actief",
        **changes,
    }
    return MembershipData(**values)  # type: ignore[arg-type]


def new_id() -> uuid.UUID:
    return uuid.uuid4()
