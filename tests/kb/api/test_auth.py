"""Who may call the KB's API: a library system with a client credentials token, for its own
libraries only, at a limited rate; every call logged with its client."""

import datetime as dt

import pytest
import time_machine
from django.test import Client, override_settings

from bieb.kb.api.clients import library_system_register
from bieb.kb.clients import ONLINE_CLIENT_ID, online_client_register, online_client_secret
from bieb.kb.models import ApiCall, LoginAccount
from tests.kb.api.conftest import (
    BIND_CLIENT,
    BIND_SECRET,
    Caller,
    caller_for,
    problem,
    token_request,
)

pytestmark = pytest.mark.django_db


def test_a_library_system_gets_a_token_from_the_kb_token_endpoint(db: None) -> None:
    library_system_register(
        client_id=BIND_CLIENT, name="Wise Bind", library_codes=["bind"], secret=BIND_SECRET
    )
    response = token_request(Client(), BIND_CLIENT, BIND_SECRET, scope=None)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "kb.accounts"  # its default scope
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body

    wrong = token_request(Client(), BIND_CLIENT, "niet-het-geheim")
    assert wrong.status_code == 401


def test_only_a_library_system_can_get_the_api_scope(db: None) -> None:
    # A relying party for members (authorization code) has no client credentials grant, and
    # its members' tokens can never carry kb.accounts.
    online_client_register()
    refused = token_request(Client(), ONLINE_CLIENT_ID, online_client_secret())
    assert refused.status_code in (400, 401)
    # A client credentials client without libraries gets no API scope either.
    from bieb.kb.models import OIDCApplication

    OIDCApplication.objects.create(
        client_id="zonder-bieb",
        client_secret="geheim-" + "z" * 20,
        client_type=OIDCApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OIDCApplication.GRANT_CLIENT_CREDENTIALS,
        algorithm=OIDCApplication.RS256_ALGORITHM,
    )
    response = token_request(Client(), "zonder-bieb", "geheim-" + "z" * 20)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_no_token_or_a_bad_one_is_401_with_a_challenge(bind_api: Caller) -> None:
    anonymous = Caller(client=Client(), token="")
    response = anonymous.client.get("/kb/api/v1/libraries/bind/events")
    body = problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="kb-api"'
    assert "toegangstoken" in body["detail"]

    bad = Caller(client=Client(), token="geen-echt-token")
    response = bad.call("GET", "/libraries/bind/events")
    problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="kb-api", error="invalid_token"'
    # An invalid token is not logged as a client's call: there is no client.
    assert not ApiCall.objects.exists()


def test_an_expired_token_is_401(bind_api: Caller) -> None:
    assert bind_api.call("GET", "/libraries/bind/events").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, minutes=1)):
        problem(bind_api.call("GET", "/libraries/bind/events"), 401)


def test_a_client_acts_only_for_its_own_libraries(bind_api: Caller, oost_api: Caller) -> None:
    oost_account = oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {
            "email": "oost@example.nl",
            "membership": {
                "customer_number": "21110000000001",
                "library_name": "Bibliotheek Oost",
                "subscription_code": "0141",
                "digital_rights": "compleet",
            },
        },
        headers={"Idempotency-Key": "oost-1"},
    )
    assert oost_account.status_code == 201, oost_account.content
    account_id = oost_account.json()["id"]

    # Bind's system, with oost in the path: refused before anything is read or done.
    for method, path in [
        ("GET", "/libraries/oost/events"),
        ("POST", f"/libraries/oost/accounts/{account_id}/activation-mail"),
        ("DELETE", f"/libraries/oost/accounts/{account_id}/memberships/21110000000001"),
    ]:
        body = problem(bind_api.call(method, path), 403)
        assert body["detail"] == (
            "Dit bibliotheeksysteem mag de KB-API niet voor deze bibliotheek gebruiken."
        )
    # With its own library in the path, oost's account is not found: not linked to bind.
    response = bind_api.call(
        "DELETE", f"/libraries/bind/accounts/{account_id}/memberships/21110000000001"
    )
    problem(response, 404)
    assert LoginAccount.objects.filter(pk=account_id).exists()
    # ... and its username reads as unknown.
    status = bind_api.call(
        "POST", "/libraries/bind/accounts/status", {"usernames": ["21110000000001"]}
    ).json()
    assert status["usernames"][0]["state"] == "verlopen"
    assert status["usernames"][0]["email"] == ""
    assert status["usernames"][0]["id"] is None


def test_every_call_is_logged_with_its_client(bind_api: Caller) -> None:
    bind_api.call("GET", "/libraries/bind/events")
    bind_api.call("GET", "/libraries/oost/events")
    calls = list(
        ApiCall.objects.order_by("id").values_list("client_id", "library_code", "actor", "status")
    )
    assert calls == [(BIND_CLIENT, "bind", "balie", 200), (BIND_CLIENT, "oost", "balie", 403)]


@override_settings(BIEB_KB_API_CALLS_PER_MINUTE=3)
def test_calls_past_the_rate_limit_get_429_with_retry_after(db: None) -> None:
    start = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        bind = caller_for(BIND_CLIENT, BIND_SECRET, ["bind"])
        other = caller_for("wise-ander", "geheim-ander-" + "q" * 20, ["bind"])
        for _ in range(3):
            assert bind.call("GET", "/libraries/bind/events").status_code == 200
        response = bind.call("GET", "/libraries/bind/events")
        body = problem(response, 429)
        assert response["Retry-After"] == "60"
        # Its own type: a library system retries later, it is nothing to tell staff.
        assert body["type"] == "urn:bieb:kb-api:client-rate-limited"
        assert body["detail"] == (
            "Te veel verzoeken van dit bibliotheeksysteem. Probeer het over 1 minuut opnieuw."
        )
        # Per client: another library system is not slowed down.
        assert other.call("GET", "/libraries/bind/events").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        assert bind.call("GET", "/libraries/bind/events").status_code == 200


def test_the_token_check_costs_the_same_for_one_account_or_five_hundred(
    bind_api: Caller,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 500):
        names = [f"naam{i:04d}" for i in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = bind_api.call(
                "POST", "/libraries/bind/accounts/status", {"usernames": names}
            )
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 12, counts
    print("queries per status call", counts)
