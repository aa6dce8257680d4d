"""The KB's API for library systems, `/kb/api/v1/` (OpenAPI document at `openapi.json`, a page
to read it at `docs`). django-ninja builds the document from these functions' type hints and
checks every request against it; the work is done by the login service's own functions
(bieb.kb.local, the in-process adapter of bieb.kb.interface, and bieb.kb.services), as for the
library side of an installation that runs both (BIEB_ROLE=all).

Every call is made by a library system for one of its libraries (`{library}` in the path, checked
in bieb.kb.api.auth) and is logged with its client (ApiCall). An account is reached only through
a link to one of that library's customers: an account id of another library's customer is "not
found", and a username not linked to the library reads as unknown ("verlopen"), as an unknown
one does. The one way to an account not yet linked is the member's own: the ID token of their
sign-in (`link-own`), or the code mailed to them (`link-codes`, `accounts/link`).
"""

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from ninja import Header, NinjaAPI, Path, Query, Status, Swagger
from ninja.openapi.schema import OpenAPISchema

from bieb.core.dates import lifetime_label
from bieb.core.http import client_address
from bieb.kb import services
from bieb.kb.api import events as feed
from bieb.kb.api.auth import ACTOR_HEADER, SCOPE, ApiClient, ClientToken, actor
from bieb.kb.api.idempotency import idempotent_call
from bieb.kb.api.models import ApiCall
from bieb.kb.api.problems import CONTENT_TYPE, Problem, problem_handlers_install
from bieb.kb.api.schemas import (
    CUSTOMER_NUMBER_PATTERN,
    LIBRARY_CODE_PATTERN,
    MAX_STATUS,
    AccountCreate,
    AccountFiguresOut,
    AccountLink,
    AccountLinkOwn,
    AccountOut,
    AccountsForget,
    AccountsForgotten,
    EmailChange,
    EventOut,
    EventsOut,
    ForgetOut,
    LibraryIn,
    LinkCodeCheck,
    LinkCodeRequest,
    MembershipIn,
    MembershipsUpdate,
    MembershipsUpdated,
    MembershipUpdate,
    MembershipValues,
    MessageOut,
    ProblemOut,
    ServiceOut,
    StatusOut,
    StatusQuery,
)
from bieb.kb.local import InProcessKB, account_status_of
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.kb.types import AccountState, AccountStatus, LibraryData, MembershipData

DESCRIPTION = """
The login service (KB) for library systems: accounts of the library's customers, the
memberships that give them digital rights, and a feed of what happened to their accounts.

Authenticate with an OAuth2 access token of the client credentials grant (`POST /kb/token/`,
scope `kb.accounts`); a client acts only for the libraries it was registered for. Errors are
RFC 9457 problem details (`application/problem+json`) whose `detail` is Dutch text for counter
staff. A retried account creation with the same `Idempotency-Key` never makes two accounts.
See docs/kb-api.md.
"""


class KbApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """ninja's document, with the problem responses under their own media type and the
        scope each operation needs."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {CONTENT_TYPE: content["application/json"]}
                    if int(status) == 429:
                        response["headers"] = {
                            "Retry-After": {
                                "description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer"},
                            }
                        }
                if "security" in operation:
                    operation["security"] = [{"ClientToken": [SCOPE]}]
        return schema


api = KbApi(
    title="KB-API (inlogdienst)",
    version="1",
    description=DESCRIPTION,
    urls_namespace="kb-api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=Swagger(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
    auth=ClientToken(),
)
problem_handlers_install(api)
# The work: the login service in this process, as `bieb.kb.interface` has it in `BIEB_ROLE=all`.
kb = InProcessKB()

Library = Path(..., pattern=LIBRARY_CODE_PATTERN, description="The library's code, e.g. `bind`.")
IdempotencyKey = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    pattern=r"^[\x21-\x7e]+$",
    description="A new random key (a UUID) per account; the same key again returns the first "
    "answer.",
)
OptionalIdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    pattern=r"^[\x21-\x7e]+$",
    description="Optional: the same key again returns the first answer.",
)
# Documented, read by bieb.kb.api.auth.actor.
Actor = Header(
    None,
    alias=ACTOR_HEADER,
    max_length=100,
    pattern=r"^[\x20-\x7e]*$",
    description="Who at the library made the call (a staff member's user name), for the KB's "
    "log and the limits per staff member.",
)


def _errors(*statuses: int) -> dict[int, type[ProblemOut]]:
    return dict.fromkeys((400, 401, 403, 429, *statuses), ProblemOut)


ACCOUNT_GONE = (
    "Dit inlogaccount bestaat niet meer of is niet aan een klant van deze bibliotheek "
    "gekoppeld. Kies 'Vergeet inlogaccount' en genereer een nieuw inlogaccount."
)
EMAIL_INVALID = "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."


def _client(request: HttpRequest) -> ApiClient:
    return request.auth  # type: ignore[attr-defined]


def _state(status: AccountStatus) -> str:
    return str(status.state.value)


def _out(status: AccountStatus) -> dict[str, Any]:
    return AccountOut(
        id=status.id,
        username=status.username,
        email=status.email,
        state=_state(status),  # type: ignore[arg-type]
        label=status.label,
        activation_deadline=status.activation_deadline,
        pending_email=status.pending_email,
    ).model_dump(mode="json")


def _membership(library: str, data: MembershipIn | MembershipUpdate) -> MembershipData:
    return MembershipData(
        library_code=library,
        library_name=getattr(data, "library_name", ""),
        customer_number=data.customer_number,
        subscription_code=data.subscription_code,
        digital_rights=data.digital_rights,
        valid_through=data.valid_through,
        state=data.state,
        pay_url=data.pay_url,
        starts_on=data.starts_on,
        period_through=data.period_through,
        physical_loans=data.physical_loans,
    )


def _linked_account_id(library: str, account_id: uuid.UUID) -> uuid.UUID:
    """The account, if it is linked to one of the library's customers; else 404."""
    if not LinkedMembership.objects.filter(account_id=account_id, library_code=library).exists():
        raise Problem("not-found", ACCOUNT_GONE)
    return account_id


