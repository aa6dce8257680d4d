"""The privacy rule at the login service: an account unused for 36 months without a valid
membership gets "Je inlogaccount wordt verwijderd" (through the outbox, over real SMTP), and is
deleted 30 days later unless its member logs in; a member with a valid membership is never
warned. Time travels with time-machine."""

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core.management import call_command

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer
from bieb.kb.models import AccountEvent, HeldUsername, LinkedMembership, LoginAccount
from bieb.kb.retention import accounts_retention_run
from bieb.kb.services import account_authenticate
from bieb.libraries.models import Branch, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.staff.models import User
from tests.customers.year import member, on
from tests.signup.factories import PASSWORD, active_account
from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]
D = dt.date
CREATED = D(2026, 1, 10)
STILL_USED = D(2029, 1, 10)  # 36 months after its last use: not yet
WARNED = D(2029, 1, 11)
DELETE_ON = D(2029, 2, 10)  # 30 days after the warning


def retention(
    day: dt.date, *, mailed: CaptureOnCommit | None = None, dry_run: bool = False
) -> tuple[int, int, int]:
    """The KB's retention run of `day`, at 03:00: (warned, deleted, cleared). With `mailed`
    (django_capture_on_commit_callbacks) its mails are sent that day, over SMTP."""
    with on(day, hour=3):
        if mailed is None:
            result = accounts_retention_run(today=day, dry_run=dry_run)
        else:
            with mailed(execute=True):
                result = accounts_retention_run(today=day, dry_run=dry_run)
    return result.warned, result.deleted, result.cleared


@pytest.fixture
def unused() -> LoginAccount:
    """An account made and last used on 10 January 2026, never linked to a membership."""
    with on(CREATED):
        return active_account("lang.niet.gebruikt")


def linked_until(account: LoginAccount, valid_through: dt.date) -> LinkedMembership:
    """A Digital only membership at Bind linked to the account, with rights through that day."""
    return LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number="25280000000016",
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=valid_through,
        state="actief",
    )


def mails(to: str, kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(to=to, kind=kind).order_by("id"))


