"""Errors of the KB's API as RFC 9457 problem details (`application/problem+json`).

`detail` is Dutch, written for counter staff, who may show it as it is; `title` names the kind
of problem, also in Dutch; `type` is a stable identifier of the kind (`urn:bieb:kb-api:<slug>`,
listed in docs/kb-api.md), for a program to decide on. Field errors are listed in `errors`, each
with the field's JSON path (`membership.customer_number`) and its Dutch message.
"""

import json
import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger("bieb.kb.api")

CONTENT_TYPE = "application/problem+json"

# slug -> (status, title)
KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Ongeldig verzoek"),
    "idempotency-key-missing": (400, "Idempotency-Key ontbreekt"),
    "unauthorized": (401, "Niet aangemeld"),
    "forbidden": (403, "Geen toegang"),
    "not-found": (404, "Niet gevonden"),
    "conflict": (409, "Conflict"),
    "validation": (422, "Ongeldige gegevens"),
    "idempotency-key-reused": (422, "Idempotency-Key al gebruikt"),
    "rate-limited": (429, "Te veel verzoeken"),
    "client-rate-limited": (429, "Te veel verzoeken van dit bibliotheeksysteem"),
    "server-error": (500, "Fout in de inlogdienst"),
}

# The Dutch default detail of each kind, where the cause does not give one.
DETAILS = {
    "bad-request": "Het verzoek is niet te lezen.",
    "unauthorized": "Het toegangstoken ontbreekt, is verlopen of is ingetrokken. Vraag een nieuw "
    "token aan.",
    "forbidden": "Dit bibliotheeksysteem mag de KB-API niet voor deze bibliotheek gebruiken.",
    "not-found": "Dit bestaat niet (meer).",
    "validation": "De gegevens kloppen niet.",
    "rate-limited": "Te veel verzoeken. Probeer het zo opnieuw.",
    "server-error": "Er ging iets mis in de inlogdienst. Probeer het later opnieuw.",
}

# What a service's ValidationError code means at the API (default: 422).
CODE_STATUS = {
    "active": ("conflict", None),
    "inactive": ("conflict", None),
    "cooldown": ("rate-limited", 60),
    "limited": ("rate-limited", 3600),
    "locked": ("rate-limited", 60),
}


class Problem(Exception):
    """An API error with its kind, its Dutch detail and optional field errors and headers."""

    def __init__(
        self,
        slug: str,
        detail: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        title: str = "",
    ) -> None:
        super().__init__(detail or DETAILS.get(slug, ""))
        self.slug = slug
        self.detail = detail or DETAILS.get(slug, KINDS[slug][1])
        self.errors = errors or []
        self.headers = headers or {}
        self.title = title or KINDS[slug][1]

    @property
    def status(self) -> int:
        return KINDS[self.slug][0]


def problem_response(request: HttpRequest | None, problem: Problem, path: str = "") -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:bieb:kb-api:{problem.slug}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": path or (request.path if request is not None else ""),
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=problem.status,
        content_type=CONTENT_TYPE,
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def from_django(error: DjangoValidationError) -> Problem:
    """A service's Dutch ValidationError as a problem: 422 with its messages, or what its code
    says (an account already active: 409; a limit: 429)."""
    if hasattr(error, "error_dict"):
        codes = {e.code for errors in error.error_dict.values() for e in errors}
    else:
        codes = {e.code for e in error.error_list}
    errors: list[dict[str, str]] = []
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            if field == "__all__":
                continue
            errors += [{"field": field, "detail": message} for message in messages]
    messages = error.messages
    detail = " ".join(messages) if messages else DETAILS["validation"]
    for code in codes:
        if code in CODE_STATUS:
            slug, wait = CODE_STATUS[code]
            headers = {"Retry-After": str(wait)} if wait else None
            return Problem(slug, detail, errors=errors, headers=headers)
    return Problem("validation", detail, errors=errors)


def _field(loc: list[Any] | tuple[Any, ...]) -> str:
    # ninja's locations start with where the value came from ("body", "query", ...) and the
    # parameter's name: the field is what follows, as a JSON path.
    parts = [str(part) for part in loc[1:]]
    if len(parts) > 1 and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts) or str(loc[0])


