"""The login service's copies of many memberships updated at once (the renewal run)."""

import datetime as dt

import pytest

from bieb.kb.interface import MembershipData
from bieb.kb.models import AccountOrigin, LinkedMembership, LoginAccount
from bieb.kb.services import memberships_update

pytestmark = pytest.mark.django_db


def _data(number: str, **changes: object) -> MembershipData:
    values: dict[str, object] = {
        "library_code": "bind",
        "library_name": "Bibliotheken Bind",
        "customer_number": number,
        "subscription_code": "0110",
        "digital_rights": "volledig",
        "valid_through": dt.date(2026, 5, 31),
        "state": "actief",
        "pay_url": "",
        "starts_on": dt.date(2024, 6, 12),
        "period_through": dt.date(2026, 5, 31),
        "physical_loans": True,
    }
    values.update(changes)
    return MembershipData(**values)  # type: ignore[arg-type]


def test_each_copy_gets_its_own_values_and_others_are_left_alone() -> None:
    account = LoginAccount.objects.create(
        username="lid-een", email="een@example.nl", origin=AccountOrigin.COUNTER, state="actief"
    )
    for library_code, number in [("bind", "1"), ("bind", "2"), ("bind", "3"), ("oost", "1")]:
        LinkedMembership.objects.create(
            account=account,
            library_code=library_code,
            library_name=library_code,
            customer_number=number,
            subscription_code="0101",
            digital_rights="jeugd",
            valid_through=dt.date(2025, 5, 31),
            state="actief",
        )

    count = memberships_update(
        memberships=[
            _data("1", valid_through=dt.date(2026, 5, 31)),
            _data(
                "2",
                valid_through=None,
                starts_on=dt.date(2025, 1, 1),
                period_through=None,
                physical_loans=False,
                state="wacht_op_betaling",
                pay_url="https://bieb.example/betalen/verlengen/x/",
            ),
            _data("9"),  # no copy: nothing to update
        ]
    )

    assert count == 2
    copies = {
        (m.library_code, m.customer_number): (
            m.subscription_code,
            m.valid_through,
            m.state,
            m.pay_url,
            m.starts_on,
            m.period_through,
            m.physical_loans,
        )
        for m in LinkedMembership.objects.all()
    }
    untouched = ("0101", dt.date(2025, 5, 31), "actief", "", None, None, False)
    assert copies == {
        ("bind", "1"): (
            "0110",
            dt.date(2026, 5, 31),
            "actief",
            "",
            dt.date(2024, 6, 12),
            dt.date(2026, 5, 31),
            True,
        ),
        ("bind", "2"): (
            "0110",
            None,
            "wacht_op_betaling",
            "https://bieb.example/betalen/verlengen/x/",
            dt.date(2025, 1, 1),
            None,
            False,
        ),
        ("bind", "3"): untouched,
        ("oost", "1"): untouched,
    }
    assert memberships_update(memberships=[]) == 0