# --- the service ----------------------------------------------------------------------------


@api.get(
    "/service",
    response={200: ServiceOut, **_errors()},
    tags=["Dienst"],
    operation_id="service_read",
)
def service_read(request: HttpRequest) -> dict[str, Any]:
    """What a library system tells its staff about the KB (how long an activation link works),
    and the libraries the client may act for."""
    lifetime = services.activation_lifetime()
    return {
        "activation_hours": round(lifetime.total_seconds() / 3600, 4),
        "activation_lifetime": lifetime_label(lifetime),
        "libraries": sorted(_client(request).library_codes),
    }


# --- accounts -------------------------------------------------------------------------------


@api.post(
    "/libraries/{library}/accounts",
    response={201: AccountOut, **_errors(400, 422)},
    tags=["Inlogaccounts"],
    operation_id="account_create",
)
def account_create(
    request: HttpRequest,
    payload: AccountCreate,
    library: str = Library,
    idempotency_key: str = IdempotencyKey,
    bieb_actor: str | None = Actor,
) -> HttpResponse:
    """A new account for a customer registered at the library, named after the customer number
    (or `<number>-N` when that name is taken), waiting for activation: the KB mails the link.
    The membership is linked to it. Needs an `Idempotency-Key`."""
    try:
        validate_email(payload.email.strip())
    except ValidationError:
        raise Problem(
            "validation", EMAIL_INVALID, errors=[{"field": "email", "detail": EMAIL_INVALID}]
        ) from None

    def run() -> tuple[int, Any]:
        status = kb.create_account(
            email=payload.email,
            membership=_membership(library, payload.membership),
            actor=actor(request),
            account_id=payload.account_id,
        )
        return 201, _out(status)

    return idempotent_call(
        request=request,
        client_id=_client(request).client_id,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        run=run,
    )


@api.post(
    "/libraries/{library}/accounts/link",
    response={200: AccountOut, **_errors(400, 422)},
    tags=["Inlogaccounts"],
    operation_id="account_link",
)
def account_link(
    request: HttpRequest,
    payload: AccountLink,
    library: str = Library,
    idempotency_key: str | None = OptionalIdempotencyKey,
    bieb_actor: str | None = Actor,
) -> HttpResponse:
    """Link the membership to an existing, active account whose holder gave staff the code the
    KB mailed them (`POST .../link-codes`): their consent. The code works once; a wrong one
    counts, and after a few the code dies. The holder is told by mail."""
    who = actor(request)

    def check() -> None:
        kb.check_link_code(
            username=payload.username, code=payload.code, library_code=library, actor=who
        )

    def run() -> tuple[int, Any]:
        status = kb.link_account(
            username=payload.username,
            code=payload.code,
            membership=_membership(library, payload.membership),
            actor=who,
        )
        return 200, _out(status)

    return idempotent_call(
        request=request,
        client_id=_client(request).client_id,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        run=run,
        before=check,
    )


