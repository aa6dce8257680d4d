"""A library installation of its own (BIEB_ROLE=library) learns of deleted and purged login
accounts from the KB's event feed, read by its periodic job, and does what the in-process
signal does: the customer's account reads "verlopen". Here the library side calls a real KB
over HTTP (pytest-django's live server) with the HTTP adapter; the in-process signal of the
test's own process is switched off while the KB deletes, as it does not exist between two
installations."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.core.periodic import JOBS
from bieb.customers.models import Customer
from bieb.customers.receivers import login_accounts_deleted
from bieb.customers.services import customer_register
from bieb.kb import interface
from bieb.kb.models import LoginAccount
from bieb.kb.services import accounts_purge_expired
from bieb.libraries.models import Branch, KBEventCursor, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details
from tests.kb.contract.conftest import CLIENT_ID, CLIENT_SECRET, http_kb


@pytest.fixture
def library_role(customer: Customer, live_server: object, settings: object) -> None:
    """This process's library side talks to the KB over HTTP, as BIEB_ROLE=library does."""
    http_kb(str(live_server.url))  # type: ignore[attr-defined]  # registers the client
    settings.BIEB_KB_ADAPTER = "http"  # type: ignore[attr-defined]
    settings.BIEB_KB_URL = str(live_server.url)  # type: ignore[attr-defined]
    settings.BIEB_KB_CLIENT_ID = CLIENT_ID  # type: ignore[attr-defined]
    settings.BIEB_KB_CLIENT_SECRET = CLIENT_SECRET  # type: ignore[attr-defined]


@contextmanager
def kb_elsewhere() -> Iterator[None]:
    """The KB's deletions reach the library only by its feed: no receiver in its process."""
    uid = "customers.login_accounts_deleted"
    interface.accounts_deleted.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        interface.accounts_deleted.connect(login_accounts_deleted, dispatch_uid=uid)


@pytest.fixture
def customer(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    """A customer of Bind with a login account waiting for activation, registered while the
    KB is in process (the test's KB shares the test's database: a call to it over HTTP from
    inside the registration's transaction would wait on that transaction's lock on SQLite;
    the library's outbox makes that call after the commit)."""
    from django.conf import settings

    assert settings.BIEB_KB_ADAPTER == "in-process"
    return customer_register(
        actor=balie, branch=branch_5280, details=details(), subscription_type=digital_only
    ).customer


def poll() -> object:
    return JOBS["kb_events_poll"].run()


def test_the_feed_tells_the_library_of_a_purged_account(
    library_role: None, customer: Customer
) -> None:
    assert customer.login_account_id is not None
    # From here on the library side calls the KB over HTTP, as a library installation does.
    assert interface.adapter().__class__.__name__ == "HttpKB"
    assert poll() == {"bind": 0, "oost": 0}

    with kb_elsewhere():
        LoginAccount.objects.filter(pk=customer.login_account_id).update(
            activation_deadline=timezone.now() - dt.timedelta(minutes=1)
        )
        assert accounts_purge_expired().deleted == 1
    customer.refresh_from_db()
    assert customer.login_account_id is not None  # nobody told the library yet

    assert poll() == {"bind": 1, "oost": 0}
    customer.refresh_from_db()
    assert customer.login_account_id is None and customer.login_account_lapsed
    assert KBEventCursor.objects.get(library__code="bind").cursor > 0
    # Read once: the next run finds nothing new.
    assert poll() == {"bind": 0, "oost": 0}


def test_an_account_the_member_deleted_leaves_an_audit_row_at_the_library(
    library_role: None, customer: Customer
) -> None:
    from bieb.kb.self_service import account_remove

    assert customer.login_account_id is not None
    with kb_elsewhere():
        assert account_remove(account_id=customer.login_account_id, reason="member", actor="lid")
    assert poll() == {"bind": 1, "oost": 0}
    customer.refresh_from_db()
    assert customer.login_account_id is None and not customer.login_account_lapsed
    assert AuditEvent.objects.filter(
        action="customer.login_account_deleted", object_id=str(customer.pk)
    ).exists()


def test_in_process_nothing_is_polled(demo: None) -> None:
    assert poll() == {}
    assert not KBEventCursor.objects.exists()


def test_a_kb_that_does_not_answer_leaves_the_cursor_for_the_next_run(
    demo: None, settings: object
) -> None:
    from tests.kb.contract.test_unavailable import free_port

    settings.BIEB_KB_ADAPTER = "http"  # type: ignore[attr-defined]
    settings.BIEB_KB_URL = f"http://127.0.0.1:{free_port()}"  # type: ignore[attr-defined]
    settings.BIEB_KB_CLIENT_ID = CLIENT_ID  # type: ignore[attr-defined]
    settings.BIEB_KB_CLIENT_SECRET = CLIENT_SECRET  # type: ignore[attr-defined]
    assert poll() == {"bind": "KB niet bereikbaar", "oost": "KB niet bereikbaar"}
    assert set(KBEventCursor.objects.values_list("cursor", flat=True)) == {0}
