"""SEPA direct-debit files (pain.008.001.02) for the bank: pure, no database.

`pain008_files` turns debit lines into one file per collection date and sequence type (FRST,
RCUR), split at the library's maximum number of debits per file. sepaxml builds each document;
mandate amendments (a debtor's new IBAN under the same mandate), which sepaxml cannot express,
are inserted afterwards with lxml; every file is then validated with lxml against the XSD that
sepaxml ships, and only a valid file is yielded.

The files are built one at a time and yielded as soon as they are ready, so memory holds one
file however many debits there are. That is why the caller passes the debits sorted by
(collection_date, sequence_type) (the service queries them ORDER BY collection_date,
sequence_type, id); a debit that goes back in that order raises PainError.

Texts (names, descriptions) are transliterated to the SEPA character set (a-z A-Z 0-9
/ - ? : ( ) . , ' + and space): first as sepaxml's `clean=True` does, with text_unidecode
(sepaxml's own dependency), then `&` becomes `+` and anything else outside the set a space, as
Dutch banks accept no more than that set. Identifiers (end-to-end id, mandate reference,
message id) are not changed: one outside the set is refused.
"""

import functools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sepaxml
from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaDD
from text_unidecode import unidecode

SCHEMA = "pain.008.001.02"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
SEQUENCE_TYPES = ("FRST", "RCUR")
MAX_ID = 35
MAX_NAME = 70
MAX_DESCRIPTION = 140
# The EPC rulebook's maximum amount of one collection.
MAX_AMOUNT = Decimal("999999999.99")
CENT = Decimal("0.01")
# The code in OrgnlDbtrAgt for "same mandate, new debtor agent" (the account moved to another bank).
SMNDA = "SMNDA"

_SEPA_CHARS = "A-Za-z0-9/\\-?:().,'+ "
_ID = re.compile(f"[{_SEPA_CHARS}]+")
_NOT_SEPA_CHAR = re.compile(f"[^{_SEPA_CHARS}]")
_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")


@dataclass(frozen=True)
class Creditor:
    """The library collecting: its name, account and Incassant-ID (e.g. NL69ZZZ123456780000)."""

    name: str
    iban: str
    bic: str
    creditor_id: str


@dataclass(frozen=True)
class DebitLine:
    """One collection under one mandate. `original_iban` set: the mandate's IBAN changed since
    the last collection, and this debit carries the amendment (at another bank than the original
    IBAN it must be FRST)."""

    end_to_end_id: str  # ≤ 35 characters, unique
    amount: Decimal  # euros, > 0, at most 2 decimals
    debtor_name: str
    iban: str
    bic: str  # may be "": the file then says NOTPROVIDED
    mandate_reference: str
    mandate_signed_on: date
    sequence_type: str  # "FRST" or "RCUR"
    collection_date: date
    description: str  # remittance information, ≤ 140 characters
    original_iban: str = ""


@dataclass(frozen=True)
class Pain008File:
    """One file for the bank: one collection date, one sequence type."""

    message_id: str  # GrpHdr/MsgId, and PmtInf/PmtInfId
    collection_date: date
    sequence_type: str
    count: int
    total: Decimal
    xml: bytes