@api.post(
    "/libraries/{library}/accounts/{account_id}/link-own",
    response={200: AccountOut, **_errors(422)},
    tags=["Inlogaccounts"],
    operation_id="account_link_own",
)
def account_link_own(
    request: HttpRequest,
    payload: AccountLinkOwn,
    account_id: uuid.UUID,
    library: str = Library,
    idempotency_key: str | None = OptionalIdempotencyKey,
    bieb_actor: str | None = Actor,
) -> HttpResponse:
    """Link the membership to the member's own account, for a member who signed in at the KB
    during the library's online sign-up: the ID token of that sign-in is their consent. It
    must be the KB's, issued to the sign-up's client (`bibliotheek-website`) and about this
    account, and at most 8 days old (from its `iat`; its `exp` may have passed: the library
    registers the member when the payment settles). The account must be active."""

    def run() -> tuple[int, Any]:
        status = kb.link_account_by_id(
            account_id=account_id,
            membership=_membership(library, payload.membership),
            actor=actor(request),
            id_token=payload.id_token,
        )
        return 200, _out(status)

    return idempotent_call(
        request=request,
        client_id=_client(request).client_id,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        run=run,
    )


@api.post(
    "/libraries/{library}/accounts/status",
    response={200: StatusOut, **_errors(422)},
    tags=["Inlogaccounts"],
    operation_id="accounts_status",
)
def accounts_status(
    request: HttpRequest, payload: StatusQuery, library: str = Library
) -> dict[str, Any]:
    """The state of many accounts at once (at most 500 usernames and ids together). By
    username only accounts linked to this library's customers are told; any other name reads
    as `verlopen`, as an unknown one does. By id (as the library stored it, or as the member's
    sign-in gave it) an account that is gone reads as `verlopen` without a username."""
    if len(payload.usernames) + len(payload.account_ids) > MAX_STATUS:
        raise Problem(
            "validation",
            f"Vraag de status van ten hoogste {MAX_STATUS} inlogaccounts tegelijk op.",
        )
    names = [services.username_normalize(name) for name in payload.usernames]
    by_name = {
        account.username: account
        for account in LoginAccount.objects.filter(
            username__in=set(names), memberships__library_code=library
        ).distinct()
    }
    by_id = {
        account.pk: account
        for account in LoginAccount.objects.filter(pk__in=set(payload.account_ids))
    }
    unknown = AccountState.EXPIRED
    return {
        "usernames": [
            _out(account_status_of(by_name[name]))
            if name in by_name
            else _out(AccountStatus(username=typed, email="", state=unknown))
            for typed, name in zip(payload.usernames, names, strict=True)
        ],
        "account_ids": [
            _out(account_status_of(by_id[pk]))
            if pk in by_id
            else _out(AccountStatus(username="", email="", state=unknown, id=pk))
            for pk in payload.account_ids
        ],
    }


@api.post(
    "/libraries/{library}/accounts/{account_id}/activation-mail",
    response={200: AccountOut, **_errors(404, 409, 422)},
    tags=["Inlogaccounts"],
    operation_id="account_activation_resend",
)
def account_activation_resend(
    request: HttpRequest,
    account_id: uuid.UUID,
    library: str = Library,
    bieb_actor: str | None = Actor,
) -> dict[str, Any]:
    """A new activation link with a new deadline, mailed again; the old link stops working.
    Refused (429) within a minute of the last one, and (409) for an account already active."""
    _linked_account_id(library, account_id)
    return _out(kb.resend_activation(account_id=account_id, actor=actor(request)))


@api.post(
    "/libraries/{library}/accounts/{account_id}/email-change",
    response={202: AccountOut, **_errors(404, 409, 422)},
    tags=["Inlogaccounts"],
    operation_id="account_email_change",
)
def account_email_change(
    request: HttpRequest,
    payload: EmailChange,
    account_id: uuid.UUID,
    library: str = Library,
    bieb_actor: str | None = Actor,
) -> Status[dict[str, Any]]:
    """Start a change of the account's e-mail address to the customer's new one: the KB mails
    a confirmation link there, and the address changes when its holder uses it (an event
    `account.email_changed` follows). An account still waiting for activation gets a new
    activation link at the new address instead. Staff never set the address themselves."""
    _linked_account_id(library, account_id)
    status = kb.account_email_change_request(
        account_id=account_id, email=payload.email, actor=actor(request)
    )
    return Status(202, _out(status))


