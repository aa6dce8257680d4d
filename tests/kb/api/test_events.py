"""The libraries' event feed: what happened to their customers' accounts, each event once, in
order, from a cursor the library keeps; nothing lost while a library is down."""

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.db import connection, transaction

from bieb.kb.api.events import EVENT_RETENTION, library_events, library_events_prune
from bieb.kb.jobs import kb_purge_expired_accounts
from bieb.kb.models import LibraryEvent, LoginAccount
from bieb.kb.self_service import account_remove, email_change_confirm, email_change_request
from bieb.kb.tokens import email_change_tokens
from tests.kb.api.conftest import Caller, activate, membership

pytestmark = pytest.mark.django_db


def feed(caller: Caller, library: str = "bind", **params: object) -> dict:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    response = caller.call("GET", f"/libraries/{library}/events?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_activation_and_a_purge_appear_once_in_order_and_page_by_cursor(
    bind_api: Caller,
) -> None:
    start = dt.datetime.now(dt.UTC)
    active = bind_api.create("25280000000001", email="een@example.nl").json()
    lapsed = bind_api.create("25280000000002").json()
    assert feed(bind_api) == {"events": [], "cursor": 0, "more": False}

    activate(active["username"])
    with time_machine.travel(start + dt.timedelta(hours=25)):
        assert kb_purge_expired_accounts()["purged"] == 1  # type: ignore[index]
    assert not LoginAccount.objects.filter(pk=lapsed["id"]).exists()

    page = feed(bind_api)
    assert [(e["type"], e["account_id"], e["customer_number"]) for e in page["events"]] == [
        ("account.activated", active["id"], "25280000000001"),
        ("account.purged", lapsed["id"], "25280000000002"),
    ]
    first, second = page["events"]
    assert (first["username"], first["email"]) == ("25280000000001", "een@example.nl")
    assert (second["username"], second["email"]) == ("", "")
    assert first["cursor"] < second["cursor"] == page["cursor"]
    assert page["more"] is False

    # One at a time, from the cursor the library kept.
    one = feed(bind_api, limit=1)
    assert [e["type"] for e in one["events"]] == ["account.activated"]
    assert one["more"] is True
    two = feed(bind_api, after=one["cursor"], limit=1)
    assert [e["type"] for e in two["events"]] == ["account.purged"]
    assert two["more"] is False
    # Nothing new: the same cursor back, nothing twice.
    assert feed(bind_api, after=two["cursor"]) == {
        "events": [],
        "cursor": two["cursor"],
        "more": False,
    }


def test_a_library_reads_only_its_own_customers_events(bind_api: Caller, oost_api: Caller) -> None:
    bind = bind_api.create("25280000000001").json()
    oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {"email": "o@example.nl", "membership": membership("21110000000001")},
        headers={"Idempotency-Key": "o-1"},
    )
    activate(bind["username"])
    activate("21110000000001")
    assert [e["customer_number"] for e in feed(bind_api)["events"]] == ["25280000000001"]
    assert [e["customer_number"] for e in feed(oost_api, "oost")["events"]] == ["21110000000001"]


def test_a_confirmed_email_change_and_a_deletion_reach_every_linked_library(
    bind_api: Caller, oost_api: Caller
) -> None:
    from tests.customers.factories import mailed_link_code

    created = bind_api.create("25280000000001", email="oud@example.nl").json()
    account = activate(created["username"])
    oost_api.call(
        "POST",
        "/libraries/oost/link-codes",
        {"username": account.username, "library_name": "Bibliotheek Oost"},
    )
    code = mailed_link_code("oud@example.nl")
    linked = oost_api.call(
        "POST",
        "/libraries/oost/accounts/link",
        {"username": account.username, "code": code, "membership": membership("21110000000009")},
    )
    assert linked.status_code == 200, linked.content

    email_change_request(account=account, email="nieuw@example.nl", actor="lid:x")
    account.refresh_from_db()
    token = email_change_tokens.make_token(account)  # type: ignore[arg-type]
    email_change_confirm(account=account, token=token, ip=None)
    account_remove(account_id=account.pk, reason="deleted", actor="lid:x")

    for caller, library, number in [
        (bind_api, "bind", "25280000000001"),
        (oost_api, "oost", "21110000000009"),
    ]:
        events = feed(caller, library)["events"]
        kinds = [(e["type"], e["customer_number"], e["email"]) for e in events]
        expected = [
            ("account.email_changed", number, "nieuw@example.nl"),
            ("account.deleted", number, ""),
        ]
        if library == "bind":
            expected.insert(0, ("account.activated", number, "oud@example.nl"))
        assert kinds == expected
        assert {e["account_id"] for e in events} == {created["id"]}


def test_events_are_kept_ninety_days(bind_api: Caller) -> None:
    created = bind_api.create("25280000000001").json()
    activate(created["username"])
    assert len(feed(bind_api)["events"]) == 1
    now = dt.datetime.now(dt.UTC)
    assert library_events_prune(now=now + EVENT_RETENTION - dt.timedelta(minutes=1)) == 0
    assert library_events_prune(now=now + EVENT_RETENTION + dt.timedelta(minutes=1)) == 1


def test_a_cursor_or_limit_out_of_range_is_422(bind_api: Caller) -> None:
    from tests.kb.api.conftest import problem

    body = problem(bind_api.call("GET", "/libraries/bind/events?after=-1"), 422)
    assert body["errors"] == [{"field": "after", "detail": "Dit getal is te klein."}]
    problem(bind_api.call("GET", "/libraries/bind/events?limit=501"), 422)
    problem(bind_api.call("GET", "/libraries/bind/events?after=abc"), 422)


def _event(number: str) -> LibraryEvent:
    return LibraryEvent.objects.create(
        library_code="bind",
        kind="account.activated",
        account_id=uuid.uuid4(),
        customer_number=number,
    )


@pytest.mark.postgres
def test_an_event_that_commits_after_a_later_one_is_not_skipped(transactional_db: None) -> None:
    """PostgreSQL draws an id at insert, not at commit: the slow transaction's event has the
    smaller id but becomes visible after the reader moved past the other one."""
    inserted, release = threading.Event(), threading.Event()

    def slow() -> None:
        try:
            with transaction.atomic():
                _event("slow")
                inserted.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    assert inserted.wait(30)
    fast = _event("fast")
    first = library_events(library_code="bind", after=0)
    assert [e.customer_number for e in first.events] == ["fast"]
    release.set()
    thread.join(30)
    slow_event = LibraryEvent.objects.get(customer_number="slow")
    assert slow_event.id < fast.id
    second = library_events(library_code="bind", after=first.cursor)
    assert [e.customer_number for e in second.events] == ["slow"]


def test_the_periodic_job_forgets_old_events_answers_and_calls(bind_api: Caller) -> None:
    from bieb.kb.jobs import kb_api_prune
    from bieb.kb.models import ApiCall, IdempotentCall

    created = bind_api.create("25280000000001").json()
    activate(created["username"])
    feed(bind_api)
    assert kb_api_prune() == {"events": 0, "idempotent_calls": 0, "api_calls": 0}
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        assert kb_api_prune() == {"events": 0, "idempotent_calls": 1, "api_calls": 0}
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=366)):
        assert kb_api_prune() == {"events": 1, "idempotent_calls": 0, "api_calls": 2}
    assert not IdempotentCall.objects.exists() and not ApiCall.objects.exists()
