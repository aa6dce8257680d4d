"""The limits of every password login (the login service, the counter, /admin/), one policy.

A login is limited per (account, address) pair with growing waits rather than a lock: after
`PAIR.free` failures the next try of that pair waits 2 s, then 4, 8, ... up to 15 minutes. A
member who mistyped waits seconds; a guesser on one address gets about a hundred tries a day.
Above that, two much higher ceilings slow down (never lock) what one pair cannot see: an account
tried from many addresses (`ACCOUNT`), and one address trying many accounts (`ADDRESS`, a school
or library shares one address, so it is high). Neither applies to an account on an address it
logged in from before (within `TRUSTED_FOR`): a stranger elsewhere cannot keep the member out.

Counted before the password is checked (bieb.core.attempts), so parallel guesses count too; a
success takes its count back and makes the address a trusted one for the account."""

import datetime as dt
from dataclasses import dataclass

from bieb.core.attempts import Limit, attempts_clear, attempts_succeeded, attempts_take
from bieb.core.http import address_group

PAIR = Limit(
    free=5,
    window=dt.timedelta(hours=24),
    delay=dt.timedelta(seconds=2),
    cap=dt.timedelta(minutes=15),
)
ACCOUNT = Limit(
    free=50,
    window=dt.timedelta(hours=1),
    delay=dt.timedelta(seconds=1),
    cap=dt.timedelta(minutes=1),
)
ADDRESS = Limit(
    free=100,
    window=dt.timedelta(hours=1),
    delay=dt.timedelta(seconds=1),
    cap=dt.timedelta(minutes=1),
)
TRUSTED_FOR = dt.timedelta(days=90)


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt that was counted (`wait` zero) or refused for `wait`."""

    wait: dt.timedelta
    keys: tuple[str, ...]
    pair: str

    @property
    def refused(self) -> bool:
        return self.wait > dt.timedelta(0)


def login_attempt(*, scope: str, username: str, address: str | None) -> LoginAttempt:
    """Count a login attempt of `username` from `address` at the login form `scope` (forms
    that check the same accounts share a scope), or say how long it has to wait."""
    name = username.strip().lower()[:80]
    group = address_group(address)
    pair = f"{scope}:{name}|{group}"
    taken = attempts_take(
        limits={pair: PAIR, f"{scope}:{name}": ACCOUNT, f"{scope}-ip:{group}": ADDRESS},
        trusted_by=pair,
        trust_for=TRUSTED_FOR,
    )
    return LoginAttempt(wait=taken.wait, keys=taken.keys, pair=pair)


def login_succeeded(attempt: LoginAttempt) -> None:
    """The password was right: the attempt was no failure, and the address is now trusted for
    the account. Call in the transaction that records the login."""
    attempts_succeeded(keys=attempt.keys, trusted=attempt.pair, keep=TRUSTED_FOR)


def login_failures_forget(*, scope: str, username: str) -> None:
    """The owner proved who they are another way (a password reset by mail): their account's
    failures, from every address, are forgotten."""
    name = username.strip().lower()[:80]
    attempts_clear(key=f"{scope}:{name}", prefix=f"{scope}:{name}|")
