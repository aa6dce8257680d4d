"""Migration customers 0009: every membership registered before the membership year becomes
one booked period; its fee and discount lines hang on it (payments do not); an active
membership keeps its rights through its valid-through date, one awaiting payment gets none."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# On PostgreSQL only, the engine the data was migrated on: taking the migrations back and
# forth is among the slowest tests, and SQLite rebuilds a table for each change of it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

# The libraries' later migrations are taken back too: the historical Library model inserted
# here must have the columns the table has.
BEFORE = [("customers", "0008_membership_year"), ("libraries", "0004_membership_year_settings")]
AFTER = [("customers", "0009_periods_from_memberships")]


def test_existing_memberships_become_one_booked_period() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Library = apps.get_model("libraries", "Library")
    Branch = apps.get_model("libraries", "Branch")
    SubscriptionType = apps.get_model("libraries", "SubscriptionType")
    Tariff = apps.get_model("libraries", "Tariff")
    Customer = apps.get_model("customers", "Customer")
    Membership = apps.get_model("customers", "Membership")
    LedgerLine = apps.get_model("customers", "LedgerLine")
    library = Library.objects.create(code="mig9", name="Migratie", customer_number_prefix="779")
    branch = Branch.objects.create(library=library, number="7790", name="Centrum")
    digital = SubscriptionType.objects.create(
        library=library, code="0141", name="Digital only", price=Decimal("42"), renewal="vast"
    )
    tariff = Tariff.objects.create(library=library, code="0002", name="standaard", kind="standaard")

    def membership(number: str, status: str) -> object:
        customer = Customer.objects.create(
            library=library,
            number=number,
            initials="A.",
            surname="Klant",
            birth_date=dt.date(1980, 1, 1),
            registered_branch=branch,
        )
        made = Membership.objects.create(
            library=library,
            customer=customer,
            subscription_type=digital,
            tariff=tariff,
            branch=branch,
            start_date=dt.date(2024, 6, 12),
            expiry_month=5,
            valid_through=dt.date(2025, 5, 31),
            status=status,
        )
        for kind, amount in [("abonnementskosten", "42"), ("korting", "-2")]:
            LedgerLine.objects.create(
                library=library,
                customer=customer,
                membership=made,
                kind=kind,
                amount=Decimal(amount),
                description=kind,
            )
        return made

    active = membership("77900000000011", "actief")
    waiting = membership("77900000000029", "wacht_op_betaling")
    LedgerLine.objects.create(
        library=library,
        customer=active.customer,  # type: ignore[attr-defined]
        membership=active,
        kind="betaling",
        amount=Decimal("-40"),
        method="pin",
        description="Betaling",
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Membership = apps.get_model("customers", "Membership")
    MembershipPeriod = apps.get_model("customers", "MembershipPeriod")
    LedgerLine = apps.get_model("customers", "LedgerLine")
    for made in (active, waiting):
        (period,) = MembershipPeriod.objects.filter(membership_id=made.pk)  # type: ignore[attr-defined]
        assert (period.start, period.end, period.state) == (
            dt.date(2024, 6, 12),
            dt.date(2025, 5, 31),
            "geboekt",
        )
        assert (period.fee, period.discount_amount) == (Decimal("42.00"), Decimal("2.00"))
        lines = LedgerLine.objects.filter(membership_id=made.pk)  # type: ignore[attr-defined]
        assert {(line.kind, line.period_id) for line in lines} >= {
            ("abonnementskosten", period.pk),
            ("korting", period.pk),
        }
    assert LedgerLine.objects.get(kind="betaling").period_id is None
    rights = dict(Membership.objects.values_list("pk", "rights_through"))
    assert rights[active.pk] == dt.date(2025, 5, 31)  # type: ignore[attr-defined]
    assert rights[waiting.pk] is None  # type: ignore[attr-defined]
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
