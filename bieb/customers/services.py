"""Writes of the customer administration. Each runs in one transaction and writes an audit row."""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.dates import local_today
from bieb.core.metrics import counter
from bieb.customers.costs import CostBuildUp, cost_build_up
from bieb.customers.details import CustomerDetails
from bieb.customers.ledger import ledger_period_book
from bieb.customers.models import (
    Customer,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PeriodState,
)
from bieb.customers.numbers import customer_number_allocate
from bieb.customers.selectors import (
    customer_likely_duplicates,
    customer_login_account,
)
from bieb.customers.validators import clean_card_number
from bieb.customers.year import new_customer_year_refresh
from bieb.kb import interface as login_service
from bieb.kboutbox.models import KBCall, KBCallKind
from bieb.kboutbox.selectors import ACCOUNT_KINDS, kb_calls_link_open
from bieb.kboutbox.services import UNAVAILABLE_NOW, kb_call_queue, kb_calls_cancel, kb_sync_call
from bieb.libraries.models import Branch, Discount, Library, SubscriptionType, Tariff
from bieb.staff.models import User

REGISTRATIONS = counter(
    "bieb_registrations", "Customers registered, by channel (balie, online)", ("channel",)
)
for _channel in ("balie", "online"):
    REGISTRATIONS.labels(_channel)  # shown as 0 before the first

CARD_TAKEN = "Dit pasnummer is al in gebruik; scan een nieuwe pas of laat een nummer genereren."


class LikelyDuplicate(ValidationError):
    """The library already has a customer with this name, birth date and postcode.

    Staff see the existing customers and may register anyway by confirming.
    """

    def __init__(self, matches: list[Customer]):
        self.matches = matches
        numbers = ", ".join(c.number for c in matches)
        super().__init__(
            f"Deze klant staat mogelijk al ingeschreven (klantnummer {numbers}): zelfde "
            "achternaam, geboortedatum en postcode. Open de bestaande klant, of bevestig dat "
            "het een andere klant is.",
            code="duplicate",
        )


@dataclass(frozen=True)
class Registration:
    customer: Customer
    membership: Membership
    costs: CostBuildUp
    # The login account as the KB last told (None until its call to the KB is done: a new
    # registration's account is made after the commit, see `kb_call`).
    account: login_service.AccountStatus | None = None
    repeated: bool = False
    # The call to the KB that makes or links the login account (None without one).
    kb_call: KBCall | None = None


def _check_tenancy(*, actor: User | None, branch: Branch, items: list[object]) -> None:
    library_id = branch.library_id
    if actor is not None and actor.library_id != library_id:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")
    for item in items:
        if item is not None and getattr(item, "library_id", library_id) != library_id:
            raise ValidationError("Deze keuze hoort bij een andere bibliotheek.", code="forbidden")


