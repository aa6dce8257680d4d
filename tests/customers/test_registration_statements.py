"""What one counter registration costs the database: the library commits once, then the KB
once (claim, call and answer together, the KB being in this process). Each commit is a
write to disk that the counter waits for; bench/registration.py times them."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bieb.customers.services import customer_register
from bieb.kb.models import LoginAccount
from bieb.kboutbox.models import KBCall, KBCallState
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details


@pytest.mark.django_db(transaction=True)
def test_a_registration_with_a_new_login_account_commits_twice(
    balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    with CaptureQueriesContext(connection) as queries:
        registration = customer_register(
            actor=balie,
            branch=branch_5280,
            details=details(),
            subscription_type=adult,
            registration_key=uuid.uuid4(),
        )
    commits = [q["sql"] for q in queries.captured_queries if q["sql"].upper() == "COMMIT"]
    assert len(commits) == 2
    customer = registration.customer
    assert LoginAccount.objects.filter(username=customer.number).count() == 1
    assert KBCall.objects.get(customer=customer).state == KBCallState.DONE
