"""The login service elsewhere: the adapter of `bieb.kb.interface` for `BIEB_ROLE=library`,
over the KB's API `/kb/api/v1/` (docs/kb-api.md).

- Authentication: OAuth2 client credentials at the KB's own provider (`POST <KB>/kb/token/`,
  scope `kb.accounts`) with this installation's client id and secret; the access token is kept
  until shortly before it expires, and asked again once when a call answers 401.
- Short timeouts (a connection within 2 s, an answer within 5 s): a KB that does not answer
  costs a counter request seconds, not minutes.
- Creating calls carry an Idempotency-Key that the same call made again repeats (from the
  account id the library chose, or the membership and code), so a retry after a lost answer
  gets the first answer and never makes a second account or sends a second mail.
- The KB's refusals (RFC 9457 problems) come back as Django's ValidationError with the KB's
  Dutch `detail`, per field where the problem names fields: the counter shows them as it shows
  those of the KB in process. No connection, a timeout, a 5xx answer, a token that is refused
  and the client's own rate limit raise KBUnavailable: nothing for staff to fix, try again.

Imports no model: a library installation has no login service tables.
"""

import contextlib
import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from requests.adapters import HTTPAdapter

from bieb.core.dates import lifetime_label
from bieb.kb.interface import KBUnavailable
from bieb.kb.types import (
    AccountFigures,
    AccountState,
    AccountStatus,
    LibraryData,
    LibraryEvent,
    LibraryEvents,
    MembershipData,
)

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
# A token this close to its expiry is asked again first.
TOKEN_MARGIN = 30.0
# How long the KB's service facts (activation lifetime, the client's libraries) are reused.
SERVICE_TTL = 300.0
SCOPE = "kb.accounts"
# The API's limits per call (bieb.kb.api.schemas).
MAX_STATUS = 500
MAX_BATCH = 1000

# The problem types (urn:bieb:kb-api:<slug>) as ValidationError codes.
_CODES = {
    "conflict": "conflict",
    "rate-limited": "limited",
    "not-found": "gone",
    "validation": "invalid",
    "idempotency-key-reused": "idempotency",
}
_UNAVAILABLE = {"unauthorized", "forbidden", "client-rate-limited", "server-error"}

T = TypeVar("T")


class _Gone(ValidationError):
    """A 404 of the API: the account is gone or not linked to this library."""


def _header_safe(text: str, limit: int = 100) -> str:
    return "".join(ch for ch in text if " " <= ch <= "~")[:limit]


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _values(m: MembershipData) -> dict[str, Any]:
    return {
        "subscription_code": m.subscription_code,
        "digital_rights": m.digital_rights,
        "valid_through": _date(m.valid_through),
        "state": m.state,
        "pay_url": m.pay_url,
        "starts_on": _date(m.starts_on),
        "period_through": _date(m.period_through),
        "physical_loans": m.physical_loans,
    }


def _membership(m: MembershipData) -> dict[str, Any]:
    return {"customer_number": m.customer_number, "library_name": m.library_name, **_values(m)}


def _status(body: dict[str, Any]) -> AccountStatus:
    deadline = body.get("activation_deadline")
    return AccountStatus(
        username=str(body.get("username") or ""),
        email=str(body.get("email") or ""),
        state=AccountState(body["state"]),
        activation_deadline=parse_datetime(deadline) if deadline else None,
        id=uuid.UUID(body["id"]) if body.get("id") else None,
        pending_email=str(body.get("pending_email") or ""),
    )


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _slug(body: dict[str, Any]) -> str:
    kind = str(body.get("type") or "")
    return kind.rpartition(":")[2] if kind.startswith("urn:bieb:kb-api:") else ""


