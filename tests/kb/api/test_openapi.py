"""The OpenAPI document and its page, and the API checked against its own document by
schemathesis: generated requests for every operation, no server error, every answer (status,
media type, headers, body) as the document says."""

import time

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.kb.api.conftest import BIND_CLIENT, BIND_SECRET, caller_for

# Examples per operation and mode: about 300 calls, some 15 s on an idle machine (bounded by
# count, not by a clock: on a busy machine it takes longer and still passes).
EXAMPLES = {"positive": 15, "negative": 8}


def test_the_openapi_document_is_served_without_a_token(db: None) -> None:
    response = Client().get("/kb/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "KB-API (inlogdienst)"
    paths = document["paths"]
    assert "/kb/api/v1/libraries/{library}/accounts" in paths
    assert "/kb/api/v1/libraries/{library}/events" in paths
    create = paths["/kb/api/v1/libraries/{library}/accounts"]["post"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert create["security"] == [{"ClientToken": ["kb.accounts"]}]
    scheme = document["components"]["securitySchemes"]["ClientToken"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/kb/token/"


def test_the_docs_page_works_offline(db: None) -> None:
    response = Client().get("/kb/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "/kb/api/v1/openapi.json" in html
    # The page's own script, style and the bundle are served by this server.
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert Client().get(f"/static/ninja/{asset}").status_code == 200


@override_settings(BIEB_KB_API_CALLS_PER_MINUTE=100_000)
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    transactional_db: None,
) -> None:
    caller = caller_for(BIND_CLIENT, BIND_SECRET, ["bind"])
    # Some accounts to find, so that not every generated id or name is unknown.
    for number in ("25280000000001", "25280000000002"):
        assert caller.create(number).status_code == 201
    schema = schemathesis.openapi.from_wsgi("/kb/api/v1/openapi.json", WSGIHandler())
    headers = {"Authorization": f"Bearer {caller.token}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16
    calls = 0
    cases = [
        (operation, mode)
        for operation in operations
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    ]
    for operation, mode in cases:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES[mode.value],
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            # Mostly the client's own library: elsewhere every call is a 403.
            if (case.path_parameters or {}).get("library") and calls % 5:
                case.path_parameters["library"] = "bind"
            calls += 1
            case.call_and_validate(headers=headers, checks=checks)

        began = time.monotonic()
        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (GET /service takes no parameters).
            assert mode == schemathesis.GenerationMode.NEGATIVE
        print(f"{operation.label} {mode.value}: {time.monotonic() - began:.1f} s")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {calls} calls in {elapsed:.1f} s")
    assert calls >= len(operations) * 15


__all__ = ["pytest"]


def test_errors_before_any_endpoint_are_problems_too(bind_api: object) -> None:
    response = Client().get("/kb/api/v1/libraries/bind/events?after=%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith("Het adres of het formulier bevat iets")
    response = Client().get("/kb/api/v1/bestaat-niet")
    assert response.status_code == 404
    assert response.json()["type"] == "urn:bieb:kb-api:not-found"
