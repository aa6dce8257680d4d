"""The member's sign-in at the KB is their consent to link the new membership to their account
(bieb.kb.consent): the sign-up keeps its ID token until the payment settles, the registration
hands it to the KB call, and neither keeps it once that call is done or refused."""

import pytest

from bieb.customers.models import Customer
from bieb.kb.consent import ID_TOKEN_REFUSED
from bieb.kb.models import LinkedMembership
from bieb.kboutbox.models import KBCall, KBCallKind, KBCallState
from bieb.libraries.models import Library, SubscriptionType
from bieb.signup.models import Signup
from tests.kb.api.test_accounts import id_token_for
from tests.signup.factories import active_account, start_payment
from tests.signup.test_double_signup import pay

pytestmark = pytest.mark.django_db


def test_the_sign_in_is_handed_to_the_link_and_dropped_once_it_is_done(
    bind: Library, digital_only: SubscriptionType
) -> None:
    member = active_account("e.b.tester")
    payment = start_payment(bind, digital_only, id_token=id_token_for(member))
    assert Signup.objects.get().id_token  # kept while the payment is open

    pay(payment)

    customer = Customer.objects.get()
    assert LinkedMembership.objects.filter(
        account=member, library_code="bind", customer_number=customer.number
    ).exists()
    call = KBCall.objects.get(kind=KBCallKind.ACCOUNT_LINK_OWN)
    assert call.state == KBCallState.DONE
    assert "id_token" not in call.payload
    assert Signup.objects.get().id_token == ""


def test_someone_elses_sign_in_links_nothing_and_the_call_says_why(
    bind: Library, digital_only: SubscriptionType
) -> None:
    member = active_account("e.b.tester")
    stranger = active_account("iemand.anders")
    pay(start_payment(bind, digital_only, id_token=id_token_for(stranger)))

    assert not LinkedMembership.objects.filter(account=member).exists()
    call = KBCall.objects.get(kind=KBCallKind.ACCOUNT_LINK_OWN)
    assert (call.state, call.last_error) == (KBCallState.REFUSED, ID_TOKEN_REFUSED)
    assert "id_token" not in call.payload
