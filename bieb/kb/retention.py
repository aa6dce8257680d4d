"""The privacy rule at the login service: an account that has not been used for
`BIEB_KB_RETENTION_MONTHS` (36) and has no membership valid today is warned by mail ("Je
inlogaccount wordt verwijderd"), and deleted `BIEB_KB_RETENTION_WARNING_DAYS` (30) days after
the warning unless it was used meanwhile.

- Used: a password sign-in (`last_login`, set by every login and by the sign-in that follows
  an activation or reset link), the activation itself, the account's creation, or an OpenID
  Connect token issued to it (a relying party that keeps its member signed in with refresh
  tokens uses the account without a password; the toolkit clears tokens some time after they
  expire, so this counts only recent use: enough to spare a member who uses the Online
  Bibliotheek that way today, not a record of old use).
- A valid membership: one a library linked to it whose rights run through today or later
  (`LinkedMembership.valid_through`, the library's copy). A member with one is never warned,
  and a warned account that gets one is not deleted.
- Never-activated accounts are not this rule's: the purge removes them within a day.
- Warned once: `LoginAccount.retention_warned_at`. A sign-in clears it at once
  (bieb.kb.services); a run clears it for an account that was used otherwise or has a valid
  membership again, so that the rule starts afresh. The mail names the day of deletion: the
  warning's day + 30; the first run on or after that day deletes the account if it is still
  unused. Deleting is `account_remove` (bieb.kb.self_service), as when members delete their
  own account: the libraries are told and unlink it, the username is held back, the member gets
  "Je inlogaccount is verwijderd". The condition is checked again under the account's row
  lock, so a sign-in at that moment wins.

A run is idempotent (a second run of the day warns and deletes nothing) and works in batches of
`BATCH` accounts, each its own short transaction; an account locked by a sign-in at that moment
is skipped and taken by the next run. `dry_run` counts and writes nothing.
"""

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template.loader import render_to_string

from bieb.core.dates import add_months_to_day, date_nl, local_today, moment_on, start_of_day
from bieb.kb.models import (
    AccountEvent,
    AccountState,
    LinkedMembership,
    LoginAccount,
    OIDCAccessToken,
    OIDCRefreshToken,
)
from bieb.kb.self_service import account_remove
from bieb.kb.services import _link
from bieb.mail.services import mail_queue_many

BATCH = 500
ACTOR = "retention"
WARNING_KIND = "kb.retention_warning"
WARNING_SUBJECT = "Je inlogaccount wordt verwijderd"


@dataclass
class KbRetention:
    warned: int = 0
    deleted: int = 0
    cleared: int = 0
    batches: int = 0
    longest: float = 0.0


def _used_since(since: dt.datetime | str) -> Q:
    """Accounts used at or after `since`: a moment, or the name of the account's column that
    holds one."""
    mine = F(since) if isinstance(since, str) else since
    theirs = OuterRef(since) if isinstance(since, str) else since
    tokens = Exists(
        OIDCRefreshToken.objects.filter(user=OuterRef("pk"), created__gte=theirs)
    ) | Exists(OIDCAccessToken.objects.filter(user=OuterRef("pk"), created__gte=theirs))
    return Q(last_login__gte=mine) | Q(activated_at__gte=mine) | Q(created_at__gte=mine) | Q(tokens)


def _valid_membership(today: dt.date) -> Exists:
    return Exists(LinkedMembership.objects.filter(account=OuterRef("pk"), valid_through__gte=today))


def unused_since(today: dt.date) -> dt.datetime:
    """Accounts not used from this moment on are unused for the retention period."""
    return start_of_day(add_months_to_day(today, -settings.BIEB_KB_RETENTION_MONTHS))


def deletion_day(warned_at: dt.datetime) -> dt.date:
    """The day a warned account is deleted if it stays unused: the mail names it."""
    from django.utils import timezone

    warning_days = dt.timedelta(days=settings.BIEB_KB_RETENTION_WARNING_DAYS)
    return timezone.localdate(warned_at) + warning_days


def accounts_to_warn(*, today: dt.date) -> QuerySet[LoginAccount]:
    return (
        LoginAccount.objects.filter(retention_warned_at__isnull=True)
        .exclude(state=AccountState.WAITING, activated_at__isnull=True)
        .exclude(_used_since(unused_since(today)))
        .exclude(_valid_membership(today))
    )


def accounts_warning_over(*, today: dt.date) -> QuerySet[LoginAccount]:
    """Warned accounts that were used since, or have a valid membership again."""
    return LoginAccount.objects.filter(retention_warned_at__isnull=False).filter(
        _used_since("retention_warned_at") | Q(_valid_membership(today))
    )


