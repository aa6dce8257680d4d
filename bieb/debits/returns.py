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

The items are handled a chunk at a time, in a fixed number of statements per chunk (the
debits matched in one query, the stornos, audit rows, ReturnItems and mails each written at
once, the rights refreshed for the chunk's customers together): a return file of 10,000 items
takes seconds, not minutes.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import get_template
from django.utils import timezone

from bieb.audit.services import audit_record
from bieb.core.bulk import bulk_insert
from bieb.core.dates import local_today
from bieb.core.money import format_euro
from bieb.customers.ledger import ledger_debits_return
from bieb.customers.models import Customer, Membership
from bieb.customers.year import period_pay_url, periods_to_pay_of
from bieb.debits.camt import CamtError, ReturnedDebit, parse_returns, reason_text
from bieb.debits.models import (
    Debit,
    DebitState,
    ReturnFile,
    ReturnItem,
    ReturnItemState,
)
from bieb.debits.services import mandate_block
from bieb.libraries.models import Library
from bieb.mail.services import mail_queue_many
from bieb.staff.models import User

REFUND_CLAIMED = "MD06"
# The states of a debit the bank can report back: in a file (refused before the collection
# date), collected, or returned already.
RETURNABLE = (DebitState.COLLECTED, DebitState.IN_FILE, DebitState.RETURNED)


@dataclass(frozen=True)
class Imported:
    file: ReturnFile
    again: bool  # the same file was imported before: nothing changed now


RETURN_FILE_MAX = 50 * 1024 * 1024  # bytes; a bank's day of returns is far below this
CHUNK = 1000  # items matched, reversed and mailed together: a fixed number of statements each


def returns_import(*, library: Library, data: bytes, filename: str, actor: User) -> Imported:
    """Import a return file of this library (see the module's docstring)."""
    if len(data) > RETURN_FILE_MAX:
        raise ValidationError(return_file_too_large(), code="too_large")
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
            seen: set[int] = set()  # debits returned by this file (one reported twice)
            states = []
            for start in range(0, len(report.items), CHUNK):
                chunk = report.items[start : start + CHUNK]
                states += _return_chunk(library, returned, chunk, actor, seen)
            returned.unmatched = states.count(ReturnItemState.UNMATCHED)
            returned.matched = len(states) - returned.unmatched
            returned.save(update_fields=["matched", "unmatched"])
    except IntegrityError:  # the same file by another worker, at the same moment
        return Imported(file=ReturnFile.objects.get(library=library, sha256=digest), again=True)
    return Imported(file=returned, again=False)


def return_file_too_large() -> str:
    return (
        f"Dit bestand is groter dan {RETURN_FILE_MAX // (1024 * 1024)} MB; vraag de bank om "
        "een bestand per dag."
    )


def _return_chunk(
    library: Library,
    file: ReturnFile,
    items: list[ReturnedDebit],
    actor: User,
    seen: set[int],
) -> list[str]:
    """Match, reverse and mail a chunk of the file's items; their states, in order."""
    debits = {
        d.end_to_end_id: d
        for d in Debit.objects.select_for_update(of=("self",))
        .select_related("mandate", "customer", "period", "payment_line")
        .filter(
            library=library, end_to_end_id__in={i.end_to_end_id for i in items if i.end_to_end_id}
        )
        .order_by("pk")
        if d.end_to_end_id
    }
    states: list[str] = []
    found: list[Debit | None] = []
    todo: list[tuple[Debit, ReturnedDebit]] = []
    for item in items:
        debit = debits.get(item.end_to_end_id) if item.end_to_end_id else None
        if debit is None or debit.state not in RETURNABLE:
            state = ReturnItemState.UNMATCHED
            debit = None
        elif debit.state == DebitState.RETURNED or debit.pk in seen:
            state = ReturnItemState.ALREADY
        else:
            state = ReturnItemState.PROCESSED
            seen.add(debit.pk)
            todo.append((debit, item))
        states.append(state)
        found.append(debit)
    if todo:
        _reverse(library, todo, actor)
    bulk_insert(
        ReturnItem,
        [
            ReturnItem(
                file=file,
                end_to_end_id=item.end_to_end_id[:35],
                amount=item.amount,
                reason_code=item.reason_code[:4],
                debtor_name=item.debtor_name[:140],
                debtor_iban=item.debtor_iban[:34],
                debit=debit,
                state=state,
            )
            for item, debit, state in zip(items, found, states, strict=True)
        ],
    )
    return states


def _reverse(library: Library, todo: list[tuple[Debit, ReturnedDebit]], actor: User) -> None:
    """The returned debits of a chunk: the storno of each collected one, all marked returned,
    the mandates of claimed refunds blocked, and a mail to each member."""
    name = actor.get_username()
    customers = list(
        Customer.objects.select_for_update()
        .filter(pk__in={debit.customer_id for debit, _item in todo})
        .order_by("pk")
    )
    ledger_debits_return(
        returned=[
            (debit.payment_line, f"Terugboeking incasso: {reason_text(item.reason_code)}")
            for debit, item in todo
            if debit.payment_line is not None
        ],
        customers=customers,
        today=local_today(),
        actor=actor,
    )
    now = timezone.now()
    by_code: dict[str, list[int]] = {}
    for debit, item in todo:
        debit.state = DebitState.RETURNED
        debit.return_code = item.reason_code[:4]
        debit.returned_at = now
        by_code.setdefault(debit.return_code, []).append(debit.pk)
    for code, ids in by_code.items():
        Debit.objects.filter(pk__in=ids).update(
            state=DebitState.RETURNED, return_code=code, returned_at=now
        )
    for debit, item in todo:
        if item.reason_code == REFUND_CLAIMED:
            mandate_block(
                mandate=debit.mandate,
                description=f"Geblokkeerd na terugboeking door klant ({debit.end_to_end_id})",
                actor_name=name,
            )
    _mail(library, [debit for debit, _item in todo])


def _mail(library: Library, debits: list[Debit]) -> None:
    """The member's mail about each returned debit, with the link that pays the period now
    (the rights were refreshed just before)."""
    mailed = [d for d in debits if d.customer.email]
    memberships = list(
        Membership.objects.filter(
            pk__in={d.period.membership_id for d in mailed if d.period is not None}
        ).select_related("library")
    )
    to_pay = periods_to_pay_of(memberships)
    template = get_template("debits/mail/returned.txt")
    contact = library.contact_lines
    messages = []
    for debit in mailed:
        customer = debit.customer
        period = to_pay.get(debit.period.membership_id) if debit.period is not None else None
        context = {
            "name": customer.first_name or customer.display_name,
            "library": library,
            "contact": contact,
            "amount": format_euro(debit.amount),
            "date": f"{debit.collection_date:%d-%m-%Y}",
            "reason": reason_text(debit.return_code),
            "refund_claimed": debit.return_code == REFUND_CLAIMED,
            "for_period": debit.period is not None,
            # Empty for an open amount (no period): the mail then says to contact the library.
            "pay_url": period_pay_url(period) if period is not None else "",
        }
        messages.append(
            {
                "to": customer.email,
                "subject": f"Je incasso van {library.name} is niet gelukt",
                "text": template.render(context),
                "kind": "debits.returned",
                "reference": debit.end_to_end_id,
            }
        )
    mail_queue_many(messages)


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
