""" "Mijn inlogaccount": what members change themselves at the login service (username,
e-mail address, password, their sessions, the account itself), and what it holds about them.

Each change runs in one transaction with an event in the security log (AccountEvent) and tells
the member by mail. `claim`, where a change takes it, is called inside that transaction: the
page's once-only form key (bieb.core.submissions), so that a double click changes nothing
twice. A change that asks for the password counts a wrong one as a failed login
(bieb.core.logins, the login form's own limits), outside the change's transaction, so that the
count stays when the change does not happen.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bieb.core.attempts import Limit, attempts_take, wait_words
from bieb.core.dates import lifetime_label
from bieb.core.logins import login_attempt, login_succeeded
from bieb.kb.api.events import LibraryEventKind, library_events_record
from bieb.kb.models import (
    AccountEvent,
    AccountState,
    HeldUsername,
    LinkedMembership,
    LoginAccount,
    OIDCAccessToken,
    SignIn,
)
from bieb.kb.services import (
    LOGIN_SCOPE,
    USERNAME_TAKEN,
    _link,
    _login_wait,
    _purge_if_expired,
    _send_activation,
    activation_lifetime,
    event_record,
    sessions_end,
    username_clean,
    username_held,
    username_hold,
)
from bieb.kb.signals import accounts_deleted_send
from bieb.kb.tokens import email_change_tokens, encode_account
from bieb.mail.services import mail_queue

# A confirmation mail goes to an address that is not (yet) the account's: a few an hour per
# account, so that nobody floods a stranger's mailbox through it.
EMAIL_CHANGE_PER_ACCOUNT = Limit(free=3, window=dt.timedelta(hours=1))

PASSWORD_WRONG = "Dit wachtwoord klopt niet."  # noqa: S105  (a message, not a password)
SAME_EMAIL = "Dit is al het e-mailadres van het inlogaccount."


def _password_confirm(account: LoginAccount, password: str, *, ip: str | None, field: str) -> None:
    """The account's own password, checked under the login's limits; ValidationError on
    `field` when it is wrong or when the member has to wait."""
    attempt = login_attempt(scope=LOGIN_SCOPE, username=account.username, address=ip)
    if attempt.refused:
        event_record(event="password.check_locked", account=account, ip=ip)
        raise ValidationError({field: _login_wait(attempt.wait)}, code="locked")
    if not password or not account.check_password(password):
        event_record(event="password.check_failed", account=account, ip=ip)
        raise ValidationError({field: PASSWORD_WRONG}, code="wrong")
    login_succeeded(attempt)


def _locked(account: LoginAccount) -> LoginAccount:
    locked = LoginAccount.objects.select_for_update().filter(pk=account.pk).first()
    if locked is None or locked.state != AccountState.ACTIVE:
        raise ValidationError("Dit inlogaccount is niet (meer) actief.", code="inactive")
    return locked


def _tell(account: LoginAccount, *, to: str, subject: str, kind: str, **context: Any) -> None:
    """Mail the member the text kb/mail/<kind>.txt; the outbox knows it as kb.<kind>."""
    mail_queue(
        to=to,
        subject=subject,
        text=render_to_string(f"kb/mail/{kind}.txt", {"account": account, **context}),
        kind=f"kb.{kind}",
        reference=str(account.pk),
    )


def email_masked(email: str) -> str:
    """`e.b.tester@example.nl` as `e…@example.nl`: enough for its owner to recognise."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


# --- username --------------------------------------------------------------------------------


