"""What the login service's copy says of a membership whose rights ended, so that the member
can be told why at /online/: not renewed (with the link that renews and pays) or cancelled."""

import datetime as dt

import time_machine

from bieb.customers.memberships import membership_cancel
from bieb.customers.renewals import renewals_run
from bieb.customers.year import period_from_token
from bieb.kb.models import LinkedMembership
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.payments.year import at, member_registered, membership_of, renewal_link


def test_a_vast_membership_not_renewed_ends_with_its_renewal_link_in_the_kb_copy(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType, bind: Library
) -> None:
    member = member_registered(balie, branch_5280, digital_only)
    link = renewal_link(member)
    june_1 = dt.date(2025, 6, 1)
    with time_machine.travel(at(june_1)):
        renewals_run(library=bind, day=june_1, started_by="test")
    linked = LinkedMembership.objects.get(customer_number=member.number)
    assert (linked.state, linked.valid_through) == ("beeindigd", dt.date(2025, 5, 31))
    # a link to the same offered period (signed at another moment)
    with time_machine.travel(at(june_1)):
        token = linked.pay_url.rstrip("/").rsplit("/", 1)[1]
        same = period_from_token(link.rstrip("/").rsplit("/", 1)[1])
        assert period_from_token(token) == same and same is not None


def test_a_cancelled_membership_is_opgezegd_in_the_kb_copy_without_a_link(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    member = member_registered(balie, branch_5280, digital_only)
    renewal_link(member)
    with time_machine.travel(at(dt.date(2025, 5, 10))):
        membership_cancel(
            membership=membership_of(member), reason="prijs", at_once=True, actor=balie
        )
    linked = LinkedMembership.objects.get(customer_number=member.number)
    assert (linked.state, linked.pay_url) == ("opgezegd", "")
    assert linked.valid_through == dt.date(2025, 5, 9)
