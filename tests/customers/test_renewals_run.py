"""The renewal run as the bench drives it: many memberships at once. What each member gets
(period, ledger lines, mail text) is what the single-membership rules say, the statements per
chunk do not grow with the members in it, and a second run of the day does nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.memberships import SUBJECTS, mail_context
from bieb.customers.models import (
    Customer,
    LedgerKind,
    LedgerLine,
    Membership,
    MembershipPeriod,
    PaymentMethod,
    PeriodState,
)
from bieb.customers.renewals import renewals_run
from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, Discount, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.factories import details

pytestmark = pytest.mark.django_db

JUNE_12 = dt.date(2024, 6, 12)  # registered: valid through 31 May 2025
RUN_DAY = dt.date(2025, 5, 2)  # 31 May within the 30 days' lead


def _member(
    n: int,
    *,
    actor: User,
    branch: Branch,
    subscription: SubscriptionType,
    birth: dt.date = dt.date(1980, 3, 1),
    email: bool = True,
    discount: Discount | None = None,
) -> Membership:
    with time_machine.travel(dt.datetime(2024, 6, 12, 10, 0, tzinfo=dt.UTC), tick=False):
        return _register(n, actor, branch, subscription, birth, email, discount)


def _register(
    n: int,
    actor: User,
    branch: Branch,
    subscription: SubscriptionType,
    birth: dt.date,
    email: bool,
    discount: Discount | None,
) -> Membership:
    """Registered and paid at the desk on 12 June 2024: active through 31 May 2025."""
    registration = customer_register(
        actor=actor,
        branch=branch,
        subscription_type=subscription,
        details=details(
            surname=f"Verlenger{n}",
            initials="A.",
            birth_date=birth,
            postcode=f"{9400 + n}AB",
            email=f"lid{n}@example.nl",
        ),
        discount=discount,
        on=JUNE_12,
    )
    if registration.costs.amount > 0:
        ledger_payment_book(
            actor=actor,
            customer=registration.customer,
            amount=registration.costs.amount,
            method=PaymentMethod.PIN,
            membership=registration.membership,
            branch=branch,
        )
    if not email:  # an address removed later (a login account needs one at registration)
        Customer.objects.filter(pk=registration.customer.pk).update(email="")
    return registration.membership


def _members(count: int, *, actor: User, branch: Branch, adult: SubscriptionType) -> None:
    for n in range(count):
        _member(n, actor=actor, branch=branch, subscription=adult)


def _run(library: Library) -> object:
    with time_machine.travel(dt.datetime(2025, 5, 2, 6, 0, tzinfo=dt.UTC), tick=False):
        return renewals_run(library=library, day=RUN_DAY, started_by="test")


def test_a_mixed_run_books_offers_and_mails_each_member_as_the_rules_say(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    adult: SubscriptionType,
    youth: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    cjp = Discount.objects.get(library=bind, code="CJP")
    automatic = _member(1, actor=balie, branch=branch_5280, subscription=adult)
    discounted = _member(2, actor=balie, branch=branch_5280, subscription=adult, discount=cjp)
    no_mail = _member(3, actor=balie, branch=branch_5280, subscription=adult, email=False)
    # 17 at registration, 18 on 1 June 2025: the adult type and tariff from then on.
    turning = _member(
        4, actor=balie, branch=branch_5280, subscription=youth, birth=dt.date(2007, 5, 20)
    )
    child = _member(
        5, actor=balie, branch=branch_5280, subscription=youth, birth=dt.date(2015, 1, 1)
    )
    fixed = _member(6, actor=balie, branch=branch_5280, subscription=digital_only)

    run = _run(bind)

    assert (run.booked, run.offered, run.mailed) == (5, 1, 5)
    assert run.booked_amount == Decimal("64.50") * 4 - Decimal("16.13")
    assert run.offered_amount == Decimal("42.00")
    periods = {p.membership_id: p for p in MembershipPeriod.objects.filter(renewal_run=run)}
    assert periods[fixed.pk].state == PeriodState.OFFERED
    assert periods[turning.pk].subscription_type.code == "0110"
    assert periods[turning.pk].amount == Decimal("64.50")
    assert periods[child.pk].amount == 0
    assert periods[discounted.pk].discount_amount == Decimal("16.13")
    for membership in (automatic, discounted, no_mail, turning, child):
        period = periods[membership.pk]
        assert (period.start, period.end) == (dt.date(2025, 6, 1), dt.date(2026, 5, 31))
        assert period.state == PeriodState.BOOKED
        membership.refresh_from_db()
        assert membership.valid_through == dt.date(2026, 5, 31)
        assert membership.subscription_type_id == period.subscription_type_id
        assert membership.tariff_id == period.tariff_id
    assert membership.expiry_month == 5
    turning.refresh_from_db()
    assert turning.subscription_type.code == "0110"
    # A free period is paid at once; a fee waits for its payment.
    child.refresh_from_db()
    automatic.refresh_from_db()
    assert child.rights_through == dt.date(2026, 5, 31)
    assert automatic.rights_through == dt.date(2025, 5, 31)
    lines = LedgerLine.objects.filter(period__renewal_run=run)
    assert sorted((line.kind, line.amount) for line in lines) == sorted(
        [(LedgerKind.FEE, Decimal("64.50"))] * 4 + [(LedgerKind.DISCOUNT, Decimal("-16.13"))]
    )
    fee = lines.get(membership=automatic, kind=LedgerKind.FEE)
    assert fee.description == "0110 Volwassen Compleet € 64,50 /12 mnd, Geldig t/m mei 2026"
    assert not OutboxMessage.objects.filter(reference=str(periods[no_mail.pk].pk)).exists()

    # Each mail is the template rendered for that member alone.
    with time_machine.travel(dt.datetime(2025, 5, 2, 6, 0, tzinfo=dt.UTC), tick=False):
        for membership in (automatic, discounted, turning, child, fixed):
            membership.refresh_from_db()
            period = periods[membership.pk]
            kind = "renewal_fixed" if membership == fixed else "renewal_automatic"
            message = OutboxMessage.objects.get(reference=str(period.pk))
            context = mail_context(membership.customer, membership, period, bind)
            assert message.kind == f"customers.{kind}"
            assert message.to == membership.customer.email
            assert message.subject == SUBJECTS[kind].format(
                library=bind.name, old_end=context["old_end"]
            )
            assert message.text_body == get_template(f"customers/mail/{kind}.txt").render(context)
    assert "betalen" in OutboxMessage.objects.get(reference=str(periods[fixed.pk].pk)).text_body


def test_a_second_run_of_the_day_books_and_mails_nothing(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    _members(3, actor=balie, branch=branch_5280, adult=adult)
    first = _run(bind)
    second = _run(bind)

    assert (first.booked, first.mailed) == (3, 3)
    assert (second.booked, second.offered, second.mailed) == (0, 0, 0)
    assert MembershipPeriod.objects.filter(start=dt.date(2025, 6, 1)).count() == 3
    assert OutboxMessage.objects.filter(kind="customers.renewal_automatic").count() == 3


def test_the_statements_of_a_run_do_not_grow_with_its_members(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    from bieb.libraries.models import Library as LibraryModel

    oost = LibraryModel.objects.get(code="oost")
    # Configured alike (Bind collects by direct debit: one more query per chunk).
    LibraryModel.objects.filter(pk=oost.pk).update(
        creditor_id=bind.creditor_id, creditor_iban=bind.creditor_iban
    )
    oost.refresh_from_db()
    oost_balie = User.objects.get(username="balie-oost")
    oost_branch = Branch.objects.get(number="6100")
    oost_adult = SubscriptionType.objects.get(library=oost, code="0110")
    _members(2, actor=balie, branch=branch_5280, adult=adult)
    for n in range(10, 22):
        _member(n, actor=oost_balie, branch=oost_branch, subscription=oost_adult)

    with CaptureQueriesContext(connection) as few:
        assert _run(bind).booked == 2
    with CaptureQueriesContext(connection) as many:
        assert _run(oost).booked == 12

    assert len(many) == len(few)


def test_on_the_first_day_of_the_new_period_the_unpaid_wait_and_the_paid_go_on(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    paid = _member(1, actor=balie, branch=branch_5280, subscription=adult)
    unpaid = _member(2, actor=balie, branch=branch_5280, subscription=adult)
    _run(bind)
    with time_machine.travel(dt.datetime(2025, 5, 20, 10, 0, tzinfo=dt.UTC), tick=False):
        ledger_payment_book(
            actor=balie,
            customer=paid.customer,
            amount=Decimal("64.50"),
            method=PaymentMethod.PIN,
            membership=paid,
            branch=branch_5280,
        )

    with time_machine.travel(dt.datetime(2025, 6, 1, 6, 0, tzinfo=dt.UTC), tick=False):
        run = renewals_run(library=bind, day=dt.date(2025, 6, 1), started_by="test")

    assert run.awaiting == 1
    paid.refresh_from_db()
    unpaid.refresh_from_db()
    assert (paid.status, paid.rights_through) == ("actief", dt.date(2026, 5, 31))
    assert (unpaid.status, unpaid.rights_through) == ("wacht_op_betaling", dt.date(2025, 5, 31))


def test_a_mail_is_filled_in_from_its_template_rendered_once(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    from bieb.customers.renewals import _Mails

    first = _member(1, actor=balie, branch=branch_5280, subscription=adult)
    second = _member(2, actor=balie, branch=branch_5280, subscription=adult)
    run = _run(bind)
    mails = _Mails()
    for membership in (first, second):
        membership.refresh_from_db()
        period = MembershipPeriod.objects.get(renewal_run=run, membership=membership)
        context = mail_context(membership.customer, membership, period, bind)
        text = get_template("customers/mail/renewal_automatic.txt").render(context)
        assert mails.render("renewal_automatic", context) == text
    assert list(mails.stamps.values()) != [None]  # filled in, not rendered again


def test_free_periods_move_the_login_services_copies_in_statements_that_do_not_grow(
    bind: Library, oost: Library, balie: User, branch_5280: Branch, youth: SubscriptionType
) -> None:
    """A youth member's next period is free, so the run extends the rights at once, and the
    login service's copy with them: in one batch, not a statement or two per member."""
    from bieb.kb.models import LinkedMembership

    oost_balie = User.objects.get(username="balie-oost")
    oost_branch = Branch.objects.get(number="6100")
    oost_youth = SubscriptionType.objects.get(library=oost, code="0101")
    child = dt.date(2015, 1, 1)
    few = [
        _member(n, actor=balie, branch=branch_5280, subscription=youth, birth=child)
        for n in range(2)
    ]
    many = [
        _member(n, actor=oost_balie, branch=oost_branch, subscription=oost_youth, birth=child)
        for n in range(10, 22)
    ]
    assert all(m.customer.login_account_id for m in few + many)

    with CaptureQueriesContext(connection) as statements_few:
        assert _run(bind).booked == 2
    with CaptureQueriesContext(connection) as statements_many:
        assert _run(oost).booked == 12

    assert len(statements_many) == len(statements_few)
    for membership in few + many:
        membership.refresh_from_db()
        assert membership.rights_through == dt.date(2026, 5, 31)
        copy = LinkedMembership.objects.get(
            library_code=membership.library.code, customer_number=membership.customer.number
        )
        assert (copy.valid_through, copy.state, copy.pay_url) == (
            dt.date(2026, 5, 31),
            "actief",
            "",
        )
