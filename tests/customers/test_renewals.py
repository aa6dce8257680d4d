"""The daily renewal run for Doorlopend members: renewed and charged without doing anything,
reminders, rights that end, betalingsachterstand, uitgeschreven; cancellations; youth members
who turn 18; the command and the periodic job."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from bieb.audit.models import AuditEvent
from bieb.core.periodic import JOBS
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.memberships import membership_cancel, membership_change
from bieb.customers.models import LedgerKind, LedgerLine, MembershipStatus, PeriodState
from bieb.customers.renewals import renewals_run
from bieb.customers.year import customer_saldo_of
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.year import fresh, mails, member, on, periods, run

pytestmark = pytest.mark.django_db

D = dt.date


def statuses(membership: object) -> list[tuple[str, str, str]]:
    return [
        (e.data["from"], e.data["to"], e.data["on"])
        for e in AuditEvent.objects.filter(
            action="membership.status_changed",
            object_id=str(membership.pk),  # type: ignore[attr-defined]
        ).order_by("id")
    ]


def test_doorlopend_renews_and_charges_by_itself_then_reminds_then_ends(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12), first_name="Anna")
    assert (fresh(membership).status, fresh(membership).rights_through) == (
        "actief",
        D(2025, 5, 31),
    )
    assert run(bind, D(2025, 4, 30)).booked == 0

    renewed = run(bind, D(2025, 5, 1))
    assert (renewed.booked, renewed.booked_amount, renewed.mailed) == (1, Decimal("64.50"), 1)
    assert periods(membership)[-1] == (
        D(2025, 6, 1),
        D(2026, 5, 31),
        "0110",
        Decimal("64.50"),
        PeriodState.BOOKED,
    )
    assert customer_saldo_of(membership.customer_id) == Decimal("64.50")
    (mail,) = mails(membership, "renewal_automatic")
    assert mail.subject == "Je abonnement bij Bibliotheken Bind wordt verlengd"
    text = mail.text_body
    assert "Beste Anna" in text and "wordt vanzelf verlengd" in text
    assert "01-06-2025 t/m 31-05-2026" in text and "€ 64,50" in text
    assert "/betalen/verlengen/" in text and "aan de balie" in text  # how to pay
    assert "Zeg je abonnement dan vóór 01-06-2025 op" in text  # how to cancel
    # Booked before it starts: the rights of the paid period still run.
    assert (fresh(membership).status, fresh(membership).rights_through) == (
        "actief",
        D(2025, 5, 31),
    )

    # Reminders at 14 and 28 days after the mail, each once, also on a run of every day.
    sent = {}
    day = D(2025, 5, 2)
    while day <= D(2025, 6, 10):
        if reminders := run(bind, day).reminders:
            sent[day] = reminders
        day += dt.timedelta(days=1)
    assert sent == {D(2025, 5, 15): 1, D(2025, 5, 29): 1}
    first, second = mails(membership, "reminder_automatic")
    assert "Tweede herinnering" not in first.text_body and "€ 64,50" in first.text_body
    assert "Tweede herinnering" in second.text_body

    # 1 June unpaid: no rights, "wacht op betaling".
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("wacht_op_betaling", D(2025, 5, 31))
    assert not membership.has_rights_on(D(2025, 6, 1))

    # Two months after the start of the unpaid period: betalingsachterstand; a month later
    # uitgeschreven; each step audited.
    run(bind, D(2025, 7, 31))
    assert fresh(membership).status == MembershipStatus.AWAITING_PAYMENT
    run(bind, D(2025, 8, 1))
    assert fresh(membership).status == MembershipStatus.ARREARS
    run(bind, D(2025, 8, 31))
    assert fresh(membership).status == MembershipStatus.ARREARS
    run(bind, D(2025, 9, 1))
    membership = fresh(membership)
    assert membership.status == MembershipStatus.DEREGISTERED
    assert membership.get_status_display() == "uitgeschreven"
    assert statuses(membership)[-3:] == [
        ("actief", "wacht_op_betaling", "2025-06-01"),
        ("wacht_op_betaling", "betalingsachterstand", "2025-08-01"),
        ("betalingsachterstand", "uitgeschreven", "2025-09-01"),
    ]
    events = AuditEvent.objects.filter(action="membership.status_changed").order_by("-id")[:3]
    assert {e.actor_name for e in events} == {"verlengrun"}
    # Uitgeschreven is final: not renewed again in May 2026, and nothing left to cancel.
    assert run(bind, D(2026, 5, 1)).booked == 0
    with on(D(2026, 5, 2)), pytest.raises(ValidationError, match="al beëindigd"):
        membership_cancel(membership=membership, reason="verhuisd", actor=balie)


def test_later_betalen_at_registration_is_reminded_then_runs_into_arrears(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2025, 3, 3), pay=False)
    assert fresh(membership).status == MembershipStatus.AWAITING_PAYMENT
    assert run(bind, D(2025, 3, 16)).reminders == 0
    assert run(bind, D(2025, 3, 17)).reminders == 1  # 14 days after the registration
    assert run(bind, D(2025, 3, 31)).reminders == 1
    [first, second] = mails(membership, "reminder_automatic")
    assert "nog niet ontvangen" in first.text_body and "€ 64,50" in first.text_body
    assert "Tweede herinnering" in second.text_body
    assert "/betalen/verlengen/" in first.text_body
    run(bind, D(2025, 5, 3))
    assert fresh(membership).status == MembershipStatus.ARREARS


def test_a_catch_up_run_does_not_charge_a_new_year_to_whom_it_deregisters(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))  # the second year booked, never paid; then no runs for a year
    caught_up = run(bind, D(2026, 5, 15))
    assert (caught_up.deregistered, caught_up.booked) == (1, 0)
    assert fresh(membership).status == MembershipStatus.DEREGISTERED
    assert [p[0] for p in periods(membership)] == [D(2024, 6, 12), D(2025, 6, 1)]


def test_a_trial_run_ahead_counts_its_reminders_from_its_own_day(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    """`bieb renewals --as-of` a day ahead, while the clock stands today: no reminder for the
    mail that the same run just sent; the first one 14 days after the run's day."""
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    with on(D(2024, 7, 1)):
        assert renewals_run(library=bind, day=D(2025, 5, 1), started_by="t").reminders == 0
        assert renewals_run(library=bind, day=D(2025, 5, 14), started_by="t").reminders == 0
        assert renewals_run(library=bind, day=D(2025, 5, 15), started_by="t").reminders == 1
    assert len(mails(membership, "reminder_automatic")) == 1