class PainError(ValueError):
    """A debit or file that cannot go to the bank. `message` is Dutch, for the user; `detail`
    (the schema's complaint, for instance) is for the log and is part of `str(error)`."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(f"{message} ({detail})" if detail else message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class _Debit:
    """A checked DebitLine, with what the file needs in the form the file needs it."""

    end_to_end_id: str
    amount: Decimal
    cents: int
    debtor_name: str
    iban: str
    bic: str
    mandate_reference: str
    mandate_signed_on: date
    sequence_type: str
    collection_date: date
    description: str
    original_iban: str
    new_bank: bool  # the amendment moved the account to another bank (SMNDA)


def pain008_files(
    *,
    creditor: Creditor,
    debits: Iterable[DebitLine],
    max_per_file: int,
    message_id_prefix: str,
    created_at: datetime,
) -> Iterator[Pain008File]:
    """The files for `debits`, which come sorted by (collection_date, sequence_type): one file
    per collection date and sequence type, a new one after every `max_per_file` debits, in the
    order given. Each is validated against the XSD, then yielded at once.

    Message ids are `{message_id_prefix}-1`, `-2`, … in the order of the files (at most 35
    characters; the prefix makes them unique for the creditor). A debit or file that is not
    right raises PainError, before the file it would go in is yielded; files yielded before it
    are valid, but the caller is expected to keep none of a run that failed.
    """
    if max_per_file < 1:
        raise ValueError(f"max_per_file must be at least 1, not {max_per_file}")
    config = _creditor_config(creditor)
    _check_id(message_id_prefix, "Het voorvoegsel van de berichtkenmerken", MAX_ID - 2)

    number = 0
    chunk: list[_Debit] = []
    end_to_end_ids: set[str] = set()
    key: tuple[date, str] | None = None

    def build() -> Pain008File:
        nonlocal number
        number += 1
        message_id = f"{message_id_prefix}-{number}"
        if len(message_id) > MAX_ID:
            raise PainError(
                f"Het berichtkenmerk {message_id} is langer dan {MAX_ID} tekens; "
                "kies een korter voorvoegsel.",
            )
        file = _file(config, chunk, message_id, created_at)
        chunk.clear()
        end_to_end_ids.clear()
        return file

    for line in debits:
        debit = _debit(line)
        debit_key = (debit.collection_date, debit.sequence_type)
        if key is not None and debit_key < key:
            raise PainError(
                "De incasso's zijn niet gesorteerd op incassodatum en volgorde (FRST, RCUR).",
                f"{debit.end_to_end_id}: {debit_key} after {key}",
            )
        if debit_key != key and chunk:
            yield build()
        key = debit_key
        if debit.end_to_end_id in end_to_end_ids:
            raise PainError(
                f"Het kenmerk {debit.end_to_end_id} komt twee keer voor in één incassobestand."
            )
        end_to_end_ids.add(debit.end_to_end_id)
        chunk.append(debit)
        if len(chunk) >= max_per_file:
            yield build()
    if chunk:
        yield build()


# --- checks ----------------------------------------------------------------------------------


def sepa_text(value: str) -> str:
    """`value` in the SEPA character set: transliterated (`é` → `e`, `ß` → `ss`), `&` → `+`,
    other characters outside the set → a space; whitespace collapsed."""
    text = value if value.isascii() else unidecode(value)
    text = _NOT_SEPA_CHAR.sub(" ", text.replace("&", "+"))
    return " ".join(text.split())


def _check_id(value: str, what: str, max_length: int = MAX_ID) -> None:
    """An identifier as the EPC wants it: 1 to `max_length` characters of the SEPA set, not
    starting or ending with `/`, no `//`."""
    if not value:
        raise PainError(f"{what} ontbreekt.")
    if len(value) > max_length:
        raise PainError(f"{what} ({value}) is langer dan {max_length} tekens.")
    if not _ID.fullmatch(value) or value.startswith("/") or value.endswith("/") or "//" in value:
        raise PainError(
            f"{what} ({value}) mag alleen letters zonder accent, cijfers, spaties en "
            "/ - ? : ( ) . , ' + bevatten, en niet met / beginnen of eindigen."
        )


def _iban(value: str, what: str) -> IBAN:
    try:
        return IBAN(value, validate_bban=False)
    except SchwiftyException as error:
        raise PainError(f"{what} ({value}) is geen geldige IBAN.", str(error)) from error


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _creditor_config(creditor: Creditor) -> dict[str, object]:
    """sepaxml's config for `creditor`, checked; a fresh copy per file (sepaxml changes it)."""
    name = sepa_text(creditor.name)
    if not name:
        raise PainError("De naam van de bibliotheek als incassant ontbreekt.")
    iban = _iban(creditor.iban, "De IBAN van de bibliotheek")
    if not creditor.bic:
        raise PainError("De BIC van de bibliotheek ontbreekt; vul die in bij de bibliotheek.")
    if not _BIC.fullmatch(creditor.bic):
        raise PainError(f"De BIC van de bibliotheek ({creditor.bic}) is geen geldige BIC.")
    _check_id(creditor.creditor_id, "Het incassant-ID van de bibliotheek")
    return {
        "name": name,
        "IBAN": iban.compact,
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": creditor.creditor_id,
        "currency": "EUR",
        "instrument": "CORE",
    }