@api.delete(
    "/libraries/{library}/accounts/{account_id}/memberships/{customer_number}",
    response={200: ForgetOut, **_errors(404, 422)},
    tags=["Inlogaccounts"],
    operation_id="account_forget",
)
def account_forget(
    request: HttpRequest,
    account_id: uuid.UUID,
    library: str = Library,
    customer_number: str = Path(..., pattern=CUSTOMER_NUMBER_PATTERN),
    bieb_actor: str | None = Actor,
) -> dict[str, Any]:
    """ "Vergeet inlogaccount": unlink the customer's membership from the account; an account
    that was never activated is deleted with it. 404 when the account is gone or not linked to
    this library (nothing left to forget)."""
    _linked_account_id(library, account_id)
    deleted = services.account_forget(
        account_id=account_id,
        library_code=library,
        customer_number=customer_number,
        actor=actor(request),
    )
    return {"deleted": deleted}


@api.post(
    "/libraries/{library}/accounts/forget",
    response={200: AccountsForgotten, **_errors(422)},
    tags=["Inlogaccounts"],
    operation_id="accounts_forget",
)
def accounts_forget(
    request: HttpRequest,
    payload: AccountsForget,
    library: str = Library,
    bieb_actor: str | None = Actor,
) -> dict[str, Any]:
    """ "Vergeet inlogaccount" for many of the library's memberships at once (at most 1000; the
    library's retention job): each (account, customer number) that is linked is unlinked, and
    an account among them that was never activated is deleted. Links that are not (or no
    longer) there are left out: a retry changes nothing."""
    wanted = {(link.account_id, link.customer_number) for link in payload.links}
    with transaction.atomic():
        linked = [
            (account_id, number)
            for account_id, number in LinkedMembership.objects.filter(
                library_code=library,
                customer_number__in={number for _, number in wanted},
            ).values_list("account_id", "customer_number")
            if (account_id, number) in wanted
        ]
        deleted = services.accounts_forget(library_code=library, links=linked, actor=actor(request))
    return {"forgotten": len(linked), "deleted": deleted}


# --- the library ----------------------------------------------------------------------------


@api.put(
    "/libraries/{library}",
    response={204: None, **_errors(422)},
    tags=["Bibliotheek"],
    operation_id="library_update",
)
def library_update(
    request: HttpRequest, payload: LibraryIn, library: str = Library
) -> Status[None]:
    """The library's name and contact details, which the Online Bibliotheek shows to a member
    who has to pay or contact the library (send them whenever they change)."""
    if payload.contact_email:
        try:
            validate_email(payload.contact_email)
        except ValidationError:
            raise Problem(
                "validation",
                EMAIL_INVALID,
                errors=[{"field": "contact_email", "detail": EMAIL_INVALID}],
            ) from None
    kb.library_update(
        library=LibraryData(
            code=library,
            name=payload.name,
            contact_address=payload.contact_address,
            contact_phone=payload.contact_phone,
            contact_email=payload.contact_email,
            website=payload.website,
        )
    )
    return Status(204, None)


# --- link codes -----------------------------------------------------------------------------


@api.post(
    "/libraries/{library}/link-codes",
    response={202: MessageOut, **_errors(422)},
    tags=["Koppelcodes"],
    operation_id="link_code_request",
)
def link_code_request(
    request: HttpRequest,
    payload: LinkCodeRequest,
    library: str = Library,
    bieb_actor: str | None = Actor,
) -> Status[dict[str, str]]:
    """Mail the holder of an existing account a one-time code for linking it to this library.
    The answer is the same whether or not the account exists. Limited per account and per
    staff member (`Bieb-Actor`)."""
    detail = kb.request_link_code(
        username=payload.username,
        library_code=library,
        library_name=payload.library_name,
        actor=actor(request),
    )
    return Status(202, {"detail": detail})


@api.post(
    "/libraries/{library}/link-codes/check",
    response={204: None, **_errors(422)},
    tags=["Koppelcodes"],
    operation_id="link_code_check",
)
def link_code_check(
    request: HttpRequest,
    payload: LinkCodeCheck,
    library: str = Library,
    bieb_actor: str | None = Actor,
) -> Status[None]:
    """Check a code without using it up (before the library's own registration commits); a
    wrong one counts."""
    kb.check_link_code(
        username=payload.username, code=payload.code, library_code=library, actor=actor(request)
    )
    return Status(204, None)


# --- memberships ----------------------------------------------------------------------------