def test_reminders_go_once_each_when_runs_skip_days(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    assert run(bind, D(2025, 6, 20)).reminders == 1  # missed days: only the first
    assert run(bind, D(2025, 6, 21)).reminders == 0
    assert run(bind, D(2025, 7, 3)).reminders == 0
    assert run(bind, D(2025, 7, 4)).reminders == 1  # 14 days after the first
    assert run(bind, D(2025, 9, 30)).reminders == 0
    assert len(mails(membership, "reminder_automatic")) == 2


def test_grace_days_let_the_rights_run_on(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    bind.grace_days = 5
    bind.save(update_fields=["grace_days"])
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    assert fresh(membership).rights_through == D(2025, 6, 5)
    run(bind, D(2025, 6, 5))
    assert fresh(membership).status == MembershipStatus.ACTIVE
    run(bind, D(2025, 6, 6))
    membership = fresh(membership)
    assert membership.status == MembershipStatus.AWAITING_PAYMENT
    assert not membership.has_rights_on(D(2025, 6, 6))


def test_paying_before_arrears_restores_the_rights_at_once(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    run(bind, D(2025, 7, 20))
    assert fresh(membership).status == MembershipStatus.AWAITING_PAYMENT
    with on(D(2025, 7, 21)):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("actief", D(2026, 5, 31))
    assert membership.has_rights_on(D(2025, 7, 21))
    run(bind, D(2025, 8, 1))
    assert fresh(membership).status == MembershipStatus.ACTIVE


def test_paying_in_arrears_restores_the_rights_too(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    run(bind, D(2025, 8, 2))
    assert fresh(membership).status == MembershipStatus.ARREARS
    with on(D(2025, 8, 3)):
        ledger_payment_book(
            actor=balie, customer=membership.customer, amount=Decimal("64.50"), method="pin"
        )
    assert fresh(membership).status == MembershipStatus.ACTIVE


def test_cancelled_in_april_is_not_renewed_in_may_and_ends_on_1_june(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    other = member(balie, branch_5280, adult, D(2024, 6, 12))
    with on(D(2025, 4, 10)):
        membership_cancel(membership=membership, reason="verhuisd", actor=balie)
    membership = fresh(membership)
    assert (membership.ends_on, membership.status) == (D(2025, 5, 31), "actief")
    (mail,) = mails(membership, "cancelled")
    assert "is opgezegd" in mail.text_body and "Verhuisd" in mail.text_body
    assert "loopt door t/m 31-05-2025 en wordt daarna niet verlengd" in mail.text_body

    may = run(bind, D(2025, 5, 1))
    assert may.booked == 1  # the other member only
    assert len(periods(membership)) == 1 and len(periods(other)) == 2
    assert mails(membership, "renewal_automatic") == []
    run(bind, D(2025, 5, 31))
    assert fresh(membership).has_rights_on(D(2025, 5, 31))
    june = run(bind, D(2025, 6, 1))
    membership = fresh(membership)
    assert (membership.status, membership.rights_through) == ("beeindigd", D(2025, 5, 31))
    assert june.ended == 1
    assert run(bind, D(2025, 6, 15)).reminders == 1  # the other member's, not this one's
    assert customer_saldo_of(membership.customer_id) == Decimal("0.00")


def test_cancelled_at_once_ends_at_once(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    with on(D(2025, 2, 10)):
        membership_cancel(membership=membership, reason="overleden", at_once=True, actor=balie)
    membership = fresh(membership)
    assert membership.status == MembershipStatus.ENDED
    assert not membership.has_rights_on(D(2025, 2, 10))
    assert membership.rights_through is not None and membership.rights_through < D(2025, 2, 10)
    assert "beëindigd per 10-02-2025" in mails(membership, "cancelled")[0].text_body
    assert run(bind, D(2025, 5, 1)).booked == 0


def test_cancelled_after_the_renewal_was_booked_reverses_its_fee(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    membership = member(balie, branch_5280, adult, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    assert customer_saldo_of(membership.customer_id) == Decimal("64.50")
    with on(D(2025, 5, 20)):
        membership_cancel(membership=membership, reason="prijs", actor=balie)
    assert customer_saldo_of(membership.customer_id) == Decimal("0.00")
    assert periods(membership)[-1][-1] == PeriodState.LAPSED
    storno = LedgerLine.objects.get(customer=membership.customer, kind=LedgerKind.STORNO)
    assert storno.amount == Decimal("-64.50") and storno.reason == "Opgezegd"
    assert run(bind, D(2025, 5, 29)).reminders == 0
    run(bind, D(2025, 6, 1))
    assert fresh(membership).status == MembershipStatus.ENDED


# --- turning 18 ---------------------------------------------------------------------------


def test_a_youth_member_turning_18_before_the_renewal_pays_the_adult_tariff(
    bind: Library, balie: User, branch_5280: Branch, youth: SubscriptionType
) -> None:
    turns = member(balie, branch_5280, youth, D(2024, 6, 12), birth_date=D(2007, 5, 20))
    stays = member(balie, branch_5280, youth, D(2024, 6, 12), birth_date=D(2007, 6, 2))
    assert (turns.tariff.code, turns.rights_through) == ("0001", D(2025, 5, 31))
    run(bind, D(2025, 5, 1))

    turns = fresh(turns)
    assert periods(turns)[-1] == (
        D(2025, 6, 1),
        D(2026, 5, 31),
        "0110",
        Decimal("64.50"),
        PeriodState.BOOKED,
    )
    assert (turns.subscription_type.code, turns.tariff.code) == ("0110", "0002")
    assert customer_saldo_of(turns.customer_id) == Decimal("64.50")
    assert "€ 64,50" in mails(turns, "renewal_automatic")[0].text_body

    stays = fresh(stays)  # 17 on 1 June 2025: one more free period
    assert periods(stays)[-1] == (
        D(2025, 6, 1),
        D(2026, 5, 31),
        "0101",
        Decimal("0.00"),
        PeriodState.BOOKED,
    )
    assert (stays.subscription_type.code, stays.tariff.code) == ("0101", "0001")
    assert "Je hoeft niets te betalen" in mails(stays, "renewal_automatic")[0].text_body
    assert customer_saldo_of(stays.customer_id) == Decimal("0.00")

    run(bind, D(2025, 6, 1))
    assert fresh(stays).rights_through == D(2026, 5, 31)
    assert fresh(turns).status == MembershipStatus.AWAITING_PAYMENT
    # A year later the other one is 18 too.
    run(bind, D(2026, 5, 1))
    assert periods(fresh(stays))[-1][2:4] == ("0110", Decimal("64.50"))


def test_digital_only_stays_18_plus(
    bind: Library,
    balie: User,
    branch_5280: Branch,
    youth: SubscriptionType,
    digital_only: SubscriptionType,
) -> None:
    young = member(balie, branch_5280, youth, D(2024, 6, 12), birth_date=D(2010, 3, 3))
    with on(D(2025, 3, 1)), pytest.raises(Exception) as refused:
        membership_change(membership=young, subscription_type=digital_only, actor=balie)
    assert "18" in str(refused.value)
    adult_member = member(balie, branch_5280, digital_only, D(2024, 6, 12))
    run(bind, D(2025, 5, 1))
    assert periods(adult_member)[-1][2:4] == ("0141", Decimal("42.00"))


# --- the command and the periodic job ----------------------------------------------------


def test_the_command_runs_a_day_once(
    bind: Library, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    member(balie, branch_5280, adult, D(2024, 6, 12))
    out = StringIO()
    with on(D(2025, 5, 2)):
        call_command("renewals", "--as-of", "2025-05-01", "--library", "bind", stdout=out)
        first = out.getvalue()
        out = StringIO()
        call_command("renewals", "--as-of", "2025-05-01", "--library", "bind", stdout=out)
    assert first.startswith("bind 2025-05-01: verlengd 1 (€ 64,50), aangeboden 0 (€ 0,00)")
    assert "gemaild 1," in first
    assert "verlengd 0 (€ 0,00)" in out.getvalue() and "gemaild 0," in out.getvalue()
    assert LedgerLine.objects.filter(kind=LedgerKind.FEE).count() == 2  # registration + renewal

    with pytest.raises(CommandError, match="Geen bibliotheek met code 'nergens'"):
        call_command("renewals", "--library", "nergens")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("renewals", "--as-of", "01-05-2025")
    assert "renewals_daily" in JOBS