def _debit(line: DebitLine) -> _Debit:
    """`line` checked, or PainError saying (in Dutch) what is wrong with it."""
    _check_id(line.end_to_end_id, "Het kenmerk van een incasso")
    prefix = f"Incasso {line.end_to_end_id}:"
    amount = line.amount
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise PainError(f"{prefix} het bedrag ({amount}) moet groter zijn dan nul.")
    if amount > MAX_AMOUNT:
        raise PainError(f"{prefix} het bedrag ({amount}) is te hoog.")
    if amount != amount.quantize(CENT):
        raise PainError(f"{prefix} het bedrag ({amount}) heeft meer dan twee decimalen.")
    debtor_name = sepa_text(line.debtor_name)
    if not debtor_name:
        raise PainError(f"{prefix} de naam van de rekeninghouder ontbreekt.")
    account = _iban(line.iban, f"{prefix} de IBAN")
    iban = account.compact
    if line.bic and not _BIC.fullmatch(line.bic):
        raise PainError(f"{prefix} de BIC ({line.bic}) is geen geldige BIC.")
    _check_id(line.mandate_reference, f"{prefix} het machtigingskenmerk")
    if line.sequence_type not in SEQUENCE_TYPES:
        raise PainError(f"{prefix} de volgorde ({line.sequence_type}) is niet FRST of RCUR.")
    if not _is_date(line.collection_date):
        raise PainError(f"{prefix} de incassodatum ontbreekt.", repr(line.collection_date))
    if not _is_date(line.mandate_signed_on):
        raise PainError(
            f"{prefix} de datum van ondertekening ontbreekt.", repr(line.mandate_signed_on)
        )
    if line.mandate_signed_on > line.collection_date:
        raise PainError(f"{prefix} de machtiging is getekend na de incassodatum.")
    if len(line.description) > MAX_DESCRIPTION:
        raise PainError(f"{prefix} de omschrijving is langer dan {MAX_DESCRIPTION} tekens.")
    description = sepa_text(line.description)
    if not description:
        raise PainError(f"{prefix} de omschrijving ontbreekt.")

    original_iban = ""
    new_bank = False
    if line.original_iban:
        original = _iban(line.original_iban, f"{prefix} de oorspronkelijke IBAN")
        original_iban = original.compact
        if original_iban == iban:
            raise PainError(f"{prefix} de oorspronkelijke IBAN is gelijk aan de nieuwe.")
        # The same bank: the same country and bank code (for NL characters 5-8, e.g. ABNA).
        bank = (account.country_code, account.bank_code)
        new_bank = not original.bank_code or (original.country_code, original.bank_code) != bank
        if new_bank and line.sequence_type != "FRST":
            raise PainError(
                f"{prefix} de rekening is naar een andere bank verhuisd; "
                "de eerste incasso daarna moet FRST zijn."
            )
    return _Debit(
        end_to_end_id=line.end_to_end_id,
        amount=amount,
        cents=int(amount * 100),
        debtor_name=debtor_name,
        iban=iban,
        bic=line.bic,
        mandate_reference=line.mandate_reference,
        mandate_signed_on=line.mandate_signed_on,
        sequence_type=line.sequence_type,
        collection_date=line.collection_date,
        description=description,
        original_iban=original_iban,
        new_bank=new_bank,
    )


# --- the document ----------------------------------------------------------------------------


@functools.cache
def schema() -> etree.XMLSchema:
    """The pain.008.001.02 XSD that sepaxml ships, loaded once per process."""
    path = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{SCHEMA}.xsd")
    return etree.XMLSchema(etree.parse(path))


def _q(*names: str) -> str:
    """The path of `names` in the pain.008 namespace, for lxml's find."""
    return "/".join(f"{{{NAMESPACE}}}{name}" for name in names)


