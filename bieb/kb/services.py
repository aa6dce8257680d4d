"""Writes of the login service. Each runs in one transaction and writes an account event."""

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bieb.core.attempts import Limit, attempts_take, wait_words
from bieb.core.dates import lifetime_label
from bieb.core.emails import email_clean
from bieb.core.http import address_group
from bieb.core.logins import login_attempt, login_failures_forget, login_succeeded
from bieb.kb.api.events import LibraryEventKind, library_events_record
from bieb.kb.consent import link_own_consent_check
from bieb.kb.models import (
    AccountEvent,
    AccountOrigin,
    AccountState,
    HeldUsername,
    LibraryContact,
    LinkCode,
    LinkedMembership,
    LoginAccount,
    OIDCAccessToken,
    OIDCGrant,
    OIDCIDToken,
    OIDCRefreshToken,
    username_validator,
)
from bieb.kb.signals import accounts_deleted_send
from bieb.kb.signins import device_of, sign_in_record
from bieb.kb.tokens import (
    ActivationTokenGenerator,
    ResetTokenGenerator,
    activation_tokens,
    encode_account,
    reset_tokens,
)
from bieb.kb.types import LibraryData, MembershipData
from bieb.mail.selectors import outbox_queued_since
from bieb.mail.services import mail_queue

LOGIN_SCOPE = "kb-login"
RESEND_COOLDOWN = dt.timedelta(seconds=60)
# Online sign-up. One address is often many people: a library PC, a school, an event with
# thirty newcomers behind one router, a whole office behind one proxy. So per address a generous
# number an hour, then growing waits (2 s, 4 s, ... at most 10 minutes) rather than a refusal
# for the hour: a queue at an event slows down, it never stops. What a stranger could abuse is
# someone else's mailbox (activation mails to an address that is not theirs): that is limited
# per e-mail address, strictly, as no two people sign up with one address many times a day.
SIGNUP_PER_ADDRESS = Limit(
    free=30,
    window=dt.timedelta(hours=1),
    delay=dt.timedelta(seconds=2),
    cap=dt.timedelta(minutes=10),
)
SIGNUP_PER_EMAIL = Limit(free=3, window=dt.timedelta(hours=24))
# Forgotten password or username: a mail to the account's owner. Per account (or e-mail address)
# a few an hour, so that nobody can flood a member's mailbox; per address a few more. A refused
# request is answered like any other, so that the page tells nothing about the account.
FORGOT_PER_ACCOUNT = Limit(free=3, window=dt.timedelta(hours=1))
FORGOT_PER_ADDRESS = Limit(free=20, window=dt.timedelta(hours=1))
PURGE_BATCH = 500

LOGIN_REFUSED = "Gebruikersnaam of wachtwoord klopt niet."
ACCOUNT_ID_TAKEN = (
    "Dit inlogaccount hoort bij een andere inschrijving. Kies 'Vergeet inlogaccount' en "
    "genereer een nieuw inlogaccount."
)


def _login_wait(wait: dt.timedelta) -> str:
    return (
        f"Te veel mislukte pogingen. Wacht {wait_words(wait)} en probeer het dan opnieuw, of "
        "kies 'Wachtwoord vergeten'."
    )