@api.put(
    "/libraries/{library}/memberships/{customer_number}",
    response={204: None, **_errors(404, 422)},
    tags=["Lidmaatschappen"],
    operation_id="membership_update",
)
def membership_update(
    request: HttpRequest,
    payload: MembershipValues,
    library: str = Library,
    customer_number: str = Path(..., pattern=CUSTOMER_NUMBER_PATTERN),
) -> Status[None]:
    """The membership's current digital rights and valid-through date (the library keeps them
    current). 404 when no account has this customer's membership linked."""
    data = MembershipUpdate(customer_number=customer_number, **payload.model_dump())
    with transaction.atomic():
        if not services.memberships_update(memberships=[_membership(library, data)]):
            raise Problem("not-found", "Dit klantnummer is aan geen inlogaccount gekoppeld.")
    return Status(204, None)


@api.put(
    "/libraries/{library}/memberships",
    response={200: MembershipsUpdated, **_errors(422)},
    tags=["Lidmaatschappen"],
    operation_id="memberships_update",
)
def memberships_update(
    request: HttpRequest, payload: MembershipsUpdate, library: str = Library
) -> dict[str, Any]:
    """Many memberships at once (at most 1000; the yearly renewal run): one statement. Numbers
    without a linked membership are listed in `not_linked` and left alone."""
    numbers = [item.customer_number for item in payload.memberships]
    with transaction.atomic():
        linked = set(
            LinkedMembership.objects.filter(
                library_code=library, customer_number__in=set(numbers)
            ).values_list("customer_number", flat=True)
        )
        updated = services.memberships_update(
            memberships=[_membership(library, item) for item in payload.memberships]
        )
    return {"updated": updated, "not_linked": [n for n in numbers if n not in linked]}


# --- events ---------------------------------------------------------------------------------


@api.get(
    "/libraries/{library}/events",
    response={200: EventsOut, **_errors(422)},
    tags=["Gebeurtenissen"],
    operation_id="library_events",
)
def library_events(
    request: HttpRequest,
    library: str = Library,
    after: int = Query(
        0, ge=0, description="The cursor of the last event processed; 0: from the start."
    ),
    limit: int = Query(feed.FEED_LIMIT, ge=1, le=feed.FEED_LIMIT),
) -> dict[str, Any]:
    """What happened to the accounts linked to this library's customers, oldest first:
    `account.activated`, `account.email_changed`, `account.deleted` (by the member) and
    `account.purged` (never activated; the library shows "verlopen"). Keep the returned
    `cursor` and pass it as `after` next time; events are kept 90 days, so a library that was
    down reads on where it stopped. Read again at once while `more` is true."""
    page = feed.library_events(library_code=library, after=after, limit=limit)
    return {
        "events": [
            EventOut(
                cursor=event.position or 0,
                type=event.kind,  # type: ignore[arg-type]
                at=event.at,
                account_id=event.account_id,
                customer_number=event.customer_number,
                username=event.username,
                email=event.email,
            )
            for event in page.events
        ],
        "cursor": page.cursor,
        "more": page.more,
    }


# --- statistics -----------------------------------------------------------------------------

FirstDay = Query(..., description="The first day the accounts were made, YYYY-MM-DD.")
LastDay = Query(..., description="The last day the accounts were made, YYYY-MM-DD.")


@api.get(
    "/libraries/{library}/statistics/accounts",
    response={200: AccountFiguresOut, **_errors(422)},
    tags=["Statistiek"],
    operation_id="library_account_figures",
)
def library_account_figures(
    request: HttpRequest,
    library: str = Library,
    start: dt.date = FirstDay,
    end: dt.date = LastDay,
) -> dict[str, int]:
    """The login accounts this library's counter made from `start` through `end`: how many,
    how many were activated before their link ran out, how many expired unused and were
    removed. From the KB's daily figures (computed every hour)."""
    figures = InProcessKB().account_figures(library_code=library, start=start, end=end)
    return {
        "made": figures.made,
        "activated_in_time": figures.activated_in_time,
        "expired": figures.expired,
    }


# --- the call log ---------------------------------------------------------------------------


def _logged(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        client: ApiClient | None = getattr(request, "kb_api_client", None)
        if client is not None:
            staff = "".join(c for c in request.headers.get(ACTOR_HEADER, "") if c.isprintable())
            ApiCall.objects.create(
                client_id=client.client_id[:100],
                library_code=str(kwargs.get("library", ""))[:30],
                actor=staff[:150],
                method=(request.method or "")[:10],
                path=request.path[:300],
                status=response.status_code,
                ip=client_address(request),
            )
        return response

    return wrapper


def urlpatterns() -> tuple[list[URLPattern | URLResolver], str, str]:
    """The API's URLs (ninja's), each call logged with its client."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _logged(pattern.callback)
    return patterns, app_name, namespace


__all__ = ["api", "urlpatterns"]