def customer_register(
    *,
    actor: User | None,
    branch: Branch,
    details: CustomerDetails,
    subscription_type: SubscriptionType,
    tariff: Tariff | None = None,
    discount: Discount | None = None,
    card_number: str = "",
    use_login_account: bool = True,
    existing_username: str = "",
    link_code: str = "",
    account_id: uuid.UUID | None = None,
    id_token: str = "",
    confirm_duplicate: bool = False,
    registration_key: uuid.UUID | None = None,
    on: dt.date | None = None,
    then: Callable[[Customer], object] | None = None,
) -> Registration:
    """Register a customer with a membership: number, membership, ledger lines and audit row in
    one transaction.

    `card_number` is a scanned card; empty means a number is generated ("v" at the counter).
    With `use_login_account` a new login account (username = customer number) is generated, or,
    with `existing_username` and the `link_code` its holder received by mail (their consent,
    see `login_account_link_code_request`), the membership is linked to that existing active
    account; both in the same transaction as the customer.
    The login service is not called in this transaction: the account's creation or link is a
    call in the library's outbox (bieb.kboutbox), made once the registration has committed; the
    checks whose answer is needed now (the link code) are made before it.
    `registration_key` makes a repeated submit of the same form return the first registration.
    `then` is the caller's own write for the new customer (a direct-debit mandate), run in the
    registration's transaction: when it raises, nothing is saved. A repeated submit that returns
    the first registration does not run it again.
    `actor` None is a member signing up online: then the membership is linked to their own login
    account, `account_id` (the `sub` of their sign-in), and `status` is usually "wacht op
    betaling" until paid. `id_token` is the ID token of that sign-in: their consent to the
    link, which the KB wants (bieb.kb.consent); it travels in the outbox call's payload and is
    dropped from it once the call is done or refused.
    Raises ValidationError (a dict keyed by field) or LikelyDuplicate.
    """
    on = on or local_today()
    library = branch.library
    if actor is None and account_id is None:
        raise ValueError("an online registration needs the member's login account")
    if actor is not None and account_id is not None:
        raise ValueError("staff link an account by its username, with the holder's consent")
    _check_tenancy(actor=actor, branch=branch, items=[subscription_type, tariff, discount])

    def earlier() -> Registration | None:
        """The registration this form's key already made: a repeated submit. Looked up only
        when something stands in the way (an error, a likely duplicate, a unique key), so that
        a first submit, the usual case, does not pay for it."""
        if registration_key is None:
            return None
        return _registration_by_key(registration_key, library_id=library.pk)

    errors: dict[str, str] = {}
    needs_account = subscription_type.has_digital_rights or subscription_type.login_account_required
    if not use_login_account and needs_account:
        errors["use_login_account"] = (
            f"Nee kan niet bij {subscription_type.name}: zonder inlogaccount kan de klant de "
            "Online Bibliotheek niet gebruiken. Kies Ja."
        )
    if use_login_account and not details.email:
        errors["email"] = (
            "Vul het e-mailadres in: daar komt de mail om het inlogaccount te activeren."
        )
    if card_number:
        if not subscription_type.card:
            errors["number"] = (
                f"Bij {subscription_type.name} hoort geen pas: typ v en Enter om een klantnummer "
                "te laten genereren."
            )
        else:
            try:
                card_number = clean_card_number(card_number)
            except ValidationError as error:
                errors["number"] = error.messages[0]
            else:
                if Customer.objects.filter(number=card_number).exists():
                    errors["number"] = CARD_TAKEN
    if errors:
        repeated = earlier()
        if repeated is not None:
            return repeated
        raise ValidationError(errors)

    costs = cost_build_up(
        customer=details,
        subscription_type=subscription_type,
        tariff=tariff,
        discount=discount,
        on=on,
    )

    if not confirm_duplicate:
        matches = list(
            customer_likely_duplicates(
                library=library,
                surname=details.surname,
                birth_date=details.birth_date,
                postcode=details.postcode,
            )
        )
        if matches:
            # The same form saved again, or twice at once: the first one is the match.
            repeated = earlier()
            if repeated is not None:
                return repeated
            raise LikelyDuplicate(matches)

    if use_login_account and existing_username and actor is not None:
        # Before the registration's transaction, so that a wrong code counts even though the
        # registration is then not saved.
        link_code_check(
            username=existing_username,
            code=link_code,
            library_code=library.code,
            actor=actor.get_username(),
        )

    try:
        with transaction.atomic():
            registration = _register(
                actor=actor,
                branch=branch,
                details=details,
                subscription_type=subscription_type,
                costs=costs,
                card_number=card_number,
                use_login_account=use_login_account,
                existing_username=existing_username,
                link_code=link_code,
                account_id=account_id,
                id_token=id_token,
                registration_key=registration_key,
            )
            if then is not None:
                then(registration.customer)
            return registration
    except IntegrityError:
        # The same form submitted twice at once: the other request won; return its result.
        repeated = earlier()
        if repeated is not None:
            return repeated
        # Another desk registered a customer with the same scanned card at the same moment.
        if card_number and Customer.objects.filter(number=card_number).exists():
            raise ValidationError({"number": CARD_TAKEN}) from None
        raise