def test_warned_after_36_months_then_deleted_30_days_later(
    unused: LoginAccount,
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    mailed = django_capture_on_commit_callbacks
    assert retention(STILL_USED, mailed=mailed) == (0, 0, 0)
    assert retention(WARNED, mailed=mailed) == (1, 0, 0)

    [warning] = smtp_server.received
    assert smtp_server.recipients == [["lang.niet.gebruikt@example.nl"]]
    assert str(warning["Subject"]) == "Je inlogaccount wordt verwijderd"
    text = warning.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "lang.niet.gebruikt" in text and "meer dan 3 jaar" in text
    assert "op 10-02-2029 verwijderd" in text and "vóór 10-02-2029 in" in text
    assert "/kb/inloggen/" in text
    account = LoginAccount.objects.get(pk=unused.pk)
    assert account.retention_warned_at is not None

    # Never twice: the next runs warn nobody and mail nothing.
    assert retention(WARNED, mailed=mailed) == (0, 0, 0)
    assert retention(D(2029, 2, 9), mailed=mailed) == (0, 0, 0)
    assert len(smtp_server.received) == 1

    assert retention(DELETE_ON, mailed=mailed) == (0, 1, 0)
    assert not LoginAccount.objects.filter(pk=unused.pk).exists()
    assert HeldUsername.objects.filter(username="lang.niet.gebruikt").exists()
    deleted = smtp_server.received[-1]
    assert str(deleted["Subject"]) == "Je inlogaccount is verwijderd"
    text = deleted.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "lang niet gebruikt" in text
    events = list(AccountEvent.objects.filter(account_id=unused.pk).values_list("event", flat=True))
    assert "account.retention_warned" in events and "account.deleted" in events
    assert retention(DELETE_ON) == (0, 0, 0)


def test_a_login_after_the_warning_keeps_the_account(unused: LoginAccount) -> None:
    assert retention(WARNED) == (1, 0, 0)
    with on(D(2029, 1, 25)):
        account_authenticate(username="lang.niet.gebruikt", password=PASSWORD, ip="192.0.2.1")
    assert LoginAccount.objects.get(pk=unused.pk).retention_warned_at is None

    assert retention(DELETE_ON) == (0, 0, 0)
    assert retention(D(2030, 1, 1)) == (0, 0, 0)
    assert LoginAccount.objects.filter(pk=unused.pk).exists()
    assert len(mails("lang.niet.gebruikt@example.nl", "kb.retention_warning")) == 1
    # Unused again for 36 months after that login: warned again, once.
    assert retention(D(2032, 1, 25)) == (0, 0, 0)
    assert retention(D(2032, 1, 26)) == (1, 0, 0)


def test_a_warning_lapses_when_the_account_was_used_otherwise(unused: LoginAccount) -> None:
    """Used without a password (a relying party's token, a new activation): the run clears
    the warning instead of deleting."""
    assert retention(WARNED) == (1, 0, 0)
    LoginAccount.objects.filter(pk=unused.pk).update(
        activated_at=dt.datetime(2029, 1, 20, 12, tzinfo=dt.UTC)
    )
    assert retention(DELETE_ON) == (0, 0, 1)
    assert LoginAccount.objects.get(pk=unused.pk).retention_warned_at is None


def test_a_member_with_a_valid_membership_is_never_warned(unused: LoginAccount) -> None:
    linked_until(unused, D(2030, 5, 31))
    assert retention(WARNED) == (0, 0, 0)
    assert retention(D(2030, 5, 31)) == (0, 0, 0)
    assert not mails("lang.niet.gebruikt@example.nl", "kb.retention_warning")
    # The day after its rights end it is unused and without a valid membership.
    assert retention(D(2030, 6, 1)) == (1, 0, 0)


def test_a_warned_account_that_gets_a_membership_again_is_kept(unused: LoginAccount) -> None:
    assert retention(WARNED) == (1, 0, 0)
    linked_until(unused, D(2030, 1, 31))
    assert retention(DELETE_ON) == (0, 0, 1)
    assert LoginAccount.objects.filter(pk=unused.pk, retention_warned_at=None).exists()


def test_the_library_unlinks_an_account_the_kb_deleted(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    """A counter member whose Vast membership ended: the KB's deletion reaches the library as
    a member's own deletion does (no account id kept, a line in the customer's history)."""
    membership = member(balie, branch_5280, digital_only, D(2026, 1, 10), surname="Weg")
    customer = Customer.objects.get(pk=membership.customer_id)
    account = LoginAccount.objects.get(pk=customer.login_account_id)
    LoginAccount.objects.filter(pk=account.pk).update(
        state="actief", email_verified=True, activation_deadline=None, password="x"
    )
    # Its rights ended on 31 December 2026 (the library's copy at the KB).
    LinkedMembership.objects.filter(account=account).update(valid_through=D(2026, 12, 31))

    assert retention(WARNED) == (1, 0, 0)
    assert retention(DELETE_ON) == (0, 1, 0)
    customer.refresh_from_db()
    assert customer.login_account_id is None and not customer.login_account_lapsed
    row = AuditEvent.objects.get(
        object_id=str(customer.pk), action="customer.login_account_deleted"
    )
    assert row.data["reason"] == "retention"


def test_a_dry_run_changes_nothing(unused: LoginAccount) -> None:
    assert retention(WARNED, dry_run=True) == (1, 0, 0)
    assert LoginAccount.objects.get(pk=unused.pk).retention_warned_at is None
    assert not OutboxMessage.objects.filter(kind="kb.retention_warning").exists()
    retention(WARNED)
    assert retention(DELETE_ON, dry_run=True) == (0, 1, 0)
    assert LoginAccount.objects.filter(pk=unused.pk).exists()


def test_the_command_prints_the_kb_line(
    unused: LoginAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    with on(WARNED, hour=3):
        call_command("retention", "--as-of", WARNED.isoformat())
    out = capsys.readouterr().out
    assert "inlogdienst (KB): gewaarschuwd 1, verwijderd 0" in out
