"""Mandates: given at the counter or online, amended when the IBAN changes, withdrawn, lapsed
after 36 months without a debit, blocked after a refund the member claimed (MD06) until staff
renew them. Each change writes an event (the history on the customer page) and an audit row.
A mandate that stops (withdrawn, blocked, lapsed) takes its planned debits with it: they are
vervallen at that moment, and the member pays by the ordinary payment link again.

A mandate's reference is made here: the customer number and a sequence ("<number>-1"), unique
per library (the creditor) and never changed, also when the IBAN changes. A mandate given in
the online sign-up is consented to before the customer (and so the number) exists: its
reference is "W" and the sign-up's registration key (`mandate_reference_for_signup`), unique
because the key is, and known when the consent text is shown.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.dates import add_months_to_day, local_today
from bieb.customers.models import Customer
from bieb.customers.validators import clean_bic, clean_iban, format_iban
from bieb.debits.models import (
    Debit,
    DebitCancelReason,
    DebitState,
    Mandate,
    MandateEvent,
    MandateKind,
    MandateState,
)
from bieb.libraries.models import Library
from bieb.staff.models import User

LAPSE_MONTHS = 36  # SEPA: a mandate unused for 36 months may not be used any more
HOLDER_MAX = 70


@dataclass(frozen=True)
class Consent:
    """The evidence of an electronic mandate: what the member agreed to, when and from where."""

    text: str
    at: dt.datetime
    ip: str | None
    user_agent: str


def mandate_consent_text(*, library: Library, reference: str) -> str:
    """The consent an online member gives, naming the creditor, its Incassant-ID and the
    mandate reference (the EPC's wording for a SEPA Core mandate, in Dutch)."""
    return (
        f"Door deze machtiging te geven, geef je toestemming aan {library.creditor_display_name} "
        f"(Incassant-ID {library.creditor_id}) om doorlopende incasso-opdrachten te sturen naar "
        "je bank om een bedrag van je rekening af te schrijven, en aan je bank om doorlopend een "
        f"bedrag van je rekening af te schrijven overeenkomstig de opdracht van "
        f"{library.creditor_display_name}. Machtigingskenmerk: {reference}. Als je het niet eens "
        "bent met een afschrijving, kun je die laten terugboeken. Neem hiervoor binnen 8 weken "
        "na afschrijving contact op met je bank. Vraag je bank naar de voorwaarden."
    )


def _actor_name(actor: User | None, actor_name: str) -> str:
    return actor_name or (actor.get_username() if actor else "")


def _event(mandate: Mandate, action: str, description: str, actor_name: str) -> None:
    MandateEvent.objects.create(
        mandate=mandate, action=action, description=description, actor_name=actor_name[:150]
    )


def _audit(mandate: Mandate, action: str, actor: User | None, actor_name: str, **data: object):
    audit_record(
        actor=actor,
        actor_name=actor_name if actor is None else "",
        action=action,
        library=mandate.library,
        target=mandate.customer,
        data={"mandate": mandate.reference, **data},
    )


def mandate_reference_next(*, library: Library, customer: Customer) -> str:
    """The next reference of this customer's mandates at this library: "<number>-<n>"."""
    count = Mandate.objects.filter(library=library, customer=customer).count()
    return f"{customer.number}-{count + 1}"


def mandate_reference_for_signup(registration_key: uuid.UUID) -> str:
    """The reference of the mandate a member gives in the online sign-up (33 characters, SEPA's
    limit is 35). A customer's registration key is unique, so this reference is too, and it
    never looks like a counter one ("<number>-<n>", digits first)."""
    return f"W{registration_key.hex.upper()}"


def mandate_account_clean(*, iban: str, bic: str = "", holder_name: str) -> tuple[str, str, str]:
    """The account a mandate debits, checked: the IBAN (compact; ISO 13616 check digits), its
    BIC (derived for a Dutch IBAN, a typed one that disagrees refused) and the holder's name
    (spaces tidied). Raises ValidationError keyed by "iban", "bic" and "holder_name"."""
    errors: dict[str, str] = {}
    try:
        iban = clean_iban(iban)
        if not iban:
            errors["iban"] = "Vul de IBAN in waarvan afgeschreven wordt."
    except ValidationError as error:
        errors["iban"] = error.messages[0]
    if "iban" not in errors:
        try:
            bic = clean_bic(bic, iban=iban)
        except ValidationError as error:
            errors["bic"] = error.messages[0]
    holder_name = " ".join(holder_name.split())
    if not holder_name:
        errors["holder_name"] = "Vul de naam van de rekeninghouder in."
    elif len(holder_name) > HOLDER_MAX:
        errors["holder_name"] = f"Gebruik hoogstens {HOLDER_MAX} tekens."
    if errors:
        raise ValidationError(errors)
    return iban, bic, holder_name


def mandate_active(*, library: Library, customer: Customer) -> Mandate | None:
    return Mandate.objects.filter(
        library=library, customer=customer, state=MandateState.ACTIVE
    ).first()


def mandate_create(
    *,
    library: Library,
    customer: Customer,
    iban: str,
    bic: str = "",
    holder_name: str,
    signed_on: dt.date,
    kind: str,
    actor: User | None,
    actor_name: str = "",
    consent: Consent | None = None,
    reference: str = "",
) -> Mandate:
    """A new mandate of this customer to this library. With one active already for the same
    IBAN that one is returned (a double click gives one mandate); for another IBAN the caller
    amends it (`mandate_amend`) instead. `reference` is one made before the customer existed
    (`mandate_reference_for_signup`); empty: the customer's next."""
    if not library.debits_enabled:
        raise ValidationError(
            "Deze bibliotheek incasseert (nog) niet: het Incassant-ID of de IBAN van de "
            "bibliotheek ontbreekt in de instellingen.",
            code="not_enabled",
        )
    errors: dict[str, str] = {}
    try:
        iban, bic, holder_name = mandate_account_clean(iban=iban, bic=bic, holder_name=holder_name)
    except ValidationError as error:
        errors.update({field: texts[0] for field, texts in error.message_dict.items()})
    today = local_today()
    if signed_on > today:
        errors["signed_on"] = "De datum van ondertekening kan niet in de toekomst liggen."
    if kind == MandateKind.ONLINE and (consent is None or not consent.text):
        errors["consent"] = "Geef toestemming voor de automatische incasso."
    if errors:
        raise ValidationError(errors)
    name = _actor_name(actor, actor_name)
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        existing = mandate_active(library=library, customer=customer)
        if existing is not None:
            if existing.iban == iban:
                return existing
            raise ValidationError(
                f"Deze klant heeft al een machtiging ({existing.reference}); wijzig daarvan de "
                "IBAN.",
                code="exists",
            )
        reference = reference or mandate_reference_next(library=library, customer=customer)
        try:
            with transaction.atomic():
                mandate = Mandate.objects.create(
                    library=library,
                    customer=customer,
                    reference=reference,
                    iban=iban,
                    bic=bic,
                    holder_name=holder_name,
                    signed_on=signed_on,
                    kind=kind,
                    state_changed_at=timezone.now(),
                    consent_text=consent.text if consent else "",
                    consent_at=consent.at if consent else None,
                    consent_ip=consent.ip if consent else None,
                    consent_user_agent=(consent.user_agent[:300] if consent else ""),
                    created_by=actor,
                )
        except IntegrityError:
            raise ValidationError(
                "Deze machtiging is net al vastgelegd; kijk op de klantpagina.", code="exists"
            ) from None
        how = MandateKind(kind).label
        _event(mandate, "aangemaakt", f"Machtiging {how}, IBAN {format_iban(iban)}", name)
        _audit(mandate, "mandate.created", actor, name, kind=kind)
    return mandate


def mandate_amend(
    *, mandate: Mandate, iban: str, bic: str = "", actor: User | None, actor_name: str = ""
) -> Mandate:
    """A new IBAN under the same mandate: the next debit carries the amendment (the original
    account), after which it is an ordinary debit again."""
    try:
        iban = clean_iban(iban)
        if not iban:
            raise ValidationError("Vul de nieuwe IBAN in.")
        bic = clean_bic(bic, iban=iban)
    except ValidationError as error:
        raise ValidationError({"iban": error.messages}) from None
    name = _actor_name(actor, actor_name)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.state != MandateState.ACTIVE:
            raise ValidationError("Deze machtiging is niet actief.", code="inactive")
        if mandate.iban == iban:
            return mandate
        old = mandate.iban
        if not mandate.original_iban:  # the account the bank knows, until a debit tells it
            mandate.original_iban = old
            mandate.original_bic = mandate.bic
        elif mandate.original_iban == iban:  # changed back before any debit: no amendment
            mandate.original_iban = ""
            mandate.original_bic = ""
        mandate.iban = iban
        mandate.bic = bic
        mandate.save(update_fields=["iban", "bic", "original_iban", "original_bic"])
        _event(
            mandate,
            "gewijzigd",
            f"IBAN gewijzigd van {format_iban(old)} in {format_iban(iban)}",
            name,
        )
        _audit(mandate, "mandate.amended", actor, name, old=old, new=iban)
    return mandate


def _set_state(
    mandate: Mandate, state: str, description: str, actor: User | None, actor_name: str
) -> Mandate:
    now = timezone.now()
    mandate.state = state
    mandate.state_changed_at = now
    mandate.save(update_fields=["state", "state_changed_at"])
    cancelled = 0
    if state != MandateState.ACTIVE:
        # Debits not yet in a file are not collected under a mandate that stopped: they are
        # vervallen now, and their periods are back on the payment-link reminders (a
        # vervallen debit is not open: bieb.debits.collect.DEBIT_OPEN).
        cancelled = Debit.objects.filter(mandate=mandate, state=DebitState.PLANNED).update(
            state=DebitState.CANCELLED,
            cancelled_at=now,
            cancel_reason=DebitCancelReason.MANDATE_STOPPED,
        )
    if cancelled:
        planned = "1 geplande incasso" if cancelled == 1 else f"{cancelled} geplande incasso's"
        description = f"{description}; {planned} vervallen"[:300]
    _event(mandate, str(state), description, actor_name)
    extra = {"debits_cancelled": cancelled} if cancelled else {}
    _audit(mandate, f"mandate.{state}", actor, actor_name, **extra)
    return mandate


def mandate_withdraw(
    *, mandate: Mandate, actor: User | None, actor_name: str = "", reason: str = ""
) -> Mandate:
    """The member withdraws the mandate: no further debits under it."""
    name = _actor_name(actor, actor_name)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.state == MandateState.WITHDRAWN:
            return mandate
        text = "Machtiging ingetrokken" + (f": {' '.join(reason.split())}" if reason else "")
        return _set_state(mandate, MandateState.WITHDRAWN, text[:300], actor, name)


def mandate_block(*, mandate: Mandate, description: str, actor_name: str) -> Mandate:
    """After a refund the member claimed (MD06): no debits until staff renew the mandate."""
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.state != MandateState.ACTIVE:
            return mandate
        return _set_state(mandate, MandateState.BLOCKED, description, None, actor_name)


def mandate_reactivate(*, mandate: Mandate, actor: User) -> Mandate:
    """Staff renew a blocked mandate (the member agreed again)."""
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.state != MandateState.BLOCKED:
            raise ValidationError("Alleen een geblokkeerde machtiging kan weer actief worden.")
        if mandate_active(library=mandate.library, customer=mandate.customer):
            raise ValidationError("Deze klant heeft al een andere actieve machtiging.")
        return _set_state(
            mandate,
            MandateState.ACTIVE,
            "Machtiging weer actief gemaakt",
            actor,
            actor.get_username(),
        )


def mandates_lapse(*, today: dt.date, library: Library | None = None) -> int:
    """Active mandates with no debit collected for 36 months (or, never used, signed that
    long ago) lapse. Returns how many."""
    limit = add_months_to_day(today, -LAPSE_MONTHS)
    due = Mandate.objects.filter(state=MandateState.ACTIVE).filter(
        last_collected_on__lt=limit
    ) | Mandate.objects.filter(
        state=MandateState.ACTIVE, last_collected_on__isnull=True, signed_on__lt=limit
    )
    if library is not None:
        due = due.filter(library=library)
    count = 0
    for mandate in due.select_related("library", "customer").order_by("pk"):
        with transaction.atomic():
            locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
            if locked.state != MandateState.ACTIVE:
                continue
            locked.library = mandate.library
            locked.customer = mandate.customer
            _set_state(
                locked,
                MandateState.LAPSED,
                "Vervallen: 36 maanden niet gebruikt",
                None,
                "incassorun",
            )
            count += 1
    return count


def mandate_follow_customer_iban(
    *, library: Library, customer: Customer, old_iban: str, actor: User
) -> Mandate | None:
    """The customer's IBAN was changed at the counter (`old_iban` before): an active mandate on
    the old account goes along to the new one (an amendment, `mandate_amend`). Returns the
    amended mandate, or None when there was nothing to amend (no change, no active mandate, or
    one on another account, say a parent's). An IBAN cleared under an active mandate is
    refused: the mandate is to be withdrawn first. Call it in the change's transaction."""
    if customer.iban == old_iban:
        return None
    mandate = mandate_active(library=library, customer=customer)
    if mandate is None or mandate.iban != old_iban:
        return None
    if not customer.iban:
        raise ValidationError(
            {
                "iban": f"Op deze IBAN loopt machtiging {mandate.reference}. Vul de nieuwe IBAN "
                "in, of trek de machtiging eerst in op de klantpagina."
            }
        )
    return mandate_amend(mandate=mandate, iban=customer.iban, bic=customer.bic, actor=actor)