@transaction.atomic
def username_change(
    *,
    account: LoginAccount,
    username: str,
    ip: str | None,
    claim: Callable[[], None] | None = None,
) -> LoginAccount:
    """A new, self-chosen username (with a letter: never a name a counter hands out). The old
    one is held back (HeldUsername) so that nobody takes it over; the account's id, which the
    libraries and the OpenID Connect clients know it by, stays."""
    name = username_clean(username)
    locked = _locked(account)
    if claim is not None:
        claim()
    if name == locked.username:
        raise ValidationError({"username": "Dit is al je gebruikersnaam."}, code="same")
    if username_held(name, account_id=locked.pk):
        raise ValidationError({"username": USERNAME_TAKEN}, code="taken")
    taken = LoginAccount.objects.filter(username=name).first()
    if taken is not None and not _purge_if_expired(taken):
        raise ValidationError({"username": USERNAME_TAKEN}, code="taken")
    old = locked.username
    locked.username = name
    try:
        with transaction.atomic():  # a name taken at this very moment: said in Dutch
            locked.save(update_fields=["username"])
    except IntegrityError:
        raise ValidationError({"username": USERNAME_TAKEN}, code="taken") from None
    username_hold(username=old, account_id=locked.pk, reason="gewijzigd")
    HeldUsername.objects.filter(username=name, account_id=locked.pk).delete()  # taken back
    event_record(event="username.changed", account=locked, ip=ip, data={"old": old})
    _tell(
        locked,
        to=locked.email,
        subject="Je gebruikersnaam is gewijzigd",
        kind="username_changed",
        old=old,
        login=_link("/kb/inloggen/"),
    )
    account.refresh_from_db()
    return locked


# --- e-mail address --------------------------------------------------------------------------