def _register(
    *,
    actor: User | None,
    branch: Branch,
    details: CustomerDetails,
    subscription_type: SubscriptionType,
    costs: CostBuildUp,
    card_number: str,
    use_login_account: bool,
    existing_username: str,
    link_code: str,
    account_id: uuid.UUID | None,
    id_token: str,
    registration_key: uuid.UUID | None,
) -> Registration:
    library = branch.library
    number = card_number or customer_number_allocate(library=library)
    customer = Customer.objects.create(
        library=library,
        number=number,
        registered_branch=branch,
        uses_login_account=use_login_account,
        # Set with the call to the login service below, after the year's refresh: the KB gets
        # the membership with that call, not before.
        login_account_id=None,
        newsletter_consent_at=timezone.now() if details.newsletter else None,
        registration_key=registration_key,
        created_by=actor,
        **details.model_fields(),
    )
    membership = Membership.objects.create(
        library=library,
        customer=customer,
        subscription_type=subscription_type,
        tariff=costs.tariff,
        discount=costs.discount,
        branch=branch,
        start_date=costs.start,
        expiry_month=costs.expiry_month,
        valid_through=costs.valid_through,
        # Where it stands follows from its first period and the ledger (year refresh below).
        status=MembershipStatus.AWAITING_PAYMENT,
    )
    period = MembershipPeriod.objects.create(
        library=library,
        membership=membership,
        subscription_type=subscription_type,
        tariff=costs.tariff,
        discount=costs.discount,
        start=costs.start,
        end=costs.valid_through,
        fee=costs.fee,
        discount_amount=costs.discount_amount,
        state=PeriodState.OFFERED,
        # Told at the desk (or paying online now): reminders of an unpaid first period
        # ("Later betalen") count from here.
        mailed_at=timezone.now() if costs.fee > costs.discount_amount else None,
    )
    lines = ledger_period_book(
        period=period,
        actor=actor,
        description=f"{subscription_type.label}, {costs.valid_through_label}",
        refresh=False,
    )
    new_customer_year_refresh(
        customer=customer,
        membership=membership,
        period=period,
        lines=lines,
        today=costs.start,
        actor=actor,
    )
    call = None
    if use_login_account:
        call = _login_account_attach(
            actor=actor,
            customer=customer,
            membership=membership,
            existing_username=existing_username,
            link_code=link_code,
            account_id=account_id,
            id_token=id_token,
        )
    username = str(call.payload.get("username", "")) if call is not None else ""
    audit_record(
        actor=actor,
        actor_name=_actor_name(actor, username),
        action="customer.registered",
        library=library,
        target=customer,
        data={
            "number": number,
            "branch": branch.number,
            "subscription": subscription_type.code,
            "tariff": costs.tariff.code,
            "fee": str(costs.fee),
            "discount": str(costs.discount_amount),
            "valid_through": costs.valid_through.isoformat(),
            "login_account": username,
        },
    )
    channel = "balie" if actor is not None else "online"
    transaction.on_commit(lambda: REGISTRATIONS.labels(channel).inc())
    return Registration(customer=customer, membership=membership, costs=costs, kb_call=call)


def _actor_name(actor: User | None, username: str) -> str:
    return actor.get_username() if actor is not None else f"online:{username}"


def _login_account_attach(
    *,
    actor: User | None,
    customer: Customer,
    membership: Membership,
    existing_username: str,
    link_code: str,
    account_id: uuid.UUID | None,
    id_token: str,
) -> KBCall:
    """Queue the call that gives the new customer a login account (made after the commit)."""
    if actor is None:
        # Online: the member's own account, by the id of their sign-in.
        assert account_id is not None  # noqa: S101  (customer_register checks)
        customer.login_account_id = account_id
        customer.save(update_fields=["login_account_id"])
        try:  # the member's username, for the audit row: a read, if the KB can answer now
            username = kb_sync_call(login_service.account_status_by_id, account_id=account_id)
        except login_service.KBUnavailable:
            username = None
        return customer_kb_call_queue(
            kind=KBCallKind.ACCOUNT_LINK_OWN,
            customer=customer,
            actor="online",
            payload={
                "membership_id": membership.pk,
                "account_id": str(account_id),
                "username": username.username if username is not None else "",
                "id_token": id_token,
            },
        )
    if existing_username:
        # The id comes with the KB's answer (bieb.customers.kb_calls).
        return customer_kb_call_queue(
            kind=KBCallKind.ACCOUNT_LINK,
            customer=customer,
            actor=actor.get_username(),
            payload={
                "membership_id": membership.pk,
                "username": existing_username.strip(),
                "code": link_code,
            },
        )
    return _account_create_queue(actor=actor, customer=customer, membership=membership)


def _account_create_queue(*, actor: User, customer: Customer, membership: Membership) -> KBCall:
    """A new account's id is chosen here, stored with the customer and given to the KB: a
    retried call (its answer lost) finds the account it made instead of making a second."""
    new_id = uuid.uuid4()
    customer.login_account_id = new_id
    customer.login_account_lapsed = False
    customer.uses_login_account = True
    customer.save(update_fields=["login_account_id", "login_account_lapsed", "uses_login_account"])
    return customer_kb_call_queue(
        kind=KBCallKind.ACCOUNT_CREATE,
        customer=customer,
        actor=actor.get_username(),
        idempotency_key=new_id,
        payload={
            "membership_id": membership.pk,
            "email": customer.email,
            "account_id": str(new_id),
            "username": customer.number,
        },
    )