def refusal(response: requests.Response) -> ValidationError:
    """The KB's problem answer as the ValidationError the KB in process raises: its Dutch
    `detail`, per field where it names fields."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    slug = _slug(body)
    code = _CODES.get(slug)
    detail = str(body.get("detail") or "De inlogdienst weigerde dit verzoek.")
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict) and e.get("field")]
    kind = _Gone if response.status_code == 404 else ValidationError
    if errors:
        fields: dict[str, list[ValidationError]] = {}
        for error in errors:
            field = str(error["field"])
            fields.setdefault(field, []).append(
                ValidationError(str(error.get("detail") or detail), code=code)
            )
        return kind(fields)
    return kind(detail, code=code)


class HttpKB:
    """`bieb.kb.interface.KBInterface` over the KB's API at `base_url`."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/kb/api/v1"
        self.client_id = client_id
        self._secret = client_secret
        self._timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=8, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None
        self._service: tuple[dict[str, Any], float] | None = None

    # --- transport --------------------------------------------------------------------------

    def _access_token(self, *, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                response = self._session.post(
                    f"{self.base_url}/kb/token/",
                    data={"grant_type": "client_credentials", "scope": SCOPE},
                    auth=(self.client_id, self._secret),
                    timeout=self._timeout,
                )
            except requests.RequestException as error:
                raise KBUnavailable(f"KB token: {type(error).__name__}: {error}") from error
            if response.status_code != 200:
                raise KBUnavailable(f"KB token refused: {response.status_code}")
            try:
                body = response.json()
                token = str(body["access_token"])
                lifetime = float(body.get("expires_in") or 3600)
            except (ValueError, KeyError, TypeError) as error:
                raise KBUnavailable("KB token: unreadable answer") from error
            self._token = (token, time.monotonic() + max(1.0, lifetime - TOKEN_MARGIN))
            return token

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        actor: str = "",
        key: str = "",
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if actor and _header_safe(actor).strip():
            headers["Bieb-Actor"] = _header_safe(actor)
        if key:
            headers["Idempotency-Key"] = _header_safe(key, 200)
        for attempt in range(2):
            headers["Authorization"] = f"Bearer {self._access_token(renew=attempt > 0)}"
            try:
                response = self._session.request(
                    method,
                    f"{self.api_url}{path}",
                    json=body,
                    params=params,
                    headers=headers,
                    timeout=self._timeout,
                )
            except requests.RequestException as error:
                raise KBUnavailable(f"KB {method} {path}: {type(error).__name__}") from error
            if response.status_code != 401:
                break
        if response.status_code < 300:
            return response
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise KBUnavailable(f"KB {method} {path}: {response.status_code}")
        if not response.headers.get("Content-Type", "").startswith("application/problem+json"):
            # Not the KB's API answering (a wrong BIEB_KB_URL, a proxy's error page): never
            # taken for the KB's "not found", which some calls treat as done.
            raise KBUnavailable(f"KB {method} {path}: {response.status_code}, not a problem")
        try:
            slug = _slug(response.json())
        except ValueError:
            slug = ""
        if slug in _UNAVAILABLE:
            raise KBUnavailable(f"KB {method} {path}: {response.status_code} {slug}")
        raise refusal(response)

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise KBUnavailable(f"KB {response.url}: unreadable answer") from error

    def _facts(self) -> dict[str, Any]:
        """GET /service: the activation lifetime and this client's libraries (kept a while)."""
        cached = self._service
        if cached and cached[1] > time.monotonic():
            return cached[0]
        facts = self._json(self._call("GET", "/service"))
        self._service = (facts, time.monotonic() + SERVICE_TTL)
        return dict(facts)

    def _libraries(self) -> list[str]:
        return [str(code) for code in self._facts().get("libraries") or []]

    def _on_any_library(self, call: Callable[[str], T]) -> T:
        """A call about an account, by id, under the first of this client's libraries that has
        it linked (an installation usually serves one)."""
        libraries = self._libraries()
        if not libraries:
            raise KBUnavailable("this client of the KB acts for no library")
        gone: _Gone | None = None
        for library in libraries:
            try:
                return call(library)
            except _Gone as error:
                gone = error
        assert gone is not None  # noqa: S101  (at least one library was tried)
        raise ValidationError(gone.messages[0] if gone.messages else "", code="gone")

    # --- KBInterface ------------------------------------------------------------------------

    def activation_lifetime_label(self) -> str:
        """The KB's own words (GET /service). What the counter tells the customer must not
        need the KB at that moment (it is on every customer page): while the KB cannot be
        asked, the answer it gave last, or else this installation's BIEB_ACTIVATION_HOURS
        (default 24, the work instruction's), never an error page."""
        try:
            return str(self._facts()["activation_lifetime"])
        except KBUnavailable:
            known = self._service
            if known is not None and known[0].get("activation_lifetime"):
                return str(known[0]["activation_lifetime"])
            return lifetime_label(dt.timedelta(hours=settings.BIEB_ACTIVATION_HOURS))

    def create_account(
        self,
        *,
        email: str,
        membership: MembershipData,
        actor: str,
        account_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> AccountStatus:
        library = membership.library_code
        key = idempotency_key or (
            f"account:{library}:{membership.customer_number}:{account_id}"
            if account_id
            else f"account:{uuid.uuid4()}"
        )
        body = {
            "email": email,
            "account_id": str(account_id) if account_id else None,
            "membership": _membership(membership),
        }
        response = self._call(
            "POST", f"/libraries/{library}/accounts", body=body, actor=actor, key=key
        )
        return _status(self._json(response))

    def request_link_code(
        self, *, username: str, library_code: str, library_name: str, actor: str
    ) -> str:
        response = self._call(
            "POST",
            f"/libraries/{library_code}/link-codes",
            body={"username": username, "library_name": library_name},
            actor=actor,
        )
        return str(self._json(response)["detail"])

    def check_link_code(self, *, username: str, code: str, library_code: str, actor: str) -> None:
        self._call(
            "POST",
            f"/libraries/{library_code}/link-codes/check",
            body={"username": username, "code": code},
            actor=actor,
        )

    def link_account(
        self, *, username: str, code: str, membership: MembershipData, actor: str
    ) -> AccountStatus:
        library = membership.library_code
        consent = hashlib.sha256(f"{username}\n{code}".encode()).hexdigest()[:32]
        response = self._call(
            "POST",
            f"/libraries/{library}/accounts/link",
            body={"username": username, "code": code, "membership": _membership(membership)},
            actor=actor,
            key=f"link:{library}:{membership.customer_number}:{consent}",
        )
        return _status(self._json(response))

    def link_account_by_id(
        self, *, account_id: uuid.UUID, membership: MembershipData, actor: str, id_token: str = ""
    ) -> AccountStatus:
        if not id_token:
            raise ValidationError(
                {"username": "De aanmelding bij de KB is verlopen. Log opnieuw in bij de KB."},
                code="invalid",
            )
        library = membership.library_code
        response = self._call(
            "POST",
            f"/libraries/{library}/accounts/{account_id}/link-own",
            body={"id_token": id_token, "membership": _membership(membership)},
            actor=actor,
            key=f"link-own:{library}:{membership.customer_number}:{account_id}",
        )
        return _status(self._json(response))

    def forget_account(
        self, *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
    ) -> None:
        # A 404 is nothing left to forget: done before, or the account is gone.
        with contextlib.suppress(_Gone):
            self._call(
                "DELETE",
                f"/libraries/{library_code}/accounts/{account_id}/memberships/{customer_number}",
                actor=actor,
            )

    def forget_accounts(
        self, *, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str
    ) -> None:
        for part in _chunks(links, MAX_BATCH):
            self._call(
                "POST",
                f"/libraries/{library_code}/accounts/forget",
                body={
                    "links": [
                        {"account_id": str(account_id), "customer_number": number}
                        for account_id, number in part
                    ]
                },
                actor=actor,
            )

    def _statuses(self, library: str, *, usernames: list[str], ids: list[uuid.UUID]) -> Any:
        response = self._call(
            "POST",
            f"/libraries/{library}/accounts/status",
            body={"usernames": usernames, "account_ids": [str(pk) for pk in ids]},
        )
        return self._json(response)

    def account_status(self, *, username: str) -> AccountStatus:
        found = AccountStatus(username=username, email="", state=AccountState.EXPIRED)
        for library in self._libraries():
            found = _status(self._statuses(library, usernames=[username], ids=[])["usernames"][0])
            if found.id is not None:
                break
        return found

    def account_status_by_id(self, *, account_id: uuid.UUID) -> AccountStatus:
        return self.account_statuses_by_id(account_ids=[account_id])[0]

    def account_statuses_by_id(self, *, account_ids: list[uuid.UUID]) -> list[AccountStatus]:
        libraries = self._libraries()
        if not libraries:
            raise KBUnavailable("this client of the KB acts for no library")
        found: list[AccountStatus] = []
        for part in _chunks(account_ids, MAX_STATUS):
            answer = self._statuses(libraries[0], usernames=[], ids=part)
            found += [_status(item) for item in answer["account_ids"]]
        return found

    def resend_activation(self, *, account_id: uuid.UUID, actor: str) -> AccountStatus:
        def resend(library: str) -> AccountStatus:
            path = f"/libraries/{library}/accounts/{account_id}/activation-mail"
            return _status(self._json(self._call("POST", path, actor=actor)))

        return self._on_any_library(resend)

    def account_email_change_request(
        self, *, account_id: uuid.UUID, email: str, actor: str
    ) -> AccountStatus:
        def change(library: str) -> AccountStatus:
            path = f"/libraries/{library}/accounts/{account_id}/email-change"
            return _status(self._json(self._call("POST", path, body={"email": email}, actor=actor)))

        return self._on_any_library(change)

    def update_membership(self, *, membership: MembershipData) -> None:
        library, number = membership.library_code, membership.customer_number
        # A 404: no account has this membership linked, nothing to keep current.
        with contextlib.suppress(_Gone):
            self._call(
                "PUT", f"/libraries/{library}/memberships/{number}", body=_values(membership)
            )

    def update_memberships(self, *, memberships: list[MembershipData]) -> None:
        by_library: dict[str, list[MembershipData]] = {}
        for membership in memberships:
            by_library.setdefault(membership.library_code, []).append(membership)
        for library, items in by_library.items():
            for part in _chunks(items, MAX_BATCH):
                self._call(
                    "PUT",
                    f"/libraries/{library}/memberships",
                    body={
                        "memberships": [
                            {"customer_number": m.customer_number, **_values(m)} for m in part
                        ]
                    },
                )

    def library_update(self, *, library: LibraryData) -> None:
        self._call(
            "PUT",
            f"/libraries/{library.code}",
            body={
                "name": library.name,
                "contact_address": library.contact_address,
                "contact_phone": library.contact_phone,
                "contact_email": library.contact_email,
                "website": library.website,
            },
        )

    def library_events(self, *, library_code: str, after: int, limit: int = 500) -> LibraryEvents:
        response = self._call(
            "GET", f"/libraries/{library_code}/events", params={"after": after, "limit": limit}
        )
        page = self._json(response)
        return LibraryEvents(
            events=[
                LibraryEvent(
                    cursor=int(event["cursor"]),
                    type=str(event["type"]),
                    at=parse_datetime(event["at"]) or dt.datetime.now(dt.UTC),
                    account_id=uuid.UUID(event["account_id"]),
                    customer_number=str(event["customer_number"]),
                    username=str(event.get("username") or ""),
                    email=str(event.get("email") or ""),
                )
                for event in page["events"]
            ],
            cursor=int(page["cursor"]),
            more=bool(page["more"]),
        )

    def account_figures(self, *, library_code: str, start: dt.date, end: dt.date) -> AccountFigures:
        figures = self._json(
            self._call(
                "GET",
                f"/libraries/{library_code}/statistics/accounts",
                params={"start": start.isoformat(), "end": end.isoformat()},
            )
        )
        return AccountFigures(
            made=int(figures["made"]),
            activated_in_time=int(figures["activated_in_time"]),
            expired=int(figures["expired"]),
        )