def email_change_request(
    *,
    account: LoginAccount,
    email: str,
    actor: str,
    ip: str | None = None,
    claim: Callable[[], None] | None = None,
) -> LoginAccount:
    """Ask for a new e-mail address: a confirmation link goes to that address, and the account
    keeps its address until the link is used (`email_change_confirm`). For an account that
    still waits for activation the new address simply takes the old one's place with a new
    activation link: activating confirms it, and the old link stops working.

    `actor` is the member (`lid:<username>`) or, through the interface, the counter's staff
    member, who can start the confirmation but never set an address."""
    address = (email or "").strip()
    try:
        validate_email(address)
        if len(address) > 254:
            raise ValidationError("te lang")
    except ValidationError:
        raise ValidationError(
            {"email": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."}, code="invalid"
        ) from None
    current = LoginAccount.objects.filter(pk=account.pk).values_list("email", flat=True).first()
    if current is not None and current.lower() == address.lower():
        raise ValidationError({"email": SAME_EMAIL}, code="same")
    taken = attempts_take(limits={f"email-change:{account.pk}": EMAIL_CHANGE_PER_ACCOUNT})
    if taken.refused:
        raise ValidationError(
            {
                "email": "Er zijn het afgelopen uur al een paar bevestigingsmails gestuurd. "
                f"Probeer het over {wait_words(taken.wait)} opnieuw."
            },
            code="limited",
        )
    with transaction.atomic():
        locked = LoginAccount.objects.select_for_update().filter(pk=account.pk).first()
        if locked is None or locked.state not in (AccountState.ACTIVE, AccountState.WAITING):
            raise ValidationError("Dit inlogaccount is niet (meer) actief.", code="inactive")
        if claim is not None:
            claim()
        if locked.state == AccountState.WAITING:
            _waiting_email_replace(locked, address, actor=actor, ip=ip)
        else:
            _email_change_send(locked, address, actor=actor, ip=ip)
    account.refresh_from_db()
    return locked


def _waiting_email_replace(
    locked: LoginAccount, address: str, *, actor: str, ip: str | None
) -> None:
    old = locked.email
    locked.email = address
    locked.link_version += 1  # the link sent to the old address stops working
    locked.activation_deadline = timezone.now() + activation_lifetime()
    locked.pending_email = ""
    locked.pending_email_at = None
    locked.save(
        update_fields=[
            "email",
            "link_version",
            "activation_deadline",
            "pending_email",
            "pending_email_at",
        ]
    )
    event_record(
        event="email.replaced_before_activation",
        account=locked,
        actor=actor,
        ip=ip,
        data={"old": email_masked(old)},
    )
    _send_activation(locked)


def _email_change_send(locked: LoginAccount, address: str, *, actor: str, ip: str | None) -> None:
    locked.pending_email = address
    locked.pending_email_at = timezone.now()
    locked.email_link_version += 1  # an earlier link (to whichever address) stops working
    locked.save(update_fields=["pending_email", "pending_email_at", "email_link_version"])
    token = email_change_tokens.make_token(locked)  # type: ignore[arg-type]
    event_record(
        event="email.change_requested",
        account=locked,
        actor=actor,
        ip=ip,
        data={"new": email_masked(address)},
    )
    _tell(
        locked,
        to=address,
        subject="Bevestig je nieuwe e-mailadres voor je inlogaccount",
        kind="email_change",
        link=_link(f"/kb/e-mail-bevestigen/{encode_account(locked)}/{token}/"),
        hours=lifetime_label(email_change_tokens.lifetime()),
        new_email=address,
    )


@transaction.atomic
def email_change_confirm(
    *,
    account: LoginAccount,
    token: str,
    ip: str | None,
    claim: Callable[[], None] | None = None,
) -> LoginAccount:
    """Use the confirmation link (by POST only: mail scanners open links): the new address
    becomes the account's, confirmed. Once. The old address is told."""
    locked = LoginAccount.objects.select_for_update().get(pk=account.pk)
    if claim is not None:
        claim()
    if not email_change_tokens.is_valid(locked, token):
        raise ValidationError(
            "Deze bevestigingslink werkt niet meer. Vraag een nieuwe aan bij Mijn inlogaccount.",
            code="link",
        )
    old = locked.email
    locked.email = locked.pending_email
    locked.email_verified = True
    locked.pending_email = ""
    locked.pending_email_at = None
    locked.email_link_version += 1
    locked.save(
        update_fields=[
            "email",
            "email_verified",
            "pending_email",
            "pending_email_at",
            "email_link_version",
        ]
    )
    event_record(
        event="email.changed",
        account=locked,
        ip=ip,
        data={"old": email_masked(old), "new": email_masked(locked.email)},
    )
    library_events_record(
        kind=LibraryEventKind.EMAIL_CHANGED,
        account_ids=[locked.pk],
        username=locked.username,
        email=locked.email,
    )
    _tell(
        locked,
        to=old,
        subject="Het e-mailadres van je inlogaccount is gewijzigd",
        kind="email_changed",
        new_email=email_masked(locked.email),
        reset=_link("/kb/wachtwoord-vergeten/"),
    )
    account.refresh_from_db()
    return locked


@transaction.atomic
def email_change_cancel(*, account: LoginAccount, ip: str | None) -> None:
    """Forget a new address that was not confirmed; its link stops working."""
    locked = _locked(account)
    if not locked.pending_email:
        return
    locked.pending_email = ""
    locked.pending_email_at = None
    locked.email_link_version += 1
    locked.save(update_fields=["pending_email", "pending_email_at", "email_link_version"])
    event_record(event="email.change_cancelled", account=locked, ip=ip)
    account.refresh_from_db()


# --- password and sessions -------------------------------------------------------------------


def password_change(
    *,
    account: LoginAccount,
    current: str,
    password: str,
    ip: str | None,
    session_keep: Callable[[LoginAccount], None],
    claim: Callable[[], None] | None = None,
) -> None:
    """A new password, after the current one. Every other session and every OIDC token of the
    account ends; `session_keep` keeps the member signed in where they made the change."""
    errors: dict[str, list[str]] = {}
    try:
        validate_password(password, user=account)  # type: ignore[arg-type]
    except ValidationError as error:
        errors["password"] = error.messages
    try:
        _password_confirm(account, current, ip=ip, field="current")
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(account)
        if claim is not None:
            claim()
        locked.set_password(password)
        locked.save(update_fields=["password"])
        sessions_end(locked)
        event_record(event="password.changed", account=locked, ip=ip)
        _tell(
            locked,
            to=locked.email,
            subject="Je wachtwoord is gewijzigd",
            kind="password_changed",
            reset=_link("/kb/wachtwoord-vergeten/"),
        )
        session_keep(locked)
    account.refresh_from_db()


@transaction.atomic
def sessions_end_everywhere(*, account: LoginAccount, ip: str | None) -> None:
    """ "Overal uitloggen": every session of the account ends (this one too) and every OIDC
    token, so that every relying party asks for a new sign-in."""
    locked = _locked(account)
    sessions_end(locked)
    event_record(event="sessions.ended", account=locked, ip=ip)


# --- deleting the account --------------------------------------------------------------------


def account_delete_own(
    *,
    account: LoginAccount,
    password: str,
    ip: str | None,
    claim: Callable[[], None] | None = None,
) -> None:
    """The member deletes their login account, after their password."""
    _password_confirm(account, password, ip=ip, field="password")
    account_remove(
        account_id=account.pk,
        reason="deleted",
        actor=f"lid:{account.username}",
        ip=ip,
        claim=claim,
    )


@transaction.atomic
def account_remove(
    *,
    account_id: uuid.UUID,
    reason: str,
    actor: str,
    ip: str | None = None,
    claim: Callable[[], None] | None = None,
) -> bool:
    """Delete a login account that was in use, with everything the login service holds about
    it (memberships, tokens, sign-ins; the security log keeps its events). The libraries are
    told in this transaction (`accounts_deleted`, with `reason`) and unlink it, their customers
    stay; the username is held back (HeldUsername) and free again after the quarantine. The
    member is told by mail. False if there was no such account."""
    locked = LoginAccount.objects.select_for_update().filter(pk=account_id).first()
    if locked is None:
        return False
    if claim is not None:
        claim()
    libraries = sorted(
        set(LinkedMembership.objects.filter(account=locked).values_list("library_name", flat=True))
    )
    username_hold(username=locked.username, account_id=locked.pk, reason="verwijderd")
    event_record(
        event="account.deleted",
        account=locked,
        actor=actor,
        ip=ip,
        data={"reason": reason, "libraries": libraries},
    )
    if locked.email_verified:
        _tell(
            locked,
            to=locked.email,
            subject="Je inlogaccount is verwijderd",
            kind="account_deleted",
            libraries=libraries,
            reason=reason,
        )
    library_events_record(kind=LibraryEventKind.DELETED, account_ids=[locked.pk])
    accounts_deleted_send(account_ids=[locked.pk], reason=reason)
    locked.delete()
    return True


# --- what the login service holds -------------------------------------------------------------


def _moment(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def account_export(*, account: LoginAccount) -> dict[str, Any]:
    """Everything the login service holds about the account, JSON-safe ("Download mijn
    gegevens"): the account, its linked memberships, its sign-ins, the clients it is signed in
    at (never a token itself) and its security log."""
    memberships = LinkedMembership.objects.filter(account=account).order_by("library_name")
    tokens = (
        OIDCAccessToken.objects.filter(user=account, expires__gt=timezone.now())
        .select_related("application")
        .order_by("created")
    )
    events = AccountEvent.objects.filter(account_id=account.pk).order_by("at", "id")
    return {
        "inlogaccount": {
            "id": str(account.pk),
            "gebruikersnaam": account.username,
            "e-mailadres": account.email,
            "e-mailadres bevestigd": account.email_verified,
            "nieuw e-mailadres (onbevestigd)": account.pending_email or None,
            "status": AccountState(account.state).label,
            "aangemaakt via": account.get_origin_display(),
            "aangemaakt op": _moment(account.created_at),
            "geactiveerd op": _moment(account.activated_at),
            "laatst ingelogd": _moment(account.last_login),
        },
        "lidmaatschappen": [
            {
                "bibliotheek": m.library_name,
                "bibliotheekcode": m.library_code,
                "klantnummer": m.customer_number,
                "abonnement": m.subscription_code,
                "digitale rechten": m.digital_rights,
                "geldig t/m": m.valid_through.isoformat() if m.valid_through else None,
                "stand": m.state_label,
                "gekoppeld op": _moment(m.linked_at),
            }
            for m in memberships
        ],
        "inlogmomenten": [
            {"tijdstip": _moment(s.at), "apparaat": s.device, "netwerk": s.network, "via": s.via}
            for s in SignIn.objects.filter(account=account).order_by("-at", "-id")
        ],
        "ingelogd bij": [
            {
                "dienst": t.application.name if t.application else "",
                "sinds": _moment(t.created),
                "tot": _moment(t.expires),
            }
            for t in tokens
        ],
        "beveiligingslogboek": [
            {
                "tijdstip": _moment(e.at),
                "gebeurtenis": e.event,
                "door": e.actor,
                "IP-adres": e.ip,
            }
            for e in events
        ],
    }