# pydantic's English messages in Dutch, by error type; the rest get a general sentence.
_PYDANTIC_DUTCH = {
    "missing": "Dit veld is verplicht.",
    "string_too_short": "Dit veld is te kort of leeg.",
    "string_too_long": "Dit veld is te lang.",
    "string_pattern_mismatch": "Dit veld bevat tekens die niet zijn toegestaan.",
    "string_type": "Dit veld moet tekst zijn.",
    "int_parsing": "Dit veld moet een geheel getal zijn.",
    "int_type": "Dit veld moet een geheel getal zijn.",
    "greater_than_equal": "Dit getal is te klein.",
    "less_than_equal": "Dit getal is te groot.",
    "date_from_datetime_parsing": "Dit veld moet een datum zijn (JJJJ-MM-DD).",
    "date_parsing": "Dit veld moet een datum zijn (JJJJ-MM-DD).",
    "date_type": "Dit veld moet een datum zijn (JJJJ-MM-DD).",
    "uuid_parsing": "Dit veld moet een UUID zijn.",
    "uuid_type": "Dit veld moet een UUID zijn.",
    "too_long": "Deze lijst is te lang.",
    "too_short": "Deze lijst is te kort.",
    "list_type": "Dit veld moet een lijst zijn.",
    "extra_forbidden": "Dit veld is onbekend.",
    "model_attributes_type": "Dit moet een JSON-object zijn.",
    "dict_type": "Dit moet een JSON-object zijn.",
    "json_invalid": "Dit is geen geldige JSON.",
    "url_parsing": "Dit veld moet een webadres zijn (https://...).",
    "url_scheme": "Dit veld moet een webadres zijn (https://...).",
    "literal_error": "Deze waarde is niet toegestaan.",
    "enum": "Deze waarde is niet toegestaan.",
    "value_error": "Deze waarde is niet toegestaan.",
}


def from_request_errors(errors: list[dict[str, Any]]) -> Problem:
    """ninja's request validation errors (pydantic's) as a 422 problem, or a 400 for a missing
    Idempotency-Key."""
    fields = []
    for error in errors:
        loc = error.get("loc") or ()
        if loc and loc[0] == "header" and "Idempotency-Key" in [str(part) for part in loc]:
            return Problem(
                "idempotency-key-missing",
                "Geef bij dit verzoek een Idempotency-Key mee (1 tot 200 tekens), zodat een "
                "herhaald verzoek niets dubbel doet.",
            )
        fields.append(
            {
                "field": _field(list(loc)),
                "detail": _PYDANTIC_DUTCH.get(str(error.get("type")), "Deze waarde klopt niet."),
            }
        )
    return Problem("validation", DETAILS["validation"], errors=fields)


def problem_handlers_install(api: NinjaAPI) -> None:
    """Every error the API can meet answered as a problem."""

    @api.exception_handler(Problem)
    def on_problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return problem_response(request, exc)

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem_response(request, from_django(exc))

    @api.exception_handler(NinjaValidationError)
    def on_request_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return problem_response(request, from_request_errors(list(exc.errors)))

    @api.exception_handler(AuthenticationError)
    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(request, unauthorized(error=""))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        slug = next((s for s, (status, _) in KINDS.items() if status == exc.status_code), None)
        return problem_response(request, Problem(slug or "bad-request"))

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, Problem("not-found"))

    @api.exception_handler(Exception)
    def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("KB-API: %s %s failed", request.method, request.path, exc_info=exc)
        return problem_response(request, Problem("server-error"))


def error_answer(path: str, status: int, title: str, message: str) -> HttpResponse:
    """The site's error pages (bieb.core.errors) under /kb/api/: a problem with their Dutch
    message (a NUL byte in the request: 400; an address that is no endpoint: 404; ...)."""
    slug = next((s for s, (code, _) in KINDS.items() if code == status), "server-error")
    return problem_response(None, Problem(slug, message, title=title), path=path)


def unauthorized(error: str = "invalid_token", detail: str = "") -> Problem:
    """401 with the challenge of RFC 6750 3 (no error code when no token was sent)."""
    challenge = 'Bearer realm="kb-api"' + (f', error="{error}"' if error else "")
    return Problem("unauthorized", detail, headers={"WWW-Authenticate": challenge})
