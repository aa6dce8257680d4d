"""The move from usernames to account ids finds each customer's account through the login
service's own link of that customer's membership, never through the username: a customer
whose unactivated account was purged and whose name a stranger took since is marked lapsed,
not given the stranger's account."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# On PostgreSQL only, the engine the data was migrated on: taking the migrations back and
# forth is among the slowest tests, and SQLite rebuilds a table for each change of it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = [
    ("customers", "0004_search_indexes"),
    ("kb", "0003_attempts_moved_to_core"),
    ("libraries", "0003_constraint_messages"),
]
AFTER = [("customers", "0005_customer_login_account_id")]


def test_usernames_become_account_ids_through_the_kbs_links() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Library = apps.get_model("libraries", "Library")
    Branch = apps.get_model("libraries", "Branch")
    Customer = apps.get_model("customers", "Customer")
    LoginAccount = apps.get_model("kb", "LoginAccount")
    LinkedMembership = apps.get_model("kb", "LinkedMembership")
    library = Library.objects.create(code="mig", name="Migratie", customer_number_prefix="777")
    branch = Branch.objects.create(library=library, number="7770", name="Centrum")

    def customer(number: str, username: str) -> object:
        return Customer.objects.create(
            library=library,
            number=number,
            initials="A.",
            surname="Klant",
            birth_date=dt.date(1980, 1, 1),
            registered_branch=branch,
            login_username=username,
        )

    def account(username: str) -> object:
        return LoginAccount.objects.create(
            id=uuid.uuid4(),
            username=username,
            email=f"{username}@example.nl",
            origin="balie",
            state="actief",
        )

    own = account("77700000000011")
    LinkedMembership.objects.create(
        account=own,
        library_code="mig",
        library_name="Migratie",
        customer_number="77700000000011",
        subscription_code="0141",
        digital_rights="compleet",
    )
    kept = customer("77700000000011", "77700000000011")
    account("77700000000029")  # a stranger's account with the purged customer's name
    purged = customer("77700000000029", "77700000000029")
    without = customer("77700000000037", "")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Customer = apps.get_model("customers", "Customer")
    rows = {c.pk: (c.login_account_id, c.login_account_lapsed) for c in Customer.objects.all()}
    assert rows[kept.pk] == (own.pk, False)  # type: ignore[attr-defined]
    assert rows[purged.pk] == (None, True)  # type: ignore[attr-defined]
    assert rows[without.pk] == (None, False)  # type: ignore[attr-defined]
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
