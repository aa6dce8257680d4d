"""'Verlengen' books the next period once: a second renewal before that period has begun is
refused, whoever asks (the counter from two tabs, the member's link after the desk), rather
than booking a year further ahead."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bieb.customers.memberships import membership_renew
from bieb.customers.models import LedgerKind, LedgerLine, MembershipPeriod, PeriodState
from bieb.customers.services import customer_register
from bieb.customers.validators import HouseNumber
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details

pytestmark = pytest.mark.django_db


def test_an_early_renewal_is_booked_once(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    customer = customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(house=HouseNumber(41)),
        subscription_type=digital_only,
    ).customer
    membership = customer.memberships.get()
    first = membership.valid_through
    period = membership_renew(membership=membership, actor=balie)
    assert period.start.toordinal() == first.toordinal() + 1
    with pytest.raises(ValidationError) as error:
        membership_renew(membership=membership, actor=balie)
    assert error.value.messages == [f"Dit abonnement is al verlengd t/m {period.end:%d-%m-%Y}."]
    booked = MembershipPeriod.objects.filter(membership=membership, state=PeriodState.BOOKED)
    assert booked.count() == 2
    fees = LedgerLine.objects.filter(customer=customer, kind=LedgerKind.FEE)
    assert [line.amount for line in fees] == [Decimal("42.00"), Decimal("42.00")]
