"""Debits the bank returns: the import of a camt.054 (or camt.053) file.

Each returned item is matched on its end-to-end id to one of the library's debits:
- a collected debit: its payment line is reversed (storno) with the bank's reason in Dutch, the
  member gets a mail with a payment link (for an open amount, which has no period and so no
  link: to contact the library or pay at the desk), and the rights follow the membership
  year's rules;
- a debit in a file that was not booked yet (refused before the collection date): no payment
  to reverse, the debit is marked returned and the member is mailed the same;
- a refund the member claimed (MD06) also blocks the mandate until staff renew it;
- a debit returned before: nothing happens again ("al verwerkt");
- anything else (an unknown id, a debit of another library) is kept as "niet herkend" for
  manual handling; nothing is dropped.
The same file twice (by its SHA-256) changes nothing; a malformed file is refused whole.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import get_template
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.money import format_euro
from bieb.customers.ledger import ledger_debit_return
from bieb.debits.camt import CamtError, ReturnedDebit, parse_returns, reason_text
from bieb.debits.models import (
    Debit,
    DebitState,
    ReturnFile,
    ReturnItem,
    ReturnItemState,
)
from bieb.debits.notices import debit_pay_url
from bieb.debits.services import mandate_block
from bieb.libraries.models import Library
from bieb.mail.services import mail_queue
from bieb.staff.models import User

REFUND_CLAIMED = "MD06"


@dataclass(frozen=True)
class Imported:
    file: ReturnFile
    again: bool  # the same file was imported before: nothing changed now


def returns_import(*, library: Library, data: bytes, filename: str, actor: User) -> Imported:
    """Import a return file of this library (see the module's docstring)."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = ReturnFile.objects.filter(library=library, sha256=digest).first()
    if earlier is not None:
        return Imported(file=earlier, again=True)
    try:
        report = parse_returns(data)
    except CamtError as error:
        raise ValidationError(error.message, code="malformed") from None
    name = actor.get_username()
    try:
        with transaction.atomic():
            returned = ReturnFile.objects.create(
                library=library,
                sha256=digest,
                filename=filename[:200],
                message_type=report.message_type,
                items=len(report.items),
                imported_by=name,
            )
            matched = unmatched = 0
            for item in report.items:
                state = _return_one(library, returned, item, actor)
                if state == ReturnItemState.UNMATCHED:
                    unmatched += 1
                else:
                    matched += 1
            returned.matched = matched
            returned.unmatched = unmatched
            returned.save(update_fields=["matched", "unmatched"])
    except IntegrityError:  # the same file by another worker, at the same moment
        return Imported(file=ReturnFile.objects.get(library=library, sha256=digest), again=True)
    return Imported(file=returned, again=False)


def _return_one(library: Library, file: ReturnFile, item: ReturnedDebit, actor: User) -> str:
    debit = (
        Debit.objects.select_for_update(of=("self",))
        .select_related("mandate", "customer", "period", "payment_line")
        .filter(library=library, end_to_end_id=item.end_to_end_id)
        .first()
        if item.end_to_end_id
        else None
    )
    reason = reason_text(item.reason_code)  # "geen reden opgegeven" when the bank gave none
    if debit is None or debit.state not in (
        DebitState.COLLECTED,
        DebitState.IN_FILE,
        DebitState.RETURNED,
    ):
        state = ReturnItemState.UNMATCHED
    elif debit.state == DebitState.RETURNED:
        state = ReturnItemState.ALREADY
    else:
        state = ReturnItemState.PROCESSED
        if debit.payment_line is not None:
            ledger_debit_return(
                line=debit.payment_line,
                reason=f"Terugboeking incasso: {reason}",
                actor=actor,
                actor_name=actor.get_username(),
            )
        debit.state = DebitState.RETURNED
        debit.return_code = item.reason_code[:4]
        debit.returned_at = timezone.now()
        debit.save(update_fields=["state", "return_code", "returned_at"])
        if item.reason_code == REFUND_CLAIMED:
            mandate_block(
                mandate=debit.mandate,
                description=f"Geblokkeerd na terugboeking door klant ({debit.end_to_end_id})",
                actor_name=actor.get_username(),
            )
        _mail(library, debit, reason)
    ReturnItem.objects.create(
        file=file,
        end_to_end_id=item.end_to_end_id[:35],
        amount=item.amount,
        reason_code=item.reason_code[:4],
        debtor_name=item.debtor_name[:140],
        debtor_iban=item.debtor_iban[:34],
        debit=debit if state != ReturnItemState.UNMATCHED else None,
        state=state,
    )
    return state


def _mail(library: Library, debit: Debit, reason: str) -> None:
    customer = debit.customer
    if not customer.email:
        return
    context = {
        "name": customer.first_name or customer.display_name,
        "library": library,
        "contact": library.contact_lines,
        "amount": format_euro(debit.amount),
        "date": f"{debit.collection_date:%d-%m-%Y}",
        "reason": reason,
        "refund_claimed": debit.return_code == REFUND_CLAIMED,
        "for_period": debit.period is not None,
        # Empty for an open amount (no period): the mail then says to contact the library.
        "pay_url": debit_pay_url(debit),
    }
    mail_queue(
        to=customer.email,
        subject=f"Je incasso van {library.name} is niet gelukt",
        text=get_template("debits/mail/returned.txt").render(context),
        kind="debits.returned",
        reference=debit.end_to_end_id,
    )


HANDLED_NOTE_MAX = 300


def return_item_handle(*, library: Library, item_id: int, note: str, actor: User) -> ReturnItem:
    """Staff handled an item the import did not recognise ("niet herkend") by hand: the item
    records who and how. An item of another library is DoesNotExist; one handled before (a
    second click) is left as it is."""
    note = " ".join(note.split())
    if not note:
        raise ValidationError("Schrijf kort op hoe deze terugboeking is afgehandeld.")
    if len(note) > HANDLED_NOTE_MAX:
        raise ValidationError(f"De toelichting is te lang: ten hoogste {HANDLED_NOTE_MAX} tekens.")
    with transaction.atomic():
        item = (
            ReturnItem.objects.select_for_update()
            .select_related("file")
            .get(pk=item_id, file__library=library)
        )
        if item.state == ReturnItemState.HANDLED:
            return item
        if item.state != ReturnItemState.UNMATCHED:
            raise ValidationError(
                "Alleen een niet herkende terugboeking wordt met de hand afgehandeld."
            )
        item.state = ReturnItemState.HANDLED
        item.handled_by = actor.get_username()
        item.handled_note = note
        item.save(update_fields=["state", "handled_by", "handled_note"])
        audit_record(
            actor=actor,
            action="debits.return_handled",
            library=library,
            target=item,
            data={
                "file": item.file.filename,
                "end_to_end_id": item.end_to_end_id,
                "amount": str(item.amount) if item.amount is not None else "",
                "note": note,
            },
        )
    return item
