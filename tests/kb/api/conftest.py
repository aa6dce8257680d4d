"""Library systems calling the KB's API with a real token from the KB's own token endpoint."""

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from bieb.kb.api.clients import library_system_register
from bieb.kb.models import AccountState, LoginAccount

BIND_CLIENT, BIND_SECRET = "wise-bind", "geheim-bind-" + "x" * 20
OOST_CLIENT, OOST_SECRET = "wise-oost", "geheim-oost-" + "y" * 20
PASSWORD = "Leeslamp-Duinpan-42"


def membership(number: str = "25280000000017", **changes: Any) -> dict[str, Any]:
    return {
        "customer_number": number,
        "library_name": "Bibliotheken Bind",
        "subscription_code": "0141",
        "digital_rights": "compleet",
        "valid_through": "2027-05-31",
        "state": "actief",
        "pay_url": "",
        **changes,
    }


def token_request(
    client: Client, client_id: str, secret: str, scope: str | None = "kb.accounts"
) -> HttpResponse:
    """The client credentials grant at the KB's token endpoint (RFC 6749 4.4), as a library
    system makes it: HTTP Basic with its id and secret."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return client.post("/kb/token/", data, headers={"Authorization": f"Basic {basic}"})


@dataclass
class Caller:
    """One library system's calls, with its bearer token."""

    client: Client
    token: str
    actor: str = "balie"

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        all_headers = {"Authorization": f"Bearer {self.token}", "Bieb-Actor": self.actor}
        all_headers.update(headers or {})
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method.lower())(f"/kb/api/v1{path}", **kwargs)

    def create(
        self, number: str = "25280000000017", *, email: str = "klant@example.nl", key: str = ""
    ) -> HttpResponse:
        return self.call(
            "POST",
            "/libraries/bind/accounts",
            {"email": email, "membership": membership(number)},
            headers={"Idempotency-Key": key or str(uuid.uuid4())},
        )


def caller_for(client_id: str, secret: str, libraries: list[str]) -> Caller:
    library_system_register(
        client_id=client_id,
        name=f"Bibliotheeksysteem {client_id}",
        library_codes=libraries,
        secret=secret,
    )
    http = Client()
    response = token_request(http, client_id, secret)
    assert response.status_code == 200, response.content
    return Caller(client=http, token=response.json()["access_token"])


@pytest.fixture
def bind_api(db: None) -> Caller:
    return caller_for(BIND_CLIENT, BIND_SECRET, ["bind"])


@pytest.fixture
def oost_api(db: None) -> Caller:
    return caller_for(OOST_CLIENT, OOST_SECRET, ["oost"])


def activate(username: str) -> LoginAccount:
    """The member used the activation link (the KB's own service, with its link token)."""
    from bieb.kb.services import account_activate
    from bieb.kb.tokens import activation_tokens

    account = LoginAccount.objects.get(username=username)
    token = activation_tokens.make_token(account)  # type: ignore[arg-type]
    account_activate(account=account, token=token, password=PASSWORD, ip=None)
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    return account


def problem(response: HttpResponse, status: int) -> dict[str, Any]:
    """The RFC 9457 body of an error answer, checked for its shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:bieb:kb-api:")
    assert body["title"] and body["detail"] and body["instance"].startswith("/kb/api/v1/")
    return body


__all__ = ["dt"]
