"""Single-use, time-limited links, made and checked by Django's token machinery.

A token signs the account's id, password hash, state and link version with the SECRET_KEY, so it
stops working when the password is set (activation, reset), when the state changes, or when a
newer link is sent. On top of that each kind has its own lifetime, from one setting each, and
nothing else: Django's PASSWORD_RESET_TIMEOUT plays no part (its check is replaced below), so a
link never dies before the time its mail promises, nor lives past it.

- activation: `BIEB_ACTIVATION_HOURS`; the deadline is stored on the account when the link is
  made (`LoginAccount.activation_deadline`, see `LoginAccount.activation_expired`).
- reset: `BIEB_RESET_HOURS`, counted from the moment in the token.
- e-mail change: as long as an activation link (`BIEB_ACTIVATION_HOURS`: the same rules,
  since it proves a new address as activation proves the first), counted from the moment in the
  token. Its signature covers the current and the new address and the account's e-mail link
  version, so a confirmed link, or one replaced by a newer request, stops working.
"""

import datetime as dt
from abc import ABC, abstractmethod

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from bieb.kb.models import AccountState, LoginAccount

# Django's tokens count seconds from this moment; Django takes it in naive local time, which
# would shift every lifetime by the offset from UTC. Here it is UTC, and so is "now".
_EPOCH = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)


class _AccountTokenGenerator(PasswordResetTokenGenerator, ABC):
    def _make_hash_value(self, user: LoginAccount, timestamp: int) -> str:  # type: ignore[override]
        return f"{user.pk}{user.password}{user.state}{user.link_version}{timestamp}"

    def _now(self) -> dt.datetime:
        return timezone.now()

    def _num_seconds(self, moment: dt.datetime) -> int:  # type: ignore[override]
        return int((moment - _EPOCH).total_seconds())

    @abstractmethod
    def lifetime(self) -> dt.timedelta:
        """How long a link of this kind works after it was made."""

    def issued_at(self, token: str) -> dt.datetime | None:
        try:
            ts = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return None
        return _EPOCH + dt.timedelta(seconds=ts)

    def check_token(self, user: LoginAccount | None, token: str | None) -> bool:  # type: ignore[override]
        """The signature alone (this account, this state, this password, this link version);
        whether the link is still in time is for `is_valid` to say."""
        if not (user and token):
            return False
        try:
            ts = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)  # type: ignore[arg-type]
            for secret in [self.secret, *self.secret_fallbacks]
        )


class ActivationTokenGenerator(_AccountTokenGenerator):
    key_salt = "bieb.kb.activation"

    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=settings.BIEB_ACTIVATION_HOURS)

    def is_valid(self, account: LoginAccount, token: str) -> bool:
        """Valid until the account's activation deadline, exactly, and only while waiting."""
        return (
            account.state == AccountState.WAITING
            and not account.activation_expired()
            and self.check_token(account, token)
        )


class ResetTokenGenerator(_AccountTokenGenerator):
    key_salt = "bieb.kb.reset"

    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=settings.BIEB_RESET_HOURS)

    def is_valid(self, account: LoginAccount, token: str) -> bool:
        issued = self.issued_at(token)
        return (
            account.state == AccountState.ACTIVE
            and issued is not None
            and timezone.now() < issued + self.lifetime()
            and self.check_token(account, token)
        )


class EmailChangeTokenGenerator(_AccountTokenGenerator):
    key_salt = "bieb.kb.email-change"

    def _make_hash_value(self, user: LoginAccount, timestamp: int) -> str:  # type: ignore[override]
        return (
            f"{user.pk}{user.email}{user.pending_email}{user.email_link_version}{user.state}"
            f"{timestamp}"
        )

    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=settings.BIEB_ACTIVATION_HOURS)

    def is_valid(self, account: LoginAccount, token: str) -> bool:
        """Valid while the change it confirms is still asked for, within its lifetime."""
        issued = self.issued_at(token)
        return (
            account.state == AccountState.ACTIVE
            and bool(account.pending_email)
            and issued is not None
            and timezone.now() < issued + self.lifetime()
            and self.check_token(account, token)
        )


activation_tokens = ActivationTokenGenerator()
reset_tokens = ResetTokenGenerator()
email_change_tokens = EmailChangeTokenGenerator()


def encode_account(account: LoginAccount) -> str:
    return urlsafe_base64_encode(force_bytes(account.pk))


def decode_account(uidb64: str) -> LoginAccount | None:
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return LoginAccount.objects.get(pk=pk)
    except (ValueError, TypeError, OverflowError, ValidationError, LoginAccount.DoesNotExist):
        return None