def customer_kb_call_queue(
    *,
    kind: KBCallKind,
    customer: Customer,
    payload: dict[str, Any],
    actor: str,
    idempotency_key: uuid.UUID | None = None,
) -> KBCall:
    """A call to the KB about this customer, in the order of the customer's calls."""
    return kb_call_queue(
        kind=kind,
        library_id=customer.library_id,
        customer_id=customer.pk,
        ordering_key=f"customer:{customer.pk}",
        payload=payload,
        actor=actor,
        idempotency_key=idempotency_key,
    )


def link_code_check(*, username: str, code: str, library_code: str, actor: str) -> None:
    """The KB checks the code its holder gave, now (the answer is needed now); a wrong code
    counts. A KB that cannot be reached is said in Dutch, as a refusal of the code."""
    try:
        kb_sync_call(
            login_service.check_link_code,
            username=username,
            code=code,
            library_code=library_code,
            actor=actor,
        )
    except login_service.KBUnavailable:
        raise ValidationError({"link_code": UNAVAILABLE_NOW}, code="kb_unavailable") from None


def _registration_by_key(key: uuid.UUID, *, library_id: int) -> Registration | None:
    customer = Customer.objects.filter(registration_key=key, library_id=library_id).first()
    if customer is None:
        return None
    membership = customer.memberships.select_related("subscription_type", "tariff", "discount")
    first = membership.order_by("id").first()
    if first is None:
        return None
    costs = cost_build_up(
        customer=customer,
        subscription_type=first.subscription_type,
        tariff=first.tariff,
        discount=first.discount,
        on=first.start_date,
    )
    account = customer_login_account(customer=customer)
    return Registration(
        customer=customer, membership=first, costs=costs, account=account, repeated=True
    )


# --- the counter: personal data and the login account of a registered customer ---------------


def _check_counter_actor(actor: User, customer: Customer) -> None:
    if actor.library_id is None or actor.library_id != customer.library_id:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")


def customer_update(*, actor: User, customer: Customer, details: CustomerDetails) -> list[str]:
    """Change a customer's personal details, as corrected at the counter.

    Returns the names of the changed fields; when nothing changed nothing is written (so a
    repeated submit of the same form is harmless). The audit row names the changed fields, not
    their values. Ticking the newsletter stores the moment of consent; unticking clears it.
    """
    _check_counter_actor(actor, customer)
    return customer_fields_save(
        customer=customer,
        values=details.model_fields(),
        newsletter=details.newsletter,
        actor=actor,
        action="customer.updated",
    )


