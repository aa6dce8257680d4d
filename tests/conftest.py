"""Shared fixtures. Tests that touch the database are marked `data` automatically, so that
`make test` can run them a second time on PostgreSQL."""

import os

import pytest
from django.db import connection

from bieb.demo.loader import demo_load
from bieb.libraries.models import Branch, Library, SubscriptionType, Tariff
from bieb.staff.models import User

DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("django_db") or fixtures & DB_FIXTURES:
            item.add_marker(pytest.mark.data)


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and not os.environ.get("BIEB_TEST_ON_POSTGRES"):
        pytest.skip("needs PostgreSQL; runs in the PostgreSQL pass of `make test`")


@pytest.fixture
def demo(db: None) -> None:
    """The demo libraries, subscription types, tariffs and staff."""
    demo_load()


@pytest.fixture
def bind(demo: None) -> Library:
    return Library.objects.get(code="bind")


@pytest.fixture
def oost(demo: None) -> Library:
    return Library.objects.get(code="oost")


@pytest.fixture
def branch_5280(demo: None) -> Branch:
    return Branch.objects.get(number="5280")


@pytest.fixture
def balie(demo: None) -> User:
    return User.objects.get(username="balie")


@pytest.fixture
def balie_oost(demo: None) -> User:
    return User.objects.get(username="balie-oost")


@pytest.fixture
def digital_only(bind: Library) -> SubscriptionType:
    return SubscriptionType.objects.get(library=bind, code="0141")


@pytest.fixture
def youth(bind: Library) -> SubscriptionType:
    return SubscriptionType.objects.get(library=bind, code="0101")


@pytest.fixture
def adult(bind: Library) -> SubscriptionType:
    return SubscriptionType.objects.get(library=bind, code="0110")


@pytest.fixture
def gratis(bind: Library) -> Tariff:
    return Tariff.objects.get(library=bind, code="0001")


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


from tests.browser import browser_page, browser_page_for, chromium  # noqa: E402,F401
from tests.kb_outbox import kb_calls_after_commit  # noqa: E402,F401  (the KB calls after commit)
from tests.redis import redis_server  # noqa: E402,F401  (a Redis server of its own)
from tests.smtp import smtp_server  # noqa: E402,F401  (a real SMTP server, for every test tree)
