"""bulk_insert writes the rows bulk_create would (COPY on PostgreSQL, bulk_create on SQLite)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from bieb.core.bulk import bulk_insert
from bieb.customers.models import MembershipPeriod, PeriodState
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage, OutboxStatus
from bieb.staff.models import User
from tests.customers.year import member

# What COPY's text format has to escape, and what a member's name may hold.
AWKWARD = "Ĳsbrand \\N d'Éeckhout\t\"O'Brien\"\r\nregel 2 \\ \u00e9\u00e8 \U0001f4da"


LATER = dt.datetime(2026, 12, 2, 13, 5, 0, 123456, tzinfo=dt.UTC)


def _messages(n: int, later: dt.datetime = LATER) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            to=f"lid{i}@example.nl",
            subject=f"Onderwerp {i} {AWKWARD}",
            text_body=AWKWARD * (i + 1),
            html_body="",
            kind="customers.renewal_automatic",
            reference=str(i),
            message_id=f"<{i}@bieb.test>",
            status=OutboxStatus.QUEUED,
            next_attempt_at=later if i % 2 else None,
        )
        for i in range(n)
    ]


def _stored(pks: list[int]) -> list[dict[str, object]]:
    rows = OutboxMessage.objects.filter(pk__in=pks).order_by("pk")
    return [
        {k: v for k, v in model_to_dict(row).items() if k not in {"id", "created_at"}}
        for row in rows
    ]


@pytest.mark.django_db
def test_the_rows_are_the_ones_bulk_create_writes_and_the_instances_get_their_ids() -> None:
    before = timezone.now()
    copied = bulk_insert(OutboxMessage, _messages(5))
    created = OutboxMessage.objects.bulk_create(_messages(5))

    ids = [m.pk for m in copied]
    assert all(ids) and len(set(ids)) == 5
    assert _stored(ids) == _stored([m.pk for m in created])
    for message in copied:
        stored = OutboxMessage.objects.get(pk=message.pk)
        assert stored.text_body == message.text_body
        assert stored.created_at == message.created_at >= before  # auto_now_add stamped
    # The next insert draws new ids after these.
    (one,) = bulk_insert(OutboxMessage, _messages(1))
    assert one.pk > max(ids)
    assert bulk_insert(OutboxMessage, []) == []


@pytest.mark.django_db
def test_a_violated_unique_key_writes_nothing(
    balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, dt.date(2026, 6, 1))
    start = membership.valid_through + dt.timedelta(days=1)

    def period(first: dt.date) -> MembershipPeriod:
        return MembershipPeriod(
            library_id=membership.library_id,
            membership=membership,
            subscription_type=adult,
            tariff_id=membership.tariff_id,
            start=first,
            end=first + dt.timedelta(days=364),
            fee=Decimal("64.50"),
            state=PeriodState.BOOKED,
        )

    count = MembershipPeriod.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(MembershipPeriod, [period(start), period(start + dt.timedelta(days=400))])
        bulk_insert(MembershipPeriod, [period(start)])
    assert MembershipPeriod.objects.count() == count


@pytest.mark.django_db
def test_bulk_set_gives_each_row_its_own_value_across_parts() -> None:
    from bieb.core.bulk import bulk_set

    rows = bulk_insert(OutboxMessage, _messages(1003))
    chosen = {m.pk: f"ref-{i}" for i, m in enumerate(rows) if i != 5}

    assert bulk_set(OutboxMessage, "reference", chosen) == 1002
    stored = dict(OutboxMessage.objects.values_list("pk", "reference"))
    assert all(stored[pk] == value for pk, value in chosen.items())
    assert stored[rows[5].pk] == "5"  # left alone
    assert bulk_set(OutboxMessage, "reference", {}) == 0