def customer_fields_save(
    *,
    customer: Customer,
    values: dict[str, Any],
    newsletter: bool,
    actor: User | None,
    action: str,
    actor_name: str = "",
) -> list[str]:
    """Write the fields of `values` that differ, under the customer's row lock, with one audit
    row naming the changed fields (not their values); returns them (none: nothing written).
    A changed newsletter choice stores the moment of consent when ticked and clears it when
    unticked. Shared by the counter's correction and the member's own change."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(locked, name, values[name])
        fields = [*changed, "updated_at"]
        if "newsletter" in changed:
            locked.newsletter_consent_at = timezone.now() if newsletter else None
            fields.append("newsletter_consent_at")
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action=action,
            library=locked.library,
            target=locked,
            data={"fields": changed},
        )
    customer.refresh_from_db()
    return changed


def _membership_for_login(customer: Customer) -> Membership:
    """The membership a login account is linked for: the running one that lasts longest."""
    memberships = customer.memberships.select_related("library", "subscription_type", "customer")
    membership = (
        memberships.exclude(status=MembershipStatus.ENDED).order_by("-valid_through", "-id").first()
        or memberships.order_by("-valid_through", "-id").first()
    )
    if membership is None:
        raise ValidationError(
            "De klant heeft geen abonnement; een inlogaccount hoort bij een abonnement.",
            code="no_membership",
        )
    return membership


def _locked_for_login(actor: User, customer: Customer, *, has_account: bool) -> Customer:
    """The customer row, locked for the change; checks whether it has a login account."""
    _check_counter_actor(actor, customer)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    linked = locked.login_account_id is not None or locked.login_account_lapsed
    if locked.login_account_id is None and kb_calls_link_open(customer_id=locked.pk):
        # A link the KB has not made yet: its id comes with the answer.
        raise ValidationError(
            "Het inlogaccount wordt nog gekoppeld: de KB heeft nog niet geantwoord. Probeer "
            "het opnieuw als het koppelen klaar is.",
            code="pending",
        )
    if has_account and not linked:
        raise ValidationError("Deze klant heeft geen inlogaccount.", code="no_account")
    if not has_account and linked:
        raise ValidationError(
            "Deze klant heeft al een inlogaccount. Kies eerst 'Vergeet inlogaccount'.",
            code="has_account",
        )
    return locked


def customer_login_account_generate(*, actor: User, customer: Customer) -> KBCall:
    """'Nieuw inlogaccount genereren': a new login account (username = customer number) that
    waits for activation; the login service mails the customer the link. Made by the KB after
    this commits (the counter shows "wordt aangemaakt" until then)."""
    with transaction.atomic():
        locked = _locked_for_login(actor, customer, has_account=False)
        if not locked.email:
            raise ValidationError(
                {
                    "email": "Vul eerst het e-mailadres van de klant in (Wijzig "
                    "persoonsgegevens): daar komt de mail om het inlogaccount te activeren."
                }
            )
        membership = _membership_for_login(locked)
        call = _account_create_queue(actor=actor, customer=locked, membership=membership)
        audit_record(
            actor=actor,
            action="customer.login_account_generated",
            library=locked.library,
            target=locked,
            data={"username": locked.number},
        )
    customer.refresh_from_db()
    return call


def login_account_link_code_request(*, actor: User, library: Library, username: str) -> str:
    """'Bestaand inlogaccount gebruiken', first step: the login service mails the account's
    holder a one-time code for this library (their consent). The answer for staff is the same
    whether or not the account exists; the request is audited and rate limited."""
    if actor.library_id != library.pk:
        raise ValidationError("U werkt niet voor deze bibliotheek.", code="forbidden")
    name = username.strip()
    try:
        answer = kb_sync_call(
            login_service.request_link_code,
            username=name,
            library_code=library.code,
            library_name=library.name,
            actor=actor.username,
        )
    except login_service.KBUnavailable:
        raise ValidationError({"username": UNAVAILABLE_NOW}, code="kb_unavailable") from None
    audit_record(
        actor=actor,
        action="login_account.link_code_requested",
        library=library,
        data={"username": name[:80]},
    )
    return answer


def customer_login_account_link_check(
    *, actor: User, customer: Customer, username: str, code: str
) -> None:
    """The code the holder gave is right (a wrong one counts against it). Call it before, and
    outside the transaction of, `customer_login_account_link`."""
    _check_counter_actor(actor, customer)
    if not username.strip():
        raise ValidationError(
            {"username": "Vul de gebruikersnaam van het bestaande inlogaccount in."}
        )
    if not code.strip():
        raise ValidationError({"link_code": "Vul de code uit de e-mail in."})
    link_code_check(
        username=username,
        code=code,
        library_code=customer.library.code,
        actor=actor.username,
    )


def customer_login_account_link(
    *, actor: User, customer: Customer, username: str, code: str
) -> KBCall:
    """'Bestaand inlogaccount gebruiken': link the customer's membership to the existing,
    activated account of a member who moves here from another library, with the code its
    holder received by mail (checked before, by `customer_login_account_link_check`). The KB
    links after this commits; the customer has the account's id once it answered."""
    username = username.strip()
    if not username:
        raise ValidationError(
            {"username": "Vul de gebruikersnaam van het bestaande inlogaccount in."}
        )
    with transaction.atomic():
        locked = _locked_for_login(actor, customer, has_account=False)
        membership = _membership_for_login(locked)
        locked.uses_login_account = True
        locked.login_account_lapsed = False
        locked.save(update_fields=["uses_login_account", "login_account_lapsed", "updated_at"])
        call = customer_kb_call_queue(
            kind=KBCallKind.ACCOUNT_LINK,
            customer=locked,
            actor=actor.username,
            payload={"membership_id": membership.pk, "username": username, "code": code},
        )
        audit_record(
            actor=actor,
            action="customer.login_account_linked",
            library=locked.library,
            target=locked,
            data={"username": username},
        )
    customer.refresh_from_db()
    return call