def _file(
    config: dict[str, object], debits: list[_Debit], message_id: str, created_at: datetime
) -> Pain008File:
    first = debits[0]
    total = sum((debit.amount for debit in debits), Decimal(0))
    try:
        sepa = SepaDD(dict(config), schema=SCHEMA, clean=True)
        for debit in debits:
            payment: dict[str, object] = {
                "name": debit.debtor_name,
                "IBAN": debit.iban,
                "amount": debit.cents,
                "type": debit.sequence_type,
                "collection_date": debit.collection_date,
                "mandate_id": debit.mandate_reference,
                "mandate_date": debit.mandate_signed_on,
                "description": debit.description,
                "endtoend_id": debit.end_to_end_id,
            }
            if debit.bic:
                payment["BIC"] = debit.bic
            sepa.add_payment(payment)
        raw = sepa.export(validate=False)
    except Exception as error:
        raise PainError(
            f"Het incassobestand {message_id} kon niet worden gemaakt.", repr(error)
        ) from error

    root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    header = root.find(_q("CstmrDrctDbtInitn", "GrpHdr"))
    payments = root.findall(_q("CstmrDrctDbtInitn", "PmtInf"))
    if header is None or len(payments) != 1:
        raise PainError(
            f"Het incassobestand {message_id} kon niet worden gemaakt.",
            f"{len(payments)} PmtInf",
        )
    (batch,) = payments
    _set(header, "MsgId", message_id)
    _set(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    _set(batch, "PmtInfId", message_id)
    _amend(batch, debits, message_id)

    count = len(batch.findall(_q("DrctDbtTxInf")))
    for node in (header, batch):
        if (
            count != len(debits)
            or node.findtext(_q("NbOfTxs")) != str(len(debits))
            or Decimal(node.findtext(_q("CtrlSum")) or "0") != total
        ):
            raise PainError(
                f"De totalen in het incassobestand {message_id} kloppen niet.",
                f"{count} transactions, NbOfTxs {node.findtext(_q('NbOfTxs'))}, "
                f"CtrlSum {node.findtext(_q('CtrlSum'))}; expected {len(debits)}, {total}",
            )

    try:
        schema().assertValid(root)
    except etree.DocumentInvalid as error:
        raise PainError(
            f"Het incassobestand {message_id} voldoet niet aan het pain.008-formaat en is niet "
            "aangemaakt.",
            str(error),
        ) from error
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")
    return Pain008File(
        message_id=message_id,
        collection_date=first.collection_date,
        sequence_type=first.sequence_type,
        count=len(debits),
        total=total,
        xml=xml,
    )


def _set(parent: etree._Element, name: str, text: str) -> None:
    node = parent.find(_q(name))
    if node is None:
        raise PainError("Het incassobestand kon niet worden gemaakt.", f"no {name}")
    node.text = text


def _amend(batch: etree._Element, debits: list[_Debit], message_id: str) -> None:
    """The amendment of each debit with an original IBAN, after its mandate's DtOfSgntr:
    AmdmntInd true, and in AmdmntInfDtls the original account (same bank) or SMNDA as the
    original debtor agent (another bank)."""
    amended = {debit.end_to_end_id: debit for debit in debits if debit.original_iban}
    if not amended:
        return
    found = 0
    for transaction in batch.iterfind(_q("DrctDbtTxInf")):
        debit = amended.get(transaction.findtext(_q("PmtId", "EndToEndId")) or "")
        if debit is None:
            continue
        signed = transaction.find(_q("DrctDbtTx", "MndtRltdInf", "DtOfSgntr"))
        if signed is None:
            raise PainError(
                f"Het incassobestand {message_id} kon niet worden gemaakt.",
                f"{debit.end_to_end_id}: no DtOfSgntr",
            )
        indicator = etree.Element(_q("AmdmntInd"))
        indicator.text = "true"
        details = etree.Element(_q("AmdmntInfDtls"))
        if debit.new_bank:
            agent = etree.SubElement(details, _q("OrgnlDbtrAgt"))
            other = etree.SubElement(etree.SubElement(agent, _q("FinInstnId")), _q("Othr"))
            etree.SubElement(other, _q("Id")).text = SMNDA
        else:
            account = etree.SubElement(details, _q("OrgnlDbtrAcct"))
            identification = etree.SubElement(account, _q("Id"))
            etree.SubElement(identification, _q("IBAN")).text = debit.original_iban
        signed.addnext(indicator)
        indicator.addnext(details)
        found += 1
    if found != len(amended):
        raise PainError(
            f"Het incassobestand {message_id} kon niet worden gemaakt.",
            f"{found} of {len(amended)} amendments placed",
        )