def accounts_to_delete(*, today: dt.date) -> QuerySet[LoginAccount]:
    warning = dt.timedelta(days=settings.BIEB_KB_RETENTION_WARNING_DAYS - 1)
    return (
        LoginAccount.objects.filter(retention_warned_at__lt=start_of_day(today - warning))
        .exclude(_used_since("retention_warned_at"))
        .exclude(_valid_membership(today))
    )


def accounts_retention_run(
    *, today: dt.date | None = None, dry_run: bool = False, batch_size: int = BATCH
) -> KbRetention:
    day = today or local_today()
    result = KbRetention()
    if dry_run:
        result.cleared = accounts_warning_over(today=day).count()
        result.deleted = accounts_to_delete(today=day).count()
        result.warned = accounts_to_warn(today=day).count()
        return result
    size = max(1, min(int(batch_size), 5000))
    now = moment_on(day)
    result.cleared = _clear(today=day)
    for pk in list(accounts_to_delete(today=day).order_by("pk").values_list("pk", flat=True)):
        started = time.perf_counter()
        result.deleted += _delete(pk, today=day)
        _timed(result, started)
    ids = list(accounts_to_warn(today=day).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        started = time.perf_counter()
        result.warned += _warn(ids[start : start + size], today=day, now=now)
        _timed(result, started)
    return result


def _timed(result: KbRetention, started: float) -> None:
    result.batches += 1
    result.longest = max(result.longest, time.perf_counter() - started)


def _clear(*, today: dt.date) -> int:
    with transaction.atomic():
        over = list(
            accounts_warning_over(today=today)
            .select_for_update(skip_locked=True)
            .values_list("pk", "username")
        )
        if not over:
            return 0
        LoginAccount.objects.filter(pk__in=[pk for pk, _ in over]).update(retention_warned_at=None)
        AccountEvent.objects.bulk_create(
            AccountEvent(
                event="account.retention_cleared", account_id=pk, username=name, actor=ACTOR
            )
            for pk, name in over
        )
    return len(over)


class _NoLongerDue(Exception):
    pass


def _delete(pk: uuid.UUID, *, today: dt.date) -> int:
    def still_due() -> None:  # under the account's row lock (account_remove's `claim`)
        if not accounts_to_delete(today=today).filter(pk=pk).exists():
            raise _NoLongerDue

    try:
        removed = account_remove(account_id=pk, reason="retention", actor=ACTOR, claim=still_due)
    except _NoLongerDue:
        return 0
    return int(removed)


def _warn(ids: list[uuid.UUID], *, today: dt.date, now: dt.datetime) -> int:
    with transaction.atomic():
        locked = list(
            LoginAccount.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        due = list(
            accounts_to_warn(today=today)
            .filter(pk__in=locked)
            .order_by("pk")
            .only("pk", "username", "email", "email_verified")
        )
        if not due:
            return 0
        LoginAccount.objects.filter(pk__in=[a.pk for a in due]).update(retention_warned_at=now)
        AccountEvent.objects.bulk_create(
            AccountEvent(
                event="account.retention_warned",
                account_id=a.pk,
                username=a.username,
                actor=ACTOR,
                data={"delete_on": deletion_day(now).isoformat()},
            )
            for a in due
        )
        context = {
            "day": date_nl(deletion_day(now)),
            "months": settings.BIEB_KB_RETENTION_MONTHS,
            "years": _years(settings.BIEB_KB_RETENTION_MONTHS),
            "login": _link("/kb/inloggen/"),
        }
        mail_queue_many(
            [
                {
                    "to": a.email,
                    "subject": WARNING_SUBJECT,
                    "text": render_to_string(
                        "kb/mail/retention_warning.txt", {"account": a, **context}
                    ),
                    "kind": WARNING_KIND,
                    "reference": str(a.pk),
                }
                for a in due
                if a.email and a.email_verified
            ]
        )
    return len(due)


def _years(months: int) -> str:
    """`3 jaar`, `18 maanden`: the period in the mail's words."""
    if months % 12 == 0:
        return f"{months // 12} jaar"
    return f"{months} maanden"


def retention_summary(result: KbRetention, *, dry_run: bool) -> str:
    if dry_run:
        return (
            f"inlogdienst (KB): te waarschuwen {result.warned}, te verwijderen "
            f"{result.deleted}, waarschuwing te vervallen (weer in gebruik) {result.cleared}"
        )
    return (
        f"inlogdienst (KB): gewaarschuwd {result.warned}, verwijderd {result.deleted}, "
        f"waarschuwing vervallen (weer in gebruik) {result.cleared}"
    )
