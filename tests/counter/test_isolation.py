"""The isolation walk: every URL of the counter, for every role, asked about the other library's
customers. Staff of one library never see or change another library's customer: a customer
number of another library is a 404, and anyone without a library goes to the login page."""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern

from bieb.audit.models import AuditEvent
from bieb.counter import urls as counter_urls
from bieb.customers.models import Customer, LedgerLine
from bieb.kb.models import LoginAccount
from bieb.staff.models import User

pytestmark = pytest.mark.django_db

# What each URL is posted, so that a request that got through would really change something.
POST_DATA = {
    "payment": {"amount": "10,00", "method": "pin"},
    "account_link": {"username": "iemand"},
    "customer_edit": {"surname": "Gewijzigd", "initials": "X.", "birth_date": "01-01-1980"},
    "membership_cancel": {"reason": "verhuisd", "per": "direct"},
    "membership_change": {"subscription_type": "0141"},
    "storno": {"reason": "Vergissing"},
    "refund": {"amount": "1,00", "method": "pin", "reason": "Vergissing"},
    "write_off": {"amount": "1,00", "reason": "Vergissing"},
}
# URLs that name no customer: nothing of another library's customers may show in them.
WITHOUT_CUSTOMER = {
    "home",
    "login",
    "logout",
    "search",
    "search_results",
    "new_customer",
    "finance_open",
    "finance_open_csv",
    "finance_cash",
    "finance_runs",
    "finance_incasso",
    "finance_files_make",
    "finance_returns_upload",
    # A POST names customers by id: tests/counter/test_incasso_open.py posts another library's.
    "finance_open_amounts_plan",
    # Statistiek reads the library's figures only (tests/counter/test_statistics.py).
    "statistics",
}
# URLs that name a renewal run: tests/counter/test_finance.py asks them about another
# library's run; those that name a debit file or return file (and its item):
# tests/counter/test_incasso.py asks them about another library's.
WITH_RUN = {"finance_run"}
WITH_DEBIT_FILE = {
    "finance_batch_download",
    "finance_batch_sent",
    "finance_return_file",
    "finance_return_handled",
}


def _patterns() -> list[URLPattern]:
    patterns = [p for p in counter_urls.urlpatterns if isinstance(p, URLPattern)]
    assert len(patterns) == len(counter_urls.urlpatterns), "walk nested includes too"
    return patterns


def _with_customer(pattern: URLPattern) -> bool:
    if pattern.name in WITH_RUN | WITH_DEBIT_FILE:
        return False
    keys = set(pattern.pattern.converters)
    assert keys <= {"number", "pk"}, f"{pattern.name}: teach the walk about {keys}"
    return "number" in keys


def _path(pattern: URLPattern, number: str, customer: Customer | None = None) -> str:
    """The URL for this customer number; a membership or ledger line in it is `customer`'s
    (a real one: a request that got through would change it)."""
    route = str(pattern.pattern).replace("<str:number>", number)
    if "<int:pk>" in route:
        assert customer is not None
        things = customer.ledger_lines if "boekingen" in route else customer.memberships
        route = route.replace(
            "<int:pk>", str(things.order_by("pk").values_list("pk", flat=True)[0])
        )
    return "/balie/" + route


def _state(customer: Customer) -> tuple[object, ...]:
    customer.refresh_from_db()
    return (
        customer.surname,
        customer.login_account_id,
        LedgerLine.objects.filter(customer=customer).count(),
        LoginAccount.objects.filter(username=customer.number).count(),
        list(
            customer.memberships.values_list(
                "cancelled_at", "next_subscription_type_id", "valid_through", "status"
            )
        ),
    )


@pytest.mark.parametrize("role", ["balie", "manager", "balie-oost", "beheer", "anonymous"])
def test_no_counter_url_reaches_another_librarys_customer(
    role: str, tester: Customer, oost_customer: Customer
) -> None:
    client = Client()
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    # The customer this role must not reach: for balie the one of Oost, for the others Bind's.
    # (manager: Bind's, with the finance role: also the open amounts with the saldo of both)
    bind_staff = role in ("balie", "manager")
    other = oost_customer if bind_staff else tester
    own = tester if bind_staff else oost_customer if role == "balie-oost" else None
    before = _state(other)
    audit_before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    checked = 0
    for pattern in _patterns():
        if not _with_customer(pattern):
            continue
        path = _path(pattern, other.number, other)
        for method in ("get", "post"):
            data = {"once": str(uuid.uuid4()), **POST_DATA.get(str(pattern.name), {})}
            response = getattr(client, method)(path, data if method == "post" else None)
            if role in ("balie", "manager", "balie-oost"):
                assert response.status_code == 404, (pattern.name, method, response.status_code)
            else:
                assert response.status_code == 302, (pattern.name, method)
                assert response["Location"].startswith("/balie/inloggen/"), pattern.name
            checked += 1
        if own is not None and "<int:pk>" in str(pattern.pattern):
            # the role's own customer with the other's membership or line: not found either
            data = {"once": str(uuid.uuid4()), **POST_DATA.get(str(pattern.name), {})}
            response = client.post(_path(pattern, own.number, other), data)
            assert response.status_code == 404, (pattern.name, response.status_code)
        if own is not None:
            # the same URL with the role's own customer does work (so the 404 means something)
            response = client.get(_path(pattern, own.number, own))
            assert response.status_code in (200, 302), (pattern.name, response.status_code)
            if response.status_code == 302:
                assert not response["Location"].startswith("/balie/inloggen/")
    assert checked == 2 * sum(_with_customer(p) for p in _patterns()) >= 28

    for pattern in _patterns():
        if _with_customer(pattern) or pattern.name in (
            "login",
            "logout",
            *WITH_RUN,
            *WITH_DEBIT_FILE,
        ):
            continue
        assert pattern.name in WITHOUT_CUSTOMER, f"{pattern.name}: add it to the walk"
        path = _path(pattern, "")
        for query in (other.number, other.surname, "9468 BG 41", other.email):
            response = client.get(path, {"q": query})
            body = b"".join(response.streaming_content) if response.streaming else response.content
            content = body.decode()
            # the query itself is echoed in the search field; the customer never shows
            assert f"/balie/klanten/{other.number}/" not in content, (pattern.name, query)
            assert other.display_name not in content, (pattern.name, query)
            if role not in ("balie", "manager", "balie-oost"):
                assert response.status_code == 302, pattern.name
    assert _state(other) == before
    assert (
        not AuditEvent.objects.filter(pk__gt=audit_before, library=other.library)
        .exclude(action="counter.login")
        .exists()
    )


def test_the_walk_knows_every_counter_url() -> None:
    names = {p.name for p in _patterns()}
    with_customer = {p.name for p in _patterns() if _with_customer(p)}
    assert names == with_customer | WITHOUT_CUSTOMER | WITH_RUN | WITH_DEBIT_FILE
