"""Writes of the online sign-up.

The customer is created only when the payment succeeds (the payment's handler below), never
before: an abandoned sign-up leaves no customer, membership, ledger line or login link behind.
Until "Betalen" the sign-up lives only in the member's session (`bieb.signup.steps`); pressing
"Betalen" stores a `Signup` row (what the payment's webhook needs, as it has no session) and
starts the payment. The row is found again by the session's registration key, so back, refresh
and double clicks reuse it and its open payment.

A member of a library that collects (`Library.debits_enabled`) who signs up for a subscription
that renews by itself may choose to pay the following years by direct debit: an electronic
mandate (IBAN, account holder, consent to a text naming the creditor, its Incassant-ID and the
mandate reference), kept with the sign-up and made in the registration's transaction when the
payment succeeds. The first year is always the payment at sign-up.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bieb.core.dates import date_nl
from bieb.core.money import format_euro
from bieb.customers.costs import CostBuildUp, cost_build_up
from bieb.customers.details import CustomerDetails, customer_details_clean
from bieb.customers.models import MEMBERSHIP_CLOSED, Customer, Membership
from bieb.customers.selectors import customer_likely_duplicates, customer_saldo
from bieb.customers.services import customer_register
from bieb.customers.validators import masked_iban
from bieb.debits.models import Mandate, MandateKind
from bieb.debits.services import (
    Consent,
    mandate_account_clean,
    mandate_consent_text,
    mandate_create,
    mandate_reference_for_signup,
)
from bieb.integrations.kb.client import kb_base_url
from bieb.kb import interface as login_service
from bieb.kboutbox.services import kb_sync_call
from bieb.libraries.models import Branch, Library, RenewalKind, SubscriptionType
from bieb.mail.services import mail_queue
from bieb.payments.handlers import FulfilmentProblem, fulfilment_handler
from bieb.payments.models import UNSETTLED, Payment, PaymentStatus
from bieb.payments.providers import ProviderError
from bieb.payments.selectors import payments_for
from bieb.payments.services import payment_book, payment_checkout, payment_prepare, payment_sync
from bieb.signup.models import Signup, SignupStatus

logger = logging.getLogger(__name__)

PURPOSE = "signup"
# How long a started sign-up (and its session state) is kept without a successful payment.
SIGNUP_LIFETIME = dt.timedelta(hours=24)
# After this, a sign-up whose payment the provider still calls open is given up anyway.
UNSETTLED_GRACE = dt.timedelta(days=7)
COMPLETED_KEPT = dt.timedelta(days=30)


class SignupError(Exception):
    """The sign-up cannot go on; the message is Dutch, for the member."""


@dataclass(frozen=True)
class Checked:
    details: CustomerDetails
    costs: CostBuildUp


@dataclass(frozen=True)
class SignupMandate:
    """The member's direct debit for the following years, checked, with the consent's evidence;
    kept JSON-safe in `Signup.mandate` until the customer exists."""

    iban: str
    bic: str
    holder_name: str
    reference: str
    consent: Consent

    def as_json(self) -> dict[str, Any]:
        return {
            "iban": self.iban,
            "bic": self.bic,
            "holder_name": self.holder_name,
            "reference": self.reference,
            "consent_text": self.consent.text,
            "consent_at": self.consent.at.isoformat(),
            "consent_ip": self.consent.ip,
            "consent_user_agent": self.consent.user_agent,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SignupMandate":
        return cls(
            iban=data["iban"],
            bic=data["bic"],
            holder_name=data["holder_name"],
            reference=data["reference"],
            consent=Consent(
                text=data["consent_text"],
                at=dt.datetime.fromisoformat(data["consent_at"]),
                ip=data["consent_ip"],
                user_agent=data["consent_user_agent"],
            ),
        )


def signup_debit_offered(*, library: Library, subscription_type: SubscriptionType) -> bool:
    """Whether the sign-up offers direct debit for the following years: only when the library
    collects, and only for a subscription that renews by itself (a Vast one ends unless the
    member renews it, which the renewal's own page offers to pay by direct debit)."""
    return library.debits_enabled and subscription_type.renewal == RenewalKind.AUTOMATIC


def signup_consent_text(*, library: Library, registration_key: uuid.UUID) -> str:
    """The consent the member gives, with the reference their mandate will have."""
    return mandate_consent_text(
        library=library, reference=mandate_reference_for_signup(registration_key)
    )


def signup_mandate_clean(
    *,
    library: Library,
    subscription_type: SubscriptionType,
    registration_key: uuid.UUID,
    iban: str,
    holder_name: str,
    consent_given: bool,
    ip: str | None,
    user_agent: str,
) -> SignupMandate:
    """The member chose direct debit: check the account (the mandate's own rules) and the
    consent, and take down the evidence (now, the client's address and browser). Raises
    ValidationError keyed by "iban", "holder_name" and "consent"; SignupError when it is not
    offered (any more)."""
    if not signup_debit_offered(library=library, subscription_type=subscription_type):
        raise SignupError(
            f"Automatische incasso kan bij {library.name} voor {subscription_type.name} niet. "
            "Je krijgt elk jaar een e-mail met een betaallink."
        )
    errors: dict[str, list[str]] = {}
    try:
        iban, bic, holder_name = mandate_account_clean(iban=iban, holder_name=holder_name)
    except ValidationError as error:
        errors = dict(error.message_dict)
        # No BIC field online: a foreign IBAN's bank is said at the IBAN.
        if "bic" in errors:
            errors.setdefault("iban", []).extend(errors.pop("bic"))
    if not consent_given:
        errors["consent"] = ["Geef toestemming voor de automatische incasso."]
    if errors:
        raise ValidationError(errors)
    return SignupMandate(
        iban=iban,
        bic=bic,
        holder_name=holder_name,
        reference=mandate_reference_for_signup(registration_key),
        consent=Consent(
            text=signup_consent_text(library=library, registration_key=registration_key),
            at=timezone.now(),
            ip=ip,
            user_agent=user_agent[:300],
        ),
    )


def signup_mandate(signup: Signup) -> Mandate | None:
    """The mandate a completed sign-up made (None when the member did not choose one)."""
    if signup.customer_id is None:
        return None
    return Mandate.objects.filter(
        library_id=signup.library_id,
        customer_id=signup.customer_id,
        reference=mandate_reference_for_signup(signup.registration_key),
    ).first()


def signup_branch(library: Library) -> Branch:
    """Online sign-ups are registered at the library's first branch (its lowest number)."""
    branch = library.branches.order_by("number").first()
    if branch is None:
        raise SignupError(f"{library.name} heeft nog geen vestiging; inschrijven kan nu niet.")
    return branch


def signup_current_membership(
    *, library: Library, account_id: uuid.UUID | str, on: dt.date
) -> Membership | None:
    """A membership of this library, linked to this login account, that runs on `on` (paid
    or still waiting for its payment)."""
    return (
        Membership.objects.filter(
            library=library,
            customer__login_account_id=account_id,
            start_date__lte=on,
            valid_through__gte=on,
        )
        .exclude(status__in=MEMBERSHIP_CLOSED)
        .select_related("subscription_type")
        .first()
    )


def signup_details_check(
    *,
    library: Library,
    subscription_type: SubscriptionType,
    username: str,
    account_id: uuid.UUID | str,
    raw: dict[str, Any],
    today: dt.date,
) -> Checked:
    """The details as the counter checks them (same rules, same messages), plus what only
    matters online. Raises ValidationError keyed by field ("__all__" for the whole form)."""
    details = customer_details_clean(raw, today=today, email_required=True)
    costs = cost_build_up(customer=details, subscription_type=subscription_type, on=today)
    current = signup_current_membership(library=library, account_id=account_id, on=today)
    if current is not None:
        raise ValidationError(
            {
                "__all__": (
                    f"Met inlogaccount {username} ben je al lid van {library.name} "
                    f"({current.subscription_type.name}, geldig t/m "
                    f"{date_nl(current.valid_through)}). Je hoeft je niet opnieuw in te schrijven."
                )
            }
        )
    if customer_likely_duplicates(
        library=library,
        surname=details.surname,
        birth_date=details.birth_date,
        postcode=details.postcode,
    ).exists():
        raise ValidationError(
            {
                "__all__": (
                    f"Er staat al een klant met deze achternaam, geboortedatum en postcode "
                    f"ingeschreven bij {library.name}. Ben je al lid? Neem dan contact op met de "
                    f"bibliotheek ({contact_short(library)}); zij passen je abonnement aan."
                )
            }
        )
    return Checked(details=details, costs=costs)


def _description(library: Library, subscription_type: SubscriptionType, costs: CostBuildUp) -> str:
    return f"{library.name}: {subscription_type.name}, {costs.valid_through_label}"


def signup_payment_start(
    *,
    library: Library,
    registration_key: uuid.UUID,
    subscription_type: SubscriptionType,
    username: str,
    account_id: uuid.UUID | str,
    raw: dict[str, Any],
    today: dt.date,
    return_url: Callable[[uuid.UUID], str],
    mandate: SignupMandate | None = None,
    id_token: str = "",
) -> Payment:
    """Store the sign-up and start (or find again) its payment; returns it with its checkout URL.
    `mandate` is the member's direct debit for the following years (`signup_mandate_clean`),
    None when not chosen; the last "Betalen" decides. `id_token` is the ID token of the
    member's sign-in at the KB that told us `account_id`: their consent to the link, kept with
    the sign-up until the registration hands it to the KB call (bieb.kb.consent).

    Under the sign-up's row lock: a paid payment ends it (SignupError); an unsettled payment of
    the same amount is reused; otherwise (none yet, or the last one failed, was cancelled or
    expired) a new attempt gets the next idempotency key. So a double click or a refresh gets
    the same payment, and a retry after a failed one a new one.
    Raises ValidationError (the details no longer pass), SignupError or ProviderError.
    """
    checked = signup_details_check(
        library=library,
        subscription_type=subscription_type,
        username=username,
        account_id=account_id,
        raw=raw,
        today=today,
    )
    account_id = uuid.UUID(str(account_id))
    try:
        active = kb_sync_call(login_service.account_status_by_id, account_id=account_id).is_active
    except login_service.KBUnavailable:
        raise SignupError(
            "De KB (de landelijke inlogdienst) is nu niet bereikbaar. Probeer het over een paar "
            "minuten opnieuw; er is niets betaald."
        ) from None
    if not active:
        raise SignupError(
            f"Inlogaccount {username} is niet (meer) actief. Log opnieuw in bij de KB."
        )
    amount = checked.costs.amount
    if amount <= 0:
        raise SignupError(
            "Dit abonnement kost niets; schrijf je daarvoor in aan de balie van een vestiging."
        )
    if mandate is not None and not signup_debit_offered(
        library=library, subscription_type=subscription_type
    ):
        raise SignupError(
            f"Automatische incasso kan bij {library.name} voor {subscription_type.name} niet."
        )
    chosen = mandate.as_json() if mandate is not None else {}
    branch = signup_branch(library)
    reference = str(registration_key)
    with transaction.atomic():
        signup, _ = Signup.objects.get_or_create(
            registration_key=registration_key,
            defaults={
                "library": library,
                "subscription_type": subscription_type,
                "branch": branch,
                "login_account_id": account_id,
                "id_token": id_token,
                "details": raw,
                "mandate": chosen,
                "on_date": today,
                "amount": amount,
                "expires_at": timezone.now() + SIGNUP_LIFETIME,
            },
        )
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.library_id != library.pk:
            raise SignupError("Deze inschrijving hoort bij een andere bibliotheek.")
        earlier = payments_for(purpose=PURPOSE, reference=reference)
        if signup.status == SignupStatus.COMPLETED or any(
            p.status == PaymentStatus.PAID for p in earlier
        ):
            raise SignupError("Deze inschrijving is al betaald.")
        latest = earlier[0] if earlier else None
        if latest is not None and latest.status in UNSETTLED and latest.amount == amount:
            key = latest.idempotency_key
        else:
            key = f"{PURPOSE}:{registration_key}:{len(earlier) + 1}"
        signup.subscription_type = subscription_type
        signup.branch = branch
        signup.login_account_id = account_id
        signup.id_token = id_token
        signup.details = raw
        signup.mandate = chosen
        signup.on_date = today
        signup.amount = amount
        signup.expires_at = timezone.now() + SIGNUP_LIFETIME
        signup.save()
        payment = payment_prepare(
            library=library,
            purpose=PURPOSE,
            reference=reference,
            idempotency_key=key,
            amount=amount,
            description=_description(library, subscription_type, checked.costs),
        )
    # Outside the lock: the provider is called over the network, with the payment's own key.
    return payment_checkout(payment=payment, return_url=return_url)


def signup_get(*, library: Library, registration_key: uuid.UUID) -> Signup | None:
    return (
        Signup.objects.filter(library=library, registration_key=registration_key)
        .select_related("customer", "membership", "membership__subscription_type")
        .first()
    )


@fulfilment_handler(PURPOSE)
def signup_fulfil(payment: Payment) -> None:
    """The payment of a sign-up succeeded: register the customer with an active membership,
    linked to their login account; book the payment; mail a confirmation. Runs once per payment
    (in its status change to paid). Under the row locks of every sign-up of this login account
    at this library, a second paid payment of the same sign-up, and the payment of a second
    sign-up by a member who is a member by now (two browsers, both paid), are refund cases for
    staff, not a second customer."""
    found = Signup.objects.filter(
        registration_key=payment.reference, library_id=payment.library_id
    ).first()
    signup = None
    if found is not None:
        # Every sign-up of this account here, locked in one order, so that two fulfilments for
        # one account wait for each other instead of deadlocking; the one that waited then sees
        # the customer the other one made.
        locked = Signup.objects.select_for_update().filter(
            library_id=found.library_id, login_account_id=found.login_account_id
        )
        signup = next((s for s in locked.order_by("pk") if s.pk == found.pk), None)
    if signup is None:  # removed by the clean-up job (possibly just now)
        raise FulfilmentProblem(
            "Terugbetalen: de inschrijving bij deze betaling is verlopen en verwijderd, er is "
            f"niemand ingeschreven. Betaal {format_euro(payment.amount)} terug."
        )
    amount = format_euro(payment.amount)
    if signup.status == SignupStatus.COMPLETED:
        number = f" (klant {signup.customer.number})" if signup.customer else ""
        raise FulfilmentProblem(
            f"Terugbetalen (dubbele betaling): deze online inschrijving was al betaald en "
            f"verwerkt{number}. Deze betaling van {amount} is niet gebruikt; betaal haar terug.",
            customer=signup.customer,
        )
    current = signup_current_membership(
        library=signup.library, account_id=signup.login_account_id, on=signup.on_date
    )
    if current is not None:
        try:
            username = kb_sync_call(
                login_service.account_status_by_id, account_id=signup.login_account_id
            ).username
        except login_service.KBUnavailable:
            username = "(KB niet bereikbaar)"
        raise FulfilmentProblem(
            f"Terugbetalen (dubbele inschrijving): inlogaccount {username} is al "
            f"lid (klant {current.customer.number}, {current.subscription_type.name}, geldig "
            f"t/m {date_nl(current.valid_through)}). Er is geen tweede klant gemaakt; betaal "
            f"deze {amount} terug.",
            customer=current.customer,
        )
    details = customer_details_clean(signup.details, today=signup.on_date, email_required=True)
    registration = customer_register(
        actor=None,
        branch=signup.branch,
        details=details,
        subscription_type=signup.subscription_type,
        account_id=signup.login_account_id,
        id_token=signup.id_token,
        confirm_duplicate=True,  # checked before paying; after paying, registering wins
        registration_key=signup.registration_key,
        on=signup.on_date,
        then=_mandate_maker(signup),
    )
    if registration.costs.amount != payment.amount:
        logger.warning(
            "sign-up %s: paid %s, build-up now %s",
            signup.pk,
            payment.amount,
            registration.costs.amount,
        )
    payment_book(
        payment=payment, customer=registration.customer, membership=registration.membership
    )
    signup.status = SignupStatus.COMPLETED
    signup.customer = registration.customer
    signup.membership = registration.membership
    signup.details = {}  # the customer row holds them now
    signup.mandate = {}  # ... and the mandate row this
    signup.id_token = ""  # ... and the KB call the consent
    signup.save(
        update_fields=[
            "status",
            "customer",
            "membership",
            "details",
            "mandate",
            "id_token",
            "updated_at",
        ]
    )
    # The member's own account, which they signed in with a moment ago; linked to the new
    # membership after this commits (bieb.kboutbox). Its name for the welcome mail, if the KB
    # can say now.
    try:
        username = kb_sync_call(
            login_service.account_status_by_id, account_id=signup.login_account_id
        ).username
    except login_service.KBUnavailable:
        username = ""
    _mail_welcome(
        registration.customer,
        registration.membership,
        payment,
        username=username,
        mandate=signup_mandate(signup),
    )


def _mandate_maker(signup: Signup) -> Callable[[Customer], object] | None:
    """The direct-debit mandate the member chose, made for the new customer in the
    registration's transaction (when it fails, nothing of the registration is saved). A
    library that stopped collecting after the member chose it gets no mandate: the member has
    paid, and registering wins; they pay the next year by the renewal mail's link."""
    if not signup.mandate:
        return None
    chosen = SignupMandate.from_json(signup.mandate)
    library = signup.library
    if not library.debits_enabled:
        logger.warning("sign-up %s: library no longer collects; no mandate made", signup.pk)
        return None

    def make(customer: Customer) -> Mandate:
        return mandate_create(
            library=library,
            customer=customer,
            iban=chosen.iban,
            bic=chosen.bic,
            holder_name=chosen.holder_name,
            signed_on=timezone.localdate(chosen.consent.at),
            kind=MandateKind.ONLINE,
            actor=None,
            actor_name=f"online:{customer.number}",
            consent=chosen.consent,
            reference=chosen.reference,
        )

    return make


def _mail_welcome(
    customer: Customer,
    membership: Membership,
    payment: Payment,
    *,
    username: str,
    mandate: Mandate | None,
) -> None:
    library = customer.library
    context = {
        "customer": customer,
        "username": username,
        "library": library,
        "subscription": membership.subscription_type,
        "valid_through": date_nl(membership.valid_through),
        "paid": format_euro(payment.amount),
        "saldo": format_euro(customer_saldo(customer=customer)),
        "online_url": f"{kb_base_url()}/online/",
        "contact": library.contact_lines,
        "mandate": mandate,
        "mandate_iban": masked_iban(mandate.iban) if mandate else "",
    }
    mail_queue(
        to=customer.email,
        subject=f"Welkom bij {library.name}: je abonnement is actief",
        text=render_to_string("signup/mail/welcome.txt", context),
        kind="signup.welcome",
        reference=str(customer.pk),
    )


def signups_expired_remove(*, limit: int = 200) -> dict[str, int]:
    """For the periodic job: sign-ups that expired unpaid are deleted (with the personal details
    they hold); first their unsettled payments are looked up, so that a late payment still counts.
    Completed sign-ups (no details left) are dropped after a month."""
    now = timezone.now()
    removed = kept = 0
    for signup in Signup.objects.filter(
        status=SignupStatus.AWAITING_PAYMENT, expires_at__lte=now
    ).order_by("expires_at")[:limit]:
        reference = str(signup.registration_key)
        for payment in payments_for(purpose=PURPOSE, reference=reference):
            if payment.status in UNSETTLED:
                try:
                    payment_sync(payment=payment)
                except ProviderError as error:
                    logger.warning("sign-up %s: payment check failed: %s", signup.pk, error)
        with transaction.atomic():
            locked = Signup.objects.select_for_update().filter(pk=signup.pk).first()
            if locked is None or locked.status != SignupStatus.AWAITING_PAYMENT:
                continue
            open_payments = [
                p
                for p in payments_for(purpose=PURPOSE, reference=reference)
                if p.status in UNSETTLED
            ]
            if open_payments and locked.expires_at > now - UNSETTLED_GRACE:
                kept += 1
                continue
            locked.delete()
            removed += 1
    dropped = Signup.objects.filter(
        status=SignupStatus.COMPLETED, updated_at__lte=now - COMPLETED_KEPT
    ).delete()[0]
    return {"removed": removed, "kept_open_payment": kept, "completed_dropped": dropped}


def signup_session_states_remove(*, window: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """For the periodic job: take expired sign-up state (personal details typed but never paid
    for) out of sessions that have been left alone for SIGNUP_LIFETIME, and delete expired
    sessions. Only sessions that went quiet within the last `window` are read, so each run
    reads a bounded number of rows; any missed are gone when their session expires."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    store_class.clear_expired()
    age = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    quiet_since = timezone.now() + age - SIGNUP_LIFETIME  # expire_date = last save + age
    store = store_class()
    removed = 0
    for row in Session.objects.filter(
        expire_date__lte=quiet_since, expire_date__gt=quiet_since - window
    ).iterator():
        data = store.decode(row.session_data)
        stale = [key for key in data if key.startswith("signup:") and isinstance(data[key], dict)]
        if stale:
            for key in stale:
                del data[key]
            Session.objects.filter(pk=row.pk).update(session_data=store.encode(data))
            removed += len(stale)
    return removed


def contact_short(library: Library) -> str:
    """The library's phone and e-mail in one phrase, for a sentence that says "neem contact op
    met de bibliotheek"; its website when it has neither."""
    parts = [p for p in (library.contact_phone, library.contact_email) if p]
    if not parts and library.website:
        parts = [library.website]
    return " of ".join(parts) if parts else library.name