def event_record(
    *,
    event: str,
    account: LoginAccount | None = None,
    username: str = "",
    actor: str = "",
    ip: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    AccountEvent.objects.create(
        event=event,
        account_id=account.pk if account else None,
        username=account.username if account else username,
        actor=actor,
        ip=ip,
        data=data or {},
    )


def username_normalize(username: str) -> str:
    return (username or "").strip().lower()


USERNAME_TAKEN = "Deze gebruikersnaam is al in gebruik; kies een andere."
USERNAME_NEEDS_LETTER = (
    "Kies een gebruikersnaam met minstens één letter. Namen van alleen cijfers zijn voor de "
    "klantnummers die de bibliotheek aan de balie uitgeeft."
)
# How many `<number>-N` names a counter account may try when its customer number is taken.
COUNTER_NAME_VARIANTS = 20


def username_clean(username: str, *, self_chosen: bool = True) -> str:
    """The username as stored. A self-chosen name (everything but a counter's) must contain a
    letter: counters name accounts after customer numbers, which are digits only and
    predictable, so that nobody can take the names a counter is about to hand out."""
    name = username_normalize(username)
    try:
        username_validator(name)
    except ValidationError:
        raise ValidationError({"username": username_validator.message}) from None
    if self_chosen and not any("a" <= char <= "z" for char in name):
        raise ValidationError({"username": USERNAME_NEEDS_LETTER})
    return name


def username_held(name: str, *, account_id: uuid.UUID | None = None) -> bool:
    """Whether `name` is held back (HeldUsername) from anyone but the account that gave it up,
    `account_id` if that is the one asking."""
    held = HeldUsername.objects.filter(username=name, held_until__gt=timezone.now())
    if account_id is not None:
        held = held.exclude(account_id=account_id)
    return held.exists()


def username_hold(*, username: str, account_id: uuid.UUID, reason: str) -> None:
    """Hold `username` back for BIEB_USERNAME_QUARANTINE_DAYS; call in the transaction that
    gives it up (a change of name, the deletion of the account)."""
    until = timezone.now() + dt.timedelta(days=settings.BIEB_USERNAME_QUARANTINE_DAYS)
    HeldUsername.objects.update_or_create(
        username=username,
        defaults={"account_id": account_id, "reason": reason, "held_until": until},
    )


def usernames_held_prune() -> int:
    """Forget the names whose time is over (the periodic job); they are free already."""
    deleted, _ = HeldUsername.objects.filter(held_until__lte=timezone.now()).delete()
    return deleted


def oidc_tokens_end(account: LoginAccount) -> None:
    """End every OpenID Connect grant and token of the account, for every client: a relying
    party that asks with one of them is refused from now on."""
    for model in (OIDCRefreshToken, OIDCAccessToken, OIDCIDToken, OIDCGrant):
        model.objects.filter(user=account).delete()


def sessions_end(account: LoginAccount) -> None:
    """End every session of the account (bieb.kb.session) and every OIDC token: the account
    (locked by the caller, in its transaction) gets a new session version, saved here."""
    account.session_version += 1
    account.save(update_fields=["session_version"])
    oidc_tokens_end(account)


def activation_lifetime() -> dt.timedelta:
    """How long an activation link works: the deadline stored with each new link is now plus
    this, and the mail says this."""
    return activation_tokens.lifetime()


def _link(path: str, query: dict[str, str] | None = None) -> str:
    url = f"{settings.BIEB_BASE_URL}{path}"
    return f"{url}?{urlencode(query)}" if query else url


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y om %H:%M")


def _send_activation(account: LoginAccount, *, next_url: str = "") -> None:
    token = activation_tokens.make_token(account)  # type: ignore[arg-type]
    query = {"next": next_url} if next_url else None
    link = _link(f"/kb/activeren/{encode_account(account)}/{token}/", query)
    context = {
        "account": account,
        "link": link,
        "deadline": _local(account.activation_deadline or timezone.now()),
        "hours": lifetime_label(activation_lifetime()),
    }
    mail_queue(
        to=account.email,
        subject="Activeer je inlogaccount voor de Online Bibliotheek",
        text=render_to_string("kb/mail/activation.txt", context),
        html=render_to_string("kb/mail/activation.html", context),
        kind="kb.activation",
        reference=str(account.pk),
    )


def _purge_if_expired(account: LoginAccount) -> bool:
    """A never-activated account whose deadline passed frees its username at once: True if
    `account` was such an account and is now gone."""
    expired = account.activated_at is None and account.activation_expired()
    if expired:
        event_record(event="account.purged", account=account, data={"reason": "reused"})
        library_events_record(kind=LibraryEventKind.PURGED, account_ids=[account.pk])
        accounts_deleted_send(account_ids=[account.pk], reason="purged")
        account.delete()
    return expired


def _insert_if_free(account: LoginAccount) -> bool:
    """Insert the account unless its username (or id) is taken: True if inserted.

    No exception and so no savepoint: a name taken at this very moment by a concurrent
    request (PostgreSQL waits for that request's commit) leaves the caller's transaction
    usable, so that the caller can answer in Dutch or try another name."""
    LoginAccount.objects.bulk_create([account], ignore_conflicts=True)
    return LoginAccount.objects.filter(pk=account.pk, username=account.username).exists()


# No savepoint of its own: inside a caller's transaction (a counter registration) an error
# here rolls back the whole registration anyway, and a savepoint costs two round trips.
@transaction.atomic(savepoint=False)
def account_create(
    *,
    username: str,
    email: str,
    origin: str,
    actor: str,
    membership: MembershipData | None = None,
    next_url: str = "",
    ip: str | None = None,
    account_id: uuid.UUID | None = None,
) -> LoginAccount:
    """Make an account waiting for activation and mail its activation link.

    A self-chosen name that is taken, or held back after its account gave it up
    (HeldUsername), is refused ("al in gebruik"). A counter's name (the customer number) never
    stops a registration: when the number is taken (a legacy account) the account gets the
    first free `<number>-N`, a name nobody can choose themselves.

    Idempotent on `account_id`: a caller that retries a call whose answer it lost (the
    library's outbox) gets the account its first call made for this membership, with no second
    activation mail. An id that is another membership's account is refused and tells nothing
    about that account (a library names only its own)."""
    if account_id is not None:
        made = LoginAccount.objects.filter(pk=account_id).first()
        if made is not None:
            if (
                membership is not None
                and made.memberships.filter(
                    library_code=membership.library_code,
                    customer_number=membership.customer_number,
                ).exists()
            ):
                return made
            raise ValidationError(ACCOUNT_ID_TAKEN, code="account_id_taken")
    counter = origin == AccountOrigin.COUNTER
    name = username_clean(username, self_chosen=not counter)
    candidates = [name]
    if counter:
        candidates += [f"{name}-{n}" for n in range(2, COUNTER_NAME_VARIANTS + 2)]
    account = LoginAccount(
        id=account_id or uuid.uuid4(),
        email=email.strip(),
        origin=origin,
        state=AccountState.WAITING,
        activation_deadline=timezone.now() + activation_lifetime(),
    )
    for candidate in candidates:
        if username_held(candidate):
            continue
        account.username = candidate
        if _insert_if_free(account):
            break
        taken = LoginAccount.objects.filter(username=candidate).first()
        if taken is not None and _purge_if_expired(taken) and _insert_if_free(account):
            break
    else:
        raise ValidationError({"username": USERNAME_TAKEN})
    if membership is not None:
        _membership_link(account, membership)
    # Where the account came from stays in the log after a purge deletes the account: the
    # statistics (bieb.kb.statistics) count each library's counter accounts that expire unused.
    origin_data = {"origin": origin}
    if membership is not None:
        origin_data |= {
            "library": membership.library_code,
            "customer": membership.customer_number,
        }
    event_record(event="account.created", account=account, actor=actor, ip=ip, data=origin_data)
    _send_activation(account, next_url=next_url)
    return account


def account_signup(
    *, username: str, email: str, ip: str | None, next_url: str = ""
) -> LoginAccount:
    """Online sign-up at the login service, rate limited per address and per e-mail address
    (see SIGNUP_PER_ADDRESS); what was typed wrong is said first and not counted."""
    errors: dict[str, list[str]] = {}
    try:
        email = email_clean(email, required=True)
    except ValidationError as error:
        errors["email"] = error.messages
    try:
        name = username_clean(username)
    except ValidationError as error:
        errors.update(error.message_dict)
        name = ""
    if errors:
        raise ValidationError(errors)
    email_key = f"signup-email:{email.lower()[:180]}"  # keys are at most 200 characters
    taken = attempts_take(
        limits={f"signup-ip:{address_group(ip)}": SIGNUP_PER_ADDRESS, email_key: SIGNUP_PER_EMAIL}
    )
    if taken.refused_by == email_key:
        raise ValidationError(
            {
                "email": "Met dit e-mailadres zijn vandaag al een paar inlogaccounts aangemaakt. "
                f"Probeer het over {wait_words(taken.wait)} opnieuw, of gebruik een ander "
                "e-mailadres."
            },
            code="limited",
        )
    if taken.refused:
        raise ValidationError(
            "Er zijn vanaf dit adres net veel inlogaccounts aangemaakt. "
            f"Probeer het over {wait_words(taken.wait)} opnieuw.",
            code="limited",
        )
    # Its own transaction (a savepoint when a caller already has one): account_create runs
    # without a savepoint for the counter, so its "al in gebruik" would otherwise leave a
    # caller's transaction unusable.
    with transaction.atomic():
        return account_create(
            username=name,
            email=email,
            origin=AccountOrigin.ONLINE,
            actor=f"online:{name}",
            next_url=next_url,
            ip=ip,
        )


def _password_from_link(
    *,
    account: LoginAccount,
    token: str,
    tokens: ActivationTokenGenerator | ResetTokenGenerator,
    password: str,
    dead_link: str,
) -> LoginAccount:
    """Lock the account, check the link's token, and set the new password (not yet saved).

    Call inside the transaction that saves the account: the saved password hash is what makes
    the token unusable a second time."""
    locked = LoginAccount.objects.select_for_update().get(pk=account.pk)
    if not tokens.is_valid(locked, token):
        raise ValidationError(dead_link, code="link")
    try:
        validate_password(password, user=locked)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    locked.set_password(password)
    return locked


@transaction.atomic
def account_activate(
    *,
    account: LoginAccount,
    token: str,
    password: str,
    ip: str | None,
    session_start: Callable[[LoginAccount], None] | None = None,
    user_agent: str = "",
) -> None:
    """Use the activation link: confirm the e-mail, set the password, activate. Once.

    `session_start`, if given, signs the member in (as `account_authenticate` does) inside this
    transaction: whoever just chose the password through the mailed link is not asked for it
    again a moment later."""
    locked = _password_from_link(
        account=account,
        token=token,
        tokens=activation_tokens,
        password=password,
        dead_link="Deze activeringslink werkt niet meer. Vraag de bibliotheek om een nieuwe link.",
    )
    locked.state = AccountState.ACTIVE
    locked.email_verified = True
    locked.activated_at = timezone.now()
    locked.activation_deadline = None
    locked.save(
        update_fields=["password", "state", "email_verified", "activated_at", "activation_deadline"]
    )
    account.refresh_from_db()
    event_record(event="account.activated", account=locked, ip=ip)
    library_events_record(
        kind=LibraryEventKind.ACTIVATED,
        account_ids=[locked.pk],
        username=locked.username,
        email=locked.email,
    )
    if session_start is not None:
        _link_login(locked, ip=ip, user_agent=user_agent, session_start=session_start)


def _link_login(
    account: LoginAccount,
    *,
    ip: str | None,
    user_agent: str,
    session_start: Callable[[LoginAccount], None],
) -> None:
    """Sign in whoever just set the password through a mailed link, in the caller's
    transaction, recorded as a login."""
    account.last_login = timezone.now()
    account.retention_warned_at = None  # in use again (bieb.kb.retention)
    account.save(update_fields=["last_login", "retention_warned_at"])
    event_record(event="login.succeeded", account=account, ip=ip, data={"via": "link"})
    sign_in_record(account=account, ip=ip, user_agent=user_agent, via="link")
    session_start(account)


@transaction.atomic
def activation_resend(*, account: LoginAccount, actor: str) -> LoginAccount:
    """A new link with a new deadline; the old link stops working."""
    locked = LoginAccount.objects.select_for_update().get(pk=account.pk)
    if locked.state != AccountState.WAITING:
        raise ValidationError("Dit inlogaccount is al geactiveerd.", code="active")
    # The cooldown runs from the last activation mail in the outbox.
    if outbox_queued_since(
        kind="kb.activation",
        reference=str(locked.pk),
        since=timezone.now() - RESEND_COOLDOWN,
    ):
        raise ValidationError(
            "De activeringsmail is net verstuurd. Wacht een minuut voor u hem opnieuw verstuurt.",
            code="cooldown",
        )
    locked.link_version += 1
    locked.activation_deadline = timezone.now() + activation_lifetime()
    locked.save(update_fields=["link_version", "activation_deadline"])
    event_record(event="account.activation_resent", account=locked, actor=actor)
    _send_activation(locked)
    return locked


def _membership_link(account: LoginAccount, membership: MembershipData) -> LinkedMembership:
    """Link the membership to the account, or move its existing link here: one upsert."""
    linked = LinkedMembership(
        account=account,
        library_code=membership.library_code,
        library_name=membership.library_name,
        customer_number=membership.customer_number,
        subscription_code=membership.subscription_code,
        digital_rights=membership.digital_rights,
        valid_through=membership.valid_through,
        state=membership.state,
        pay_url=membership.pay_url,
        starts_on=membership.starts_on,
        period_through=membership.period_through,
        physical_loans=membership.physical_loans,
    )
    LinkedMembership.objects.bulk_create(
        [linked],
        update_conflicts=True,
        unique_fields=["library_code", "customer_number"],
        update_fields=[
            "account",
            "library_name",
            "subscription_code",
            "digital_rights",
            "valid_through",
            "state",
            "pay_url",
            "starts_on",
            "period_through",
            "physical_loans",
        ],
    )
    return linked


# Linking an existing account to a library's membership needs its holder's consent: a code
# mailed to the account's own address, typed by staff at the desk.
LINK_CODE_LIFETIME = dt.timedelta(minutes=15)
LINK_CODE_MAX_FAILURES = 5
LINK_CODES_PER_ACCOUNT_PER_HOUR = 3
LINK_CODES_PER_STAFF_PER_HOUR = 20
LINK_CODE_SENT = (
    "Als dit inlogaccount bestaat, is er een code naar het e-mailadres van het account "
    "gestuurd. Vraag de klant om de code uit die e-mail; hij werkt 15 minuten."
)
LINK_CODE_WRONG = (
    "Deze code klopt niet of is verlopen. Vraag de klant om de code uit de nieuwste e-mail, of "
    "vraag een nieuwe code aan."
)
LINK_CODE_LIMITED = (
    "Er zijn te veel codes aangevraagd voor dit inlogaccount of door deze medewerker. Probeer "
    "het over een uur opnieuw."
)


def _link_code_hash(account_id: uuid.UUID, library_code: str, code: str) -> str:
    """Keyed with the server's secret and bound to account and library: a code is of no use
    for another account or another library, and the stored hash gives nothing away."""
    value = f"{account_id}:{library_code}:{code}"
    return salted_hmac("bieb.kb.link-code", value, algorithm="sha256").hexdigest()


def link_code_request(*, username: str, library_code: str, library_name: str, actor: str) -> str:
    """Mail a link code to the active account with this username, if there is one, and return
    the answer for staff: the same whether or not the account exists or is activated.

    Limited per staff member and per typed username (known or not, so that the limit tells
    nothing either); every request is logged."""
    name = username_normalize(username)[:80]
    if not name:
        raise ValidationError(
            {"username": "Vul de gebruikersnaam van het bestaande inlogaccount in."}
        )
    staff_key, account_key = f"link-code-staff:{actor}", f"link-code-account:{name}"
    hour = dt.timedelta(hours=1)
    taken = attempts_take(
        limits={
            staff_key: Limit(free=LINK_CODES_PER_STAFF_PER_HOUR, window=hour),
            account_key: Limit(free=LINK_CODES_PER_ACCOUNT_PER_HOUR, window=hour),
        }
    )
    if taken.refused:
        event_record(
            event="link_code.limited", username=name, actor=actor, data={"library": library_code}
        )
        raise ValidationError({"username": LINK_CODE_LIMITED}, code="limited")
    with transaction.atomic():
        account = LoginAccount.objects.filter(username=name, state=AccountState.ACTIVE).first()
        event_record(
            event="link_code.requested",
            account=account,
            username=name,
            actor=actor,
            data={"library": library_code, "sent": account is not None},
        )
        if account is None:
            return LINK_CODE_SENT
        # A new code replaces the library's earlier ones for this account.
        LinkCode.objects.filter(account=account, library_code=library_code).delete()
        code = f"{secrets.randbelow(1_000_000):06d}"
        LinkCode.objects.create(
            account=account,
            library_code=library_code,
            code_hash=_link_code_hash(account.pk, library_code, code),
            requested_by=actor,
            expires_at=timezone.now() + LINK_CODE_LIFETIME,
        )
        context = {
            "account": account,
            "code": f"{code[:3]} {code[3:]}",
            "library_name": library_name,
            "minutes": int(LINK_CODE_LIFETIME.total_seconds() // 60),
        }
        mail_queue(
            to=account.email,
            subject=f"Je code om je inlogaccount te koppelen aan {library_name}",
            text=render_to_string("kb/mail/link_code.txt", context),
            kind="kb.link_code",
            reference=str(account.pk),
        )
    return LINK_CODE_SENT


def _link_code_live(*, username: str, library_code: str) -> LinkCode | None:
    """The library's newest usable code for the active account with this username, locked."""
    return (
        LinkCode.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(
            account__username=username_normalize(username),
            account__state=AccountState.ACTIVE,
            library_code=library_code,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            failures__lt=LINK_CODE_MAX_FAILURES,
        )
        .order_by("-created_at")
        .first()
    )


def _link_code_matches(row: LinkCode | None, code: str) -> bool:
    typed = "".join((code or "").split())
    if row is None or not typed.isdigit():
        return False
    return constant_time_compare(
        row.code_hash, _link_code_hash(row.account_id, row.library_code, typed)
    )


def link_code_check(*, username: str, code: str, library_code: str, actor: str) -> None:
    """Check a typed code without using it up; a wrong one counts against the code.

    Call it outside any transaction that may roll back (the count of wrong tries must stay):
    `account_link` then uses the code inside the caller's transaction."""
    with transaction.atomic():
        row = _link_code_live(username=username, library_code=library_code)
        ok = _link_code_matches(row, code)
        if not ok:
            if row is not None:
                row.failures += 1
                row.save(update_fields=["failures"])
            event_record(
                event="link_code.failed",
                account=row.account if row is not None else None,
                username=username_normalize(username)[:80],
                actor=actor,
                data={"library": library_code},
            )
    if not ok:
        raise ValidationError({"link_code": LINK_CODE_WRONG}, code="link_code")


@transaction.atomic
def account_link(
    *, username: str, code: str, membership: MembershipData, actor: str
) -> LoginAccount:
    """Link a membership to an existing, activated account with the code its holder received
    (their consent), use the code up, and tell the holder by mail.

    Idempotent: when the membership is linked to this account already (a retried call whose
    answer was lost; the code is used up by then), that link is the answer, and nothing is
    mailed again."""
    linked = (
        LinkedMembership.objects.filter(
            library_code=membership.library_code,
            customer_number=membership.customer_number,
            account__username=username_normalize(username),
        )
        .select_related("account")
        .first()
    )
    if linked is not None:
        return linked.account
    row = _link_code_live(username=username, library_code=membership.library_code)
    if not _link_code_matches(row, code):
        raise ValidationError({"link_code": LINK_CODE_WRONG}, code="link_code")
    assert row is not None  # noqa: S101  (matched)
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    return _linked(row.account, membership, actor)


@transaction.atomic
def account_link_own(
    *, account_id: uuid.UUID, membership: MembershipData, actor: str, id_token: str | None
) -> LoginAccount:
    """Link a membership to the account of the member who signed in with it at the library's
    online sign-up. `id_token` is the ID token of that sign-in, their consent
    (bieb.kb.consent: up to LINK_OWN_CONSENT_AGE old, expired or not); None only from a
    library side in this very process, whose relying party verified the sign-in itself."""
    if id_token is not None:
        link_own_consent_check(id_token=id_token, account_id=account_id)
    account = LoginAccount.objects.filter(pk=account_id, state=AccountState.ACTIVE).first()
    if account is None:
        raise ValidationError(
            {"username": "Dit inlogaccount is niet (meer) actief. Log opnieuw in bij de KB."}
        )
    return _linked(account, membership, actor)


def _linked(account: LoginAccount, membership: MembershipData, actor: str) -> LoginAccount:
    already = LinkedMembership.objects.filter(
        account=account,
        library_code=membership.library_code,
        customer_number=membership.customer_number,
    ).exists()
    _membership_link(account, membership)
    if already:  # a retried call: the link holds its data now; no second event or mail
        return account
    event_record(
        event="account.linked",
        account=account,
        actor=actor,
        data={"library": membership.library_code, "customer": membership.customer_number},
    )
    context = {"account": account, "library_name": membership.library_name}
    mail_queue(
        to=account.email,
        subject=f"{membership.library_name} heeft je inlogaccount gekoppeld",
        text=render_to_string("kb/mail/linked.txt", context),
        kind="kb.linked",
        reference=str(account.pk),
    )
    return account


@transaction.atomic
def account_forget(
    *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
) -> bool:
    """Unlink the membership; an account that was never activated is deleted. True if deleted."""
    account = LoginAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        return False
    LinkedMembership.objects.filter(
        account=account, library_code=library_code, customer_number=customer_number
    ).delete()
    deleted = account.state == AccountState.WAITING and account.activated_at is None
    event_record(
        event="account.forgotten",
        account=account,
        actor=actor,
        data={"library": library_code, "customer": customer_number, "deleted": deleted},
    )
    if deleted:
        # Other libraries linked to it (none, as a rule: only active accounts get linked).
        library_events_record(kind=LibraryEventKind.DELETED, account_ids=[account.pk])
        accounts_deleted_send(account_ids=[account.pk], reason="forgotten")
        account.delete()
    return deleted


@transaction.atomic
def accounts_forget(*, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str) -> int:
    """`account_forget` for many of one library's memberships at once (the library's retention
    job): each (account id, customer number) is unlinked, with an event each; an account among
    them that was never activated is deleted. A handful of statements for the whole list.
    Returns how many accounts were deleted."""
    if not links:
        return 0
    ids = sorted({account_id for account_id, _ in links})
    locked = {
        pk: (username, state, activated_at)
        for pk, username, state, activated_at in LoginAccount.objects.select_for_update()
        .filter(pk__any=ids)
        .order_by("pk")
        .values_list("pk", "username", "state", "activated_at")
    }
    numbers = [number for account_id, number in links if account_id in locked]
    # A customer number is linked to at most one account (kb_membership_once).
    LinkedMembership.objects.filter(
        library_code=library_code, customer_number__any=numbers
    ).delete()
    doomed = [
        pk
        for pk, (_, state, activated_at) in locked.items()
        if state == AccountState.WAITING and activated_at is None
    ]
    AccountEvent.objects.bulk_create(
        [
            AccountEvent(
                event="account.forgotten",
                account_id=account_id,
                username=locked[account_id][0],
                actor=actor,
                data={
                    "library": library_code,
                    "customer": number,
                    "deleted": account_id in doomed,
                },
            )
            for account_id, number in links
            if account_id in locked
        ],
        batch_size=1000,
    )
    if doomed:
        accounts_deleted_send(account_ids=doomed, reason="forgotten")
        LoginAccount.objects.filter(pk__any=doomed).delete()
    return len(doomed)


@transaction.atomic
def membership_update(*, membership: MembershipData) -> None:
    LinkedMembership.objects.filter(
        library_code=membership.library_code, customer_number=membership.customer_number
    ).update(
        subscription_code=membership.subscription_code,
        digital_rights=membership.digital_rights,
        valid_through=membership.valid_through,
        state=membership.state,
        pay_url=membership.pay_url,
        starts_on=membership.starts_on,
        period_through=membership.period_through,
        physical_loans=membership.physical_loans,
    )


def library_contact_update(*, library: LibraryData) -> None:
    """Keep the login service's copy of a library's name and contact details (one upsert)."""
    LibraryContact.objects.update_or_create(
        library_code=library.code,
        defaults={
            "name": library.name,
            "contact_address": library.contact_address,
            "contact_phone": library.contact_phone,
            "contact_email": library.contact_email,
            "website": library.website,
        },
    )


def memberships_update(*, memberships: list[MembershipData]) -> int:
    """`membership_update` for many at once (the renewal run): one statement that joins the
    rows to their new values (PostgreSQL: arrays, unnested; SQLite: a VALUES list, in parts
    that stay under its limit of parameters)."""
    rows = [
        (
            item.library_code,
            item.customer_number,
            item.subscription_code,
            item.digital_rights,
            item.valid_through.isoformat() if item.valid_through else None,
            item.state,
            item.pay_url,
            item.starts_on.isoformat() if item.starts_on else None,
            item.period_through.isoformat() if item.period_through else None,
            # As text, for the arrays and the VALUES list alike; cast back in the statement.
            "1" if item.physical_loans else "0",
        )
        for item in memberships
    ]
    table = LinkedMembership._meta.db_table
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if rows:
                cursor.execute(
                    f"""
                    UPDATE {table} AS lm
                    SET subscription_code = v.subscription_code,
                        digital_rights = v.digital_rights,
                        valid_through = v.valid_through::date, state = v.state,
                        pay_url = v.pay_url, starts_on = v.starts_on::date,
                        period_through = v.period_through::date,
                        physical_loans = v.physical_loans = '1'
                    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                                %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
                        AS v(library_code, customer_number, subscription_code, digital_rights,
                             valid_through, state, pay_url, starts_on, period_through,
                             physical_loans)
                    WHERE lm.library_code = v.library_code
                      AND lm.customer_number = v.customer_number
                    """,  # noqa: S608  (the table name is the model's own)
                    [list(column) for column in zip(*rows, strict=True)],
                )
                count = cursor.rowcount
            return count
        for start in range(0, len(rows), 1000):
            part = rows[start : start + 1000]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(
                f"""
                UPDATE {table} AS lm
                SET subscription_code = v.column3, digital_rights = v.column4,
                    valid_through = v.column5, state = v.column6, pay_url = v.column7,
                    starts_on = v.column8, period_through = v.column9,
                    physical_loans = v.column10 = '1'
                FROM (VALUES {values}) AS v
                WHERE lm.library_code = v.column1 AND lm.customer_number = v.column2
                """,  # noqa: S608  (the table name is the model's own)
                [value for row in part for value in row],
            )
            count += cursor.rowcount
    return count


# Checked instead of a real hash when there is none to check (an unknown username, an account
# still waiting for its first password), so that every attempt costs one hash of the same cost.
_DUMMY_HASH = make_password("bieb-timing-equaliser")


def account_authenticate(
    *,
    username: str,
    password: str,
    ip: str | None,
    session_start: Callable[[LoginAccount], None] | None = None,
    user_agent: str = "",
) -> LoginAccount:
    """The active account for these credentials, or ValidationError with one Dutch message that
    does not tell whether the username exists or in which state its account is.

    `session_start`, if given, is called with the account inside the transaction that records
    the login, so that the caller's new session is stored in the same commit.

    Every attempt that is not refused for waiting costs exactly one password hash of the same
    cost, whatever the account: unknown, waiting, disabled, wrong or right password (no timing
    tells them apart). Cost per login: the attempt counted (one short transaction,
    bieb.core.logins), the account read, the hash, and one transaction for the bookkeeping of a
    success (with the member's own record of it: `user_agent` gives its device)."""
    name = username_normalize(username)
    attempt = login_attempt(scope=LOGIN_SCOPE, username=name, address=ip)
    if attempt.refused:
        event_record(event="login.locked", username=name[:80], ip=ip)
        raise ValidationError(_login_wait(attempt.wait), code="locked")
    account = LoginAccount.objects.filter(username=name).first()
    if account is not None and account.password:
        ok = account.check_password(password) and account.state == AccountState.ACTIVE
    else:
        check_password(password, _DUMMY_HASH)
        ok = False
    if account is not None and ok:
        device_of(user_agent)  # read before the transaction: the first time takes a moment
        with transaction.atomic():  # one commit for all the bookkeeping of a login
            login_succeeded(attempt)
            account.last_login = timezone.now()
            account.retention_warned_at = None  # in use again (bieb.kb.retention)
            account.save(update_fields=["last_login", "retention_warned_at"])
            event_record(event="login.succeeded", account=account, ip=ip)
            sign_in_record(account=account, ip=ip, user_agent=user_agent)
            if session_start is not None:
                session_start(account)
        return account
    event_record(event="login.failed", account=account, username=name[:80], ip=ip)
    raise ValidationError(LOGIN_REFUSED, code="refused")


def _forgot_allowed(*, subject: str, ip: str | None) -> bool:
    """Count a forgot-request for `subject` (an account or an e-mail address) from `ip`."""
    taken = attempts_take(
        limits={
            f"forgot:{subject.strip().lower()[:150]}": FORGOT_PER_ACCOUNT,
            f"forgot-ip:{address_group(ip)}": FORGOT_PER_ADDRESS,
        }
    )
    return not taken.refused


# At most this many accounts get a reset link for one e-mail address (a family may share one).
RESET_ACCOUNTS_PER_EMAIL = 5


def password_reset_request(*, identifier: str, ip: str | None) -> None:
    """Mail a reset link to each active account that has this username, or this e-mail
    address (anything with an "@"); the caller answers the same in every case, also when the
    request is over its limit (FORGOT_PER_ACCOUNT), so that the answer tells nothing about
    which accounts exist."""
    typed = (identifier or "").strip()
    if "@" in typed:
        if not _forgot_allowed(subject=f"password:{typed}", ip=ip):
            return
        accounts = list(
            LoginAccount.objects.filter(email__iexact=typed, state=AccountState.ACTIVE).order_by(
                "username"
            )[:RESET_ACCOUNTS_PER_EMAIL]
        )
    else:
        name = username_normalize(typed)
        if not name or not _forgot_allowed(subject=f"password:{name}", ip=ip):
            return
        accounts = list(LoginAccount.objects.filter(username=name, state=AccountState.ACTIVE))
    for account in accounts:
        _reset_link_send(account, ip=ip)


def _reset_link_send(account: LoginAccount, *, ip: str | None) -> None:
    token = reset_tokens.make_token(account)  # type: ignore[arg-type]
    context = {
        "account": account,
        "link": _link(f"/kb/wachtwoord-herstellen/{encode_account(account)}/{token}/"),
        "hours": lifetime_label(reset_tokens.lifetime()),
    }
    with transaction.atomic():
        event_record(event="password.reset_requested", account=account, ip=ip)
        mail_queue(
            to=account.email,
            subject="Nieuw wachtwoord voor je inlogaccount",
            text=render_to_string("kb/mail/reset.txt", context),
            kind="kb.reset",
            reference=str(account.pk),
        )


@transaction.atomic
def password_reset(
    *,
    account: LoginAccount,
    token: str,
    password: str,
    ip: str | None,
    session_start: Callable[[LoginAccount], None] | None = None,
    user_agent: str = "",
) -> None:
    """Use the reset link: set the new password. Once. Every session and OIDC token of the
    account ends (whoever knew the old password is out); `session_start` as in
    `account_activate` signs in this browser."""
    locked = _password_from_link(
        account=account,
        token=token,
        tokens=reset_tokens,
        password=password,
        dead_link="Deze link werkt niet meer. Vraag via 'Wachtwoord vergeten' een nieuwe aan.",
    )
    locked.save(update_fields=["password"])
    sessions_end(locked)
    login_failures_forget(scope=LOGIN_SCOPE, username=locked.username)
    event_record(event="password.reset", account=locked, ip=ip)
    if session_start is not None:
        _link_login(locked, ip=ip, user_agent=user_agent, session_start=session_start)


def username_reminder(*, email: str, ip: str | None) -> None:
    """Mail the usernames of the active accounts with this e-mail address, if any; limited per
    e-mail address like the password mail per account."""
    address = (email or "").strip()
    if not address or not _forgot_allowed(subject=f"username:{address}", ip=ip):
        return
    accounts = list(
        LoginAccount.objects.filter(email__iexact=address, state=AccountState.ACTIVE).order_by(
            "username"
        )
    )
    if not accounts:
        return
    context = {"usernames": [a.username for a in accounts], "login": _link("/kb/inloggen/")}
    with transaction.atomic():
        event_record(event="username.reminded", username=accounts[0].username, ip=ip)
        mail_queue(
            to=accounts[0].email,
            subject="Je gebruikersnaam voor de Online Bibliotheek",
            text=render_to_string("kb/mail/usernames.txt", context),
            kind="kb.usernames",
        )


@dataclass(frozen=True)
class PurgeResult:
    """What one purge run did; `longest` is the longest batch in seconds, which is also the
    longest any of its row locks was held."""

    deleted: int = 0
    batches: int = 0
    longest: float = 0.0


# One batch on PostgreSQL, in one statement: lock the oldest expired accounts (skipping any that
# another transaction holds: an account being activated right now is not waited for, and if it
# stays expired the next run takes it), delete them with the condition checked again, delete
# their linked memberships (each leaving an event for its library's feed, bieb.kb.api.events),
# and write an audit row for each.
_PURGE_BATCH_SQL = """
    WITH doomed AS (
        DELETE FROM kb_loginaccount
        WHERE id IN (
            SELECT id FROM kb_loginaccount
            WHERE state = %(waiting)s AND activated_at IS NULL
                AND activation_deadline <= %(now)s {after}
            ORDER BY activation_deadline
            LIMIT %(limit)s
            FOR UPDATE SKIP LOCKED
        ) AND state = %(waiting)s AND activated_at IS NULL
        RETURNING id, username, activation_deadline
    ), memberships AS (
        DELETE FROM kb_linkedmembership WHERE account_id IN (SELECT id FROM doomed)
        RETURNING account_id, library_code, customer_number
    ), library_events AS (
        INSERT INTO kb_libraryevent
            (position, at, library_code, kind, account_id, customer_number, username, email)
        SELECT NULL, %(at)s, library_code, %(purged)s, account_id, customer_number, '', ''
        FROM memberships
    ), events AS (
        INSERT INTO kb_accountevent (at, account_id, username, event, actor, ip, data)
        SELECT %(at)s, id, username, 'account.purged', '', NULL, '{{}}' FROM doomed
    )
    SELECT count(*), max(activation_deadline), array_agg(id) FROM doomed
"""


def _purge_batch(
    *, now: dt.datetime, after: dt.datetime | None, batch_size: int, collect: bool
) -> tuple[int, dt.datetime | None]:
    """One batch in the caller's transaction: (accounts deleted, the last deadline reached).

    `after` is where the previous batch stopped: the scan of the deadline index starts there,
    past the entries of the accounts already deleted, instead of stepping over them each time.

    On PostgreSQL (unless `collect`) the batch is one statement, see above. Any row other than a
    membership that refers to one of its accounts (OpenID Connect grants and tokens, which only
    an activated account can get) fails the foreign key check when the batch commits; the
    caller then does the batch again with `collect`: Django's own cascade, which finds and
    deletes those rows first, as it does on the other databases.
    """
    if connection.vendor == "postgresql" and not collect:
        params: dict[str, str | int | dt.datetime | None] = {
            "waiting": AccountState.WAITING.value,
            "now": now,
            "after": after,
            "limit": batch_size,
            "at": timezone.now(),
            "purged": LibraryEventKind.PURGED.value,
        }
        sql = _PURGE_BATCH_SQL.format(
            after="AND activation_deadline >= %(after)s" if after is not None else ""
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            deleted, last, ids = cursor.fetchone()
        # The library side clears its references to these accounts in this same transaction.
        accounts_deleted_send(account_ids=ids or [], reason="purged")
        if connection.savepoint_ids:
            # Inside a caller's transaction this batch does not commit: the deferred foreign
            # key checks run now, so that a violation rolls back this batch alone.
            connection.check_constraints()
        return deleted, last
    expired = LoginAccount.objects.filter(
        state=AccountState.WAITING, activated_at__isnull=True, activation_deadline__lte=now
    )
    if after is not None:
        expired = expired.filter(activation_deadline__gte=after)
    doomed = list(
        expired.order_by("activation_deadline")
        .select_for_update(skip_locked=True)
        .values_list("pk", "username", "activation_deadline")[:batch_size]
    )
    if not doomed:
        return 0, None
    AccountEvent.objects.bulk_create(
        AccountEvent(event="account.purged", account_id=pk, username=username)
        for pk, username, _ in doomed
    )
    library_events_record(kind=LibraryEventKind.PURGED, account_ids=[pk for pk, _, _ in doomed])
    # Checked again; a batch that would not delete exactly the accounts it locked is rolled
    # back whole.
    accounts = LoginAccount.objects.filter(
        pk__in=[pk for pk, _, _ in doomed], state=AccountState.WAITING, activated_at__isnull=True
    )
    deleted = accounts.delete()[1].get(LoginAccount._meta.label, 0)
    if deleted != len(doomed):
        raise RuntimeError(f"purge batch deleted {deleted} accounts of {len(doomed)} selected")
    accounts_deleted_send(account_ids=[pk for pk, _, _ in doomed], reason="purged")
    return deleted, doomed[-1][2]


def accounts_purge_expired(
    *, batch_size: int = PURGE_BATCH, max_batches: int | None = None
) -> PurgeResult:
    """Delete never-activated accounts whose activation deadline has passed, in batches of
    one transaction each, oldest deadline first; an audit event per account.

    The condition is fixed here, not a parameter: whatever the job is given, an account that
    was ever activated (or is active or disabled) is never selected.
    """
    batch_size = max(1, min(int(batch_size), 10_000))
    now = timezone.now()
    after: dt.datetime | None = None
    deleted = batches = 0
    longest = 0.0
    while max_batches is None or batches < max_batches:
        started = time.perf_counter()
        start = after
        try:
            with transaction.atomic():
                count, after = _purge_batch(
                    now=now, after=start, batch_size=batch_size, collect=False
                )
        except IntegrityError:
            # Rolled back: something other than a membership refers to one of these accounts.
            # The accounts are deleted again as Django deletes them, with all their relations.
            with transaction.atomic():
                count, after = _purge_batch(
                    now=now, after=start, batch_size=batch_size, collect=True
                )
        if not count:
            break
        longest = max(longest, time.perf_counter() - started)
        deleted += count
        batches += 1
    return PurgeResult(deleted=deleted, batches=batches, longest=longest)
