import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bieb.audit.models import AuditEvent
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Customer, LedgerKind, LedgerLine, Membership, MembershipStatus
from bieb.customers.selectors import customer_saldo
from bieb.customers.services import LikelyDuplicate, customer_register
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details, link_code_for

pytestmark = pytest.mark.django_db

JUNE_12 = dt.date(2024, 6, 12)


def register(actor: User, branch: Branch, subscription: SubscriptionType, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("details", details())
    kwargs.setdefault("on", JUNE_12)
    return customer_register(actor=actor, branch=branch, subscription_type=subscription, **kwargs)  # type: ignore[arg-type]


def test_registering_the_seeds_customer_for_digital_only(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    registration = register(balie, branch_5280, digital_only)

    customer = Customer.objects.get(pk=registration.customer.pk)
    assert customer.display_name == "Mw. E.B. Tester"
    assert customer.postcode_display == "9468 BG"
    assert len(customer.number) == 14 and customer.number.startswith("25280")
    assert customer.library.code == "bind"
    assert customer.registered_branch.number == "5280"

    membership = Membership.objects.get(customer=customer)
    # Digital rights start when the period is paid (the library gives no payment term).
    assert membership.status == MembershipStatus.AWAITING_PAYMENT
    assert membership.rights_through is None
    assert (membership.start_date, membership.valid_through) == (JUNE_12, dt.date(2025, 5, 31))
    assert membership.expiry_month == 5
    assert membership.tariff.code == "0002"

    lines = list(LedgerLine.objects.filter(customer=customer))
    assert [(line.kind, line.amount) for line in lines] == [(LedgerKind.FEE, Decimal("42.00"))]
    assert customer_saldo(customer=customer) == Decimal("42.00")

    audit = AuditEvent.objects.get(action="customer.registered")
    assert audit.actor == balie and audit.actor_name == "balie"
    assert audit.library == customer.library
    assert audit.object_id == str(customer.pk)
    assert audit.data["number"] == customer.number


def test_a_payment_at_the_desk_brings_the_saldo_to_zero(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    customer = register(balie, branch_5280, digital_only).customer
    ledger_payment_book(actor=balie, customer=customer, amount=Decimal("42"), method="pin")
    assert customer_saldo(customer=customer) == Decimal("0.00")
    assert AuditEvent.objects.filter(action="ledger.payment_booked", actor=balie).count() == 1
    with pytest.raises(ValidationError) as refused:
        ledger_payment_book(actor=balie, customer=customer, amount=Decimal("0"), method="pin")
    assert "amount" in refused.value.message_dict


def test_under_18_gets_no_fee_line(
    balie: User, branch_5280: Branch, youth: SubscriptionType
) -> None:
    registration = register(
        balie, branch_5280, youth, details=details(birth_date=dt.date(2014, 2, 2))
    )
    assert registration.costs.tariff.code == "0001"
    assert not LedgerLine.objects.filter(customer=registration.customer).exists()
    assert customer_saldo(customer=registration.customer) == Decimal("0.00")


def test_no_login_account_is_refused_for_digital_rights(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError) as refused:
        register(balie, branch_5280, digital_only, use_login_account=False)
    message = refused.value.message_dict["use_login_account"][0]
    assert "Online Bibliotheek" in message and "Kies Ja" in message
    assert not Customer.objects.exists()


def test_a_login_account_needs_an_email(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError) as refused:
        register(balie, branch_5280, digital_only, details=details(email=""))
    assert "email" in refused.value.message_dict


def test_digital_only_has_no_card_so_no_scanned_number(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError) as refused:
        register(balie, branch_5280, digital_only, card_number="1234567890")
    assert "typ v en Enter" in refused.value.message_dict["number"][0]


def test_a_scanned_card_number_is_kept(
    balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    registration = register(balie, branch_5280, adult, card_number="2001234567890")
    assert registration.customer.number == "2001234567890"
    with pytest.raises(ValidationError) as refused:
        register(
            balie, branch_5280, adult, card_number="2001234567890", details=details(surname="Ander")
        )
    assert "al in gebruik" in refused.value.message_dict["number"][0]


def test_a_likely_duplicate_is_shown_and_can_be_confirmed(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    first = register(balie, branch_5280, digital_only).customer
    with pytest.raises(LikelyDuplicate) as warned:
        register(balie, branch_5280, digital_only, details=details(surname="TESTER"))
    assert warned.value.matches == [first]
    assert first.number in warned.value.messages[0]
    assert Customer.objects.count() == 1

    second = register(balie, branch_5280, digital_only, confirm_duplicate=True).customer
    assert second.number != first.number
    assert Customer.objects.count() == 2


def test_the_same_person_in_another_library_is_no_duplicate(
    balie: User,
    balie_oost: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
) -> None:
    register(balie, branch_5280, digital_only)
    oost_branch = Branch.objects.get(number="6100")
    oost_digital = SubscriptionType.objects.get(library=oost_branch.library, code="0141")
    registration = register(balie_oost, oost_branch, oost_digital)
    assert registration.customer.number.startswith("26100")


def test_a_repeated_submit_registers_once(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    key = uuid.uuid4()
    first = register(balie, branch_5280, digital_only, registration_key=key)
    again = register(balie, branch_5280, digital_only, registration_key=key)
    assert again.repeated and not first.repeated
    assert again.customer == first.customer
    assert Customer.objects.count() == 1
    assert LedgerLine.objects.count() == 1
    assert AuditEvent.objects.filter(action="customer.registered").count() == 1


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"confirm_duplicate": True}, id="confirmed-duplicate"),
        pytest.param({"card_number": "2001234567890"}, id="scanned-card"),
    ],
)
def test_a_repeated_submit_registers_once_whatever_stands_in_the_way(
    balie: User, branch_5280: Branch, adult: SubscriptionType, extra: dict[str, object]
) -> None:
    """The second submit meets the first one's customer (as a duplicate, a used card number or
    a unique key) and gets the first registration back instead of an error."""
    key = uuid.uuid4()
    first = register(balie, branch_5280, adult, registration_key=key, **extra)
    again = register(balie, branch_5280, adult, registration_key=key, **extra)
    assert again.repeated and again.customer == first.customer
    assert again.account is not None and again.account.id == first.customer.login_account_id
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.filter(action="customer.registered").count() == 1


def test_staff_cannot_register_for_another_library(
    balie_oost: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError):
        register(balie_oost, branch_5280, digital_only)
    assert not Customer.objects.exists()


def test_newsletter_consent_time_is_stored(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with_consent = register(balie, branch_5280, digital_only, details=details(newsletter=True))
    assert with_consent.customer.newsletter is True
    assert with_consent.customer.newsletter_consent_at is not None
    without = register(
        balie, branch_5280, digital_only, details=details(surname="Geen", newsletter=False)
    )
    assert without.customer.newsletter_consent_at is None


def test_a_failed_registration_leaves_nothing_behind(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError):
        register(balie, branch_5280, digital_only, details=details(birth_date=dt.date(2010, 1, 1)))
    assert not Customer.objects.exists()
    assert not Membership.objects.exists()
    assert not AuditEvent.objects.exists()


def test_registration_generates_a_login_account_named_after_the_customer_number(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    from bieb.kb import interface
    from bieb.kb.models import LinkedMembership, LoginAccount
    from bieb.mail.models import OutboxMessage

    registration = register(balie, branch_5280, digital_only)
    number = registration.customer.number
    # The account is made by the KB after the registration commits (its call in the library's
    # outbox), with the id the library chose and stored with the customer.
    assert registration.kb_call is not None and registration.account is None
    registration.kb_call.refresh_from_db()
    assert registration.kb_call.state == "done"
    account = interface.account_status_by_id(account_id=registration.customer.login_account_id)
    assert (account.username, account.email) == (number, "e.b.tester@example.nl")
    assert account.label.startswith("wacht op activering tot")
    assert (
        Customer.objects.get(pk=registration.customer.pk).login_account_id
        == LoginAccount.objects.get(username=number).pk
    )
    assert LoginAccount.objects.get(username=number).email == "e.b.tester@example.nl"
    linked = LinkedMembership.objects.get(customer_number=number)
    # The login service knows the membership, without rights until it is paid, and the link
    # where the member pays.
    assert (linked.library_code, linked.digital_rights, linked.valid_through, linked.state) == (
        "bind",
        "compleet",
        None,
        "wacht_op_betaling",
    )
    assert "/betalen/verlengen/" in linked.pay_url
    assert number in OutboxMessage.objects.get(to="e.b.tester@example.nl").text_body

    ledger_payment_book(
        actor=balie, customer=registration.customer, amount=Decimal("42"), method="pin"
    )
    linked.refresh_from_db()
    assert (linked.valid_through, linked.pay_url) == (dt.date(2025, 5, 31), "")


def test_the_moving_case_links_an_active_account_from_another_library(
    balie: User, balie_oost: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    from bieb.kb.models import AccountState, LinkedMembership, LoginAccount

    oost_branch = Branch.objects.get(number="6100")
    oost_digital = SubscriptionType.objects.get(library=oost_branch.library, code="0141")
    earlier = register(balie_oost, oost_branch, oost_digital).customer
    LoginAccount.objects.filter(username=earlier.number).update(state=AccountState.ACTIVE)

    moved = register(
        balie,
        branch_5280,
        digital_only,
        details=details(email="nieuw@example.nl"),
        existing_username=earlier.number,
        link_code=link_code_for(earlier.number, library=branch_5280.library, actor=balie),
    )
    # Linked by the KB after the commit; the library learns the account's id from its answer.
    assert moved.kb_call is not None and moved.kb_call.payload["username"] == earlier.number
    moved.customer.refresh_from_db()
    assert moved.customer.login_account_id == earlier.login_account_id
    assert LoginAccount.objects.count() == 1
    assert set(LinkedMembership.objects.values_list("library_code", flat=True)) == {"bind", "oost"}


def test_linking_an_unknown_account_registers_nothing(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    with pytest.raises(ValidationError) as refused:
        register(
            balie, branch_5280, digital_only, existing_username="bestaat-niet", link_code="123456"
        )
    assert "code klopt niet" in refused.value.message_dict["link_code"][0]
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_online_registration_has_no_staff_actor_and_waits_for_payment(
    branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    from bieb.kb.models import AccountState, LoginAccount
    from bieb.kb.services import account_create

    account_create(username="online.lid", email="o@example.nl", origin="online", actor="t")
    LoginAccount.objects.filter(username="online.lid").update(state=AccountState.ACTIVE)
    registration = customer_register(
        actor=None,
        branch=branch_5280,
        details=details(email="o@example.nl"),
        subscription_type=digital_only,
        account_id=LoginAccount.objects.get(username="online.lid").pk,
        on=JUNE_12,
    )
    assert registration.membership.status == MembershipStatus.AWAITING_PAYMENT
    assert registration.customer.login_account_id == LoginAccount.objects.get().pk
    audit = AuditEvent.objects.get(action="customer.registered")
    assert (audit.actor, audit.actor_name) == (None, "online:online.lid")
    with pytest.raises(ValueError):
        customer_register(
            actor=None, branch=branch_5280, details=details(), subscription_type=digital_only
        )
