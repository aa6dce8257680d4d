"""Single-use, time-limited links, made and checked by Django's token machinery.

A token signs the account's id, password hash, state and link version with the SECRET_KEY, so it
stops working when the password is set (activation, reset), when the state changes, or when a
newer link is sent. On top of that each kind has its own lifetime.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from bieb.kb.models import AccountState, LoginAccount


class _AccountTokenGenerator(PasswordResetTokenGenerator):
    def _make_hash_value(self, user: LoginAccount, timestamp: int) -> str:  # type: ignore[override]
        return f"{user.pk}{user.password}{user.state}{user.link_version}{timestamp}"

    def issued_at(self, token: str) -> dt.datetime | None:
        try:
            ts = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return None
        return dt.datetime(2001, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=ts)


class ActivationTokenGenerator(_AccountTokenGenerator):
    key_salt = "bieb.kb.activation"

    def is_valid(self, account: LoginAccount, token: str) -> bool:
        """Valid until the account's activation deadline, exactly, and only while waiting."""
        return (
            account.state == AccountState.WAITING
            and account.activation_deadline is not None
            and timezone.now() < account.activation_deadline
            and self.check_token(account, token)  # type: ignore[arg-type]
        )


class ResetTokenGenerator(_AccountTokenGenerator):
    key_salt = "bieb.kb.reset"

    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=settings.BIEB_ACTIVATION_HOURS)

    def is_valid(self, account: LoginAccount, token: str) -> bool:
        issued = self.issued_at(token)
        return (
            account.state == AccountState.ACTIVE
            and issued is not None
            and timezone.now() < issued + self.lifetime()
            and self.check_token(account, token)  # type: ignore[arg-type]
        )


activation_tokens = ActivationTokenGenerator()
reset_tokens = ResetTokenGenerator()


def encode_account(account: LoginAccount) -> str:
    return urlsafe_base64_encode(force_bytes(account.pk))


def decode_account(uidb64: str) -> LoginAccount | None:
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return LoginAccount.objects.get(pk=pk)
    except (ValueError, TypeError, OverflowError, ValidationError, LoginAccount.DoesNotExist):
        return None