def customer_login_account_forget(*, actor: User, customer: Customer) -> str:
    """'Vergeet inlogaccount': unlink the membership from the account; the login service
    deletes an account that was never activated. Then a new one can be generated. Returns the
    username that was forgotten ("" if the account was gone already, or unknown while the KB
    cannot be reached).

    The library forgets at once; the KB is told after the commit, after any earlier call about
    this customer. A new account whose creation has not been tried yet is not made at all."""
    with transaction.atomic():
        locked = _locked_for_login(actor, customer, has_account=True)
        username = ""
        if locked.login_account_id is not None:
            open_create = KBCall.objects.filter(
                customer_id=locked.pk, kind__in=ACCOUNT_KINDS, state__in=("pending", "running")
            )
            kb_calls_cancel(open_create)
            try:
                username = kb_sync_call(
                    login_service.account_status_by_id, account_id=locked.login_account_id
                ).username
            except login_service.KBUnavailable:
                username = ""
            customer_kb_call_queue(
                kind=KBCallKind.ACCOUNT_FORGET,
                customer=locked,
                actor=actor.username,
                payload={
                    "account_id": str(locked.login_account_id),
                    "library_code": locked.library.code,
                    "customer_number": locked.number,
                },
            )
        locked.login_account_id = None
        locked.login_account_lapsed = False
        locked.save(update_fields=["login_account_id", "login_account_lapsed", "updated_at"])
        audit_record(
            actor=actor,
            action="customer.login_account_forgotten",
            library=locked.library,
            target=locked,
            data={"username": username},
        )
    customer.refresh_from_db()
    return username


def _status_before(account_id: uuid.UUID) -> login_service.AccountStatus | None:
    """The account as the KB tells it before a resend or e-mail change (None when the KB
    cannot be reached now): a retry compares its deadline (bieb.customers.kb_calls)."""
    try:
        return kb_sync_call(login_service.account_status_by_id, account_id=account_id)
    except login_service.KBUnavailable:
        return None


def _deadline(status: login_service.AccountStatus | None) -> str:
    deadline = status.activation_deadline if status is not None else None
    return deadline.isoformat() if deadline else ""


def customer_login_account_email_change(*, actor: User, customer: Customer) -> KBCall:
    """'E-mail van inlogaccount wijzigen': the login service is asked to confirm the customer's
    e-mail address (as changed at the counter) for the login account: it mails a link there,
    and the account's address changes only when the customer uses it (an account still waiting
    for activation gets its activation link there instead). Staff never set it themselves. The
    KB is asked after the commit."""
    with transaction.atomic():
        locked = _locked_for_login(actor, customer, has_account=True)
        if locked.login_account_id is None:
            raise ValidationError(
                "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een "
                "nieuw inlogaccount."
            )
        if not locked.email:
            raise ValidationError(
                "Vul eerst het e-mailadres van de klant in (Wijzig persoonsgegevens).",
                code="no_email",
            )
        before = _status_before(locked.login_account_id)
        call = customer_kb_call_queue(
            kind=KBCallKind.EMAIL_CHANGE,
            customer=locked,
            actor=actor.username,
            payload={
                "account_id": str(locked.login_account_id),
                "email": locked.email,
                "deadline_before": _deadline(before),
            },
        )
        audit_record(
            actor=actor,
            action="customer.login_account_email_change_requested",
            library=locked.library,
            target=locked,
            data={
                "username": before.username if before else "",
                "state": str(before.state) if before else "",
                "kb_call": call.pk,
            },
        )
    return call


def customer_login_account_resend(*, actor: User, customer: Customer) -> KBCall:
    """'Opnieuw versturen': a new activation link with a new deadline; the old link stops
    working. The login service refuses within a minute of the last mail. Asked after the
    commit."""
    with transaction.atomic():
        locked = _locked_for_login(actor, customer, has_account=True)
        if locked.login_account_id is None:
            raise ValidationError(
                "Dit inlogaccount bestaat niet meer. Kies 'Vergeet inlogaccount' en genereer een "
                "nieuw inlogaccount."
            )
        before = _status_before(locked.login_account_id)
        call = customer_kb_call_queue(
            kind=KBCallKind.ACTIVATION_RESEND,
            customer=locked,
            actor=actor.username,
            payload={
                "account_id": str(locked.login_account_id),
                "deadline_before": _deadline(before),
            },
        )
        # Staff's request; whether the KB sent it (or refused: its cooldown) is the call's state.
        audit_record(
            actor=actor,
            action="customer.login_account_resent",
            library=locked.library,
            target=locked,
            data={"username": before.username if before else "", "kb_call": call.pk},
        )
    return call
