"""The debits a bank returns, read from its camt.054 (notification) or camt.053 (statement).

A pure module: bytes in, a `ReturnReport` out, or a `CamtError` whose `.message` tells the
counter user in Dutch what is wrong with the file. Never a partial result: the whole file is
read before anything is returned.

Accepted: camt.054.001.xx (root `BkToCstmrDbtCdtNtfctn`, one or more `Ntfctn`) and
camt.053.001.xx (root `BkToCstmrStmt`, one or more `Stmt`), in practice .02 up to .08. Elements
are matched by their local name, so a default namespace, a prefixed one (`ns2:Document`) or
none at all read the same; the version is taken from the namespace when it has one.

Which transactions are returns (one `ReturnedDebit` each):

- every `TxDtls` with return information (`RtrInf`), whatever its direction (a bank may list
  the refused debits of a batch inside the batch's credit);
- every `TxDtls` that is not a credit, under an entry that is a reversal (`RvslInd` true: a
  debit that undoes a credit) or whose bank transaction code (the entry's or its own) is an
  issued direct debit (`PMNT/IDDT/...`: the creditor's account is only debited for a direct
  debit when one comes back) or a return sub-family (`UPDD`, `PRDD`, `RCDD`);
- an entry that qualifies the same way but has no `TxDtls` at all: one item from the entry
  itself (no end-to-end id; the amount is the entry's).

The entry's status (BOOK, PDNG, INFO) and the currency are not looked at: a pending return
that is booked later comes twice, and the caller recognises the second by its end-to-end id.

Credits without return information (the collections themselves, incoming transfers) and
other debits (outgoing transfers, the library's own direct debits `RDDT`, fees that are not
coded as direct debits) are skipped. When in doubt an item is included: the caller lists the
items it cannot match for manual handling.

The file is read with lxml's iterparse (no entity expansion, no network, no huge trees; a
DOCTYPE is refused) and each entry is dropped once read, so memory stays flat up to the
50 MB limit.
"""

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree

MAX_BYTES = 50 * 1024 * 1024

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# The message elements we read, by local name.
MESSAGES = {"BkToCstmrDbtCdtNtfctn": "camt.054", "BkToCstmrStmt": "camt.053"}

# Files that are often picked by mistake, by the local name of the message element.
OTHER_MESSAGES = {
    "BkToCstmrAcctRpt": "camt.052",
    "CstmrDrctDbtInitn": "pain.008",
    "CstmrCdtTrfInitn": "pain.001",
    "CstmrPmtStsRpt": "pain.002",
    "FIToFIPmtStsRpt": "pacs.002",
}
OTHER_DESCRIPTIONS = {
    "camt.052": "een camt.052-bestand (een tussentijds rekeningrapport)",
    "pain.008": "een pain.008-bestand (een incassobestand voor de bank)",
    "pain.001": "een pain.001-bestand (een betaalopdracht voor de bank)",
    "pain.002": "een pain.002-bestand (een statusrapport van de bank)",
    "pacs.002": "een pacs.002-bestand (een statusrapport tussen banken)",
}

# Sub-families of the bank transaction code that undo a direct debit: reversal due to a
# return (unpaid), due to a reversal, due to a cancellation request.
RETURN_SUBFAMILIES = frozenset({"UPDD", "PRDD", "RCDD"})

_ISO_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3})\.\d{3}\.\d{2}$")
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

_CHOOSE = "Kies het camt.054- of camt.053-bestand met de terugboekingen van de bank."
NOT_XML = "Dit is geen XML-bestand; kies het camt.054- of camt.053-bestand van de bank."
_ASK_BANK = "Het bestand is niet ingelezen; vraag de bank om een nieuw bestand."

# ISO 20022 return reason codes (ExternalReturnReason1Code) as used for SEPA direct debits.
REASONS: dict[str, str] = {
    "AC01": "rekeningnummer onjuist",
    "AC04": "rekening opgeheven",
    "AC06": "rekening geblokkeerd",
    "AC13": "rekeningsoort niet toegestaan",
    "AG01": "incasso niet toegestaan op deze rekening",
    "AG02": "ongeldige bankcode",
    "AM04": "onvoldoende saldo",
    "AM05": "dubbele incasso",
    "BE05": "incassant onbekend bij de bank",
    "CNOR": "bank van de incassant niet bereikbaar",
    "CUST": "op verzoek van de klant",
    "DNOR": "bank van de klant niet bereikbaar",
    "DUPL": "dubbele betaling",
    "FF01": "ongeldig bestandsformaat",
    "FOCR": "terugbetaald na een verzoek tot annulering",
    "FRAD": "fraude",
    "MD01": "geen machtiging",
    "MD02": "machtigingsgegevens ontbreken of onjuist",
    "MD06": "terugboeking door klant",
    "MD07": "klant overleden",
    "MS02": "geweigerd door klant",
    "MS03": "reden niet opgegeven",
    "RC01": "BIC onjuist",
    "RR01": "regelgeving: rekening of identificatie van de klant ontbreekt of is onjuist",
    "RR02": "regelgeving: naam of adres van de klant ontbreekt of is onjuist",
    "RR03": "regelgeving: naam of adres van de incassant ontbreekt of is onjuist",
    "RR04": "regelgeving: ontbrekende of onjuiste gegevens",
    "SL01": "specifieke dienst van de bank",
    "SL11": "incassant staat niet op de lijst van toegestane incassanten van de klant",
    "SL12": "incassant geblokkeerd door de klant",
    "SL13": "maximaal aantal incasso's van de klant overschreden",
    "SL14": "maximaal incassobedrag van de klant overschreden",
    "TECH": "technisch probleem",
}


def reason_text(code: str) -> str:
    """`AM04` → `AM04 onvoldoende saldo`; an unknown code → `XX99 (onbekende reden)`."""
    code = code.strip().upper()
    if not code:
        return "geen reden opgegeven"
    text = REASONS.get(code)
    return f"{code} {text}" if text else f"{code} (onbekende reden)"


@dataclass(frozen=True)
class ReturnedDebit:
    end_to_end_id: str  # "" when absent or NOTPROVIDED
    amount: Decimal | None
    reason_code: str  # "" when absent
    debtor_name: str
    debtor_iban: str
    mandate_reference: str
    booking_date: dt.date | None


@dataclass(frozen=True)
class ReturnReport:
    message_type: str  # "camt.054" or "camt.053"
    version: str  # "camt.054.001.02"; the bare message type when the file has no namespace
    message_id: str  # GrpHdr/MsgId
    items: list[ReturnedDebit]


class CamtError(ValueError):
    """A file that cannot be read; `.message` is a Dutch sentence for the counter user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _p(path: str) -> str:
    """`Refs/EndToEndId` → `{*}Refs/{*}EndToEndId`: the local names in any namespace or none."""
    return "/".join("{*}" + step for step in path.split("/"))


MSG_ID = _p("MsgId")
GROUP_HEADER = _p("GrpHdr")
ENTRY = _p("Ntry")
TX_DETAILS = _p("TxDtls")
AMT = _p("Amt")
CDT_DBT = _p("CdtDbtInd")
RVSL = _p("RvslInd")
BOOKING_DATE = _p("BookgDt/Dt")
BOOKING_DATETIME = _p("BookgDt/DtTm")
BK_TX_CD = _p("BkTxCd")
FAMILY = _p("Domn/Fmly/Cd")
SUBFAMILY = _p("Domn/Fmly/SubFmlyCd")
E2E = _p("Refs/EndToEndId")
MANDATE = _p("Refs/MndtId")
ANY_MANDATE = ".//{*}MndtId"
TX_AMOUNT = _p("AmtDtls/TxAmt/Amt")
INSTRUCTED_AMOUNT = _p("AmtDtls/InstdAmt/Amt")
RETURN_INFO = _p("RtrInf")
REASON_CODE = _p("RtrInf/Rsn/Cd")
REASON_PROPRIETARY = _p("RtrInf/Rsn/Prtry")
DEBTOR_NAMES = tuple(
    _p(path)
    for path in (
        "RltdPties/Dbtr/Nm",
        "RltdPties/Dbtr/Pty/Nm",
        "RltdPties/UltmtDbtr/Nm",
        "RltdPties/UltmtDbtr/Pty/Nm",
    )
)
DEBTOR_IBAN = _p("RltdPties/DbtrAcct/Id/IBAN")


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _looks_like_xml(data: bytes) -> bool:
    """Whether the bytes start like XML (a BOM and white space aside), in UTF-8 or UTF-16."""
    head = data[:100].lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")
    return head.startswith(b"<")


def _message(tree: etree._ElementTree) -> etree._Element:
    """The message element (BkToCstmrDbtCdtNtfctn or BkToCstmrStmt), at the root or under a
    Document; a CamtError for a DOCTYPE and for any other kind of XML."""
    _refuse_doctype(tree)
    root = tree.getroot()
    if _local(root.tag) in MESSAGES:
        return root
    if _local(root.tag) == "Document":
        child = next(root.iterchildren(etree.Element), None)
        if child is not None and _local(child.tag) in MESSAGES:
            return child
        if child is not None:
            raise _other_type(child)
    raise _other_type(root)


def _refuse_doctype(tree: etree._ElementTree) -> None:
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CamtError(
            "Dit bestand bevat een DOCTYPE-declaratie. Bankbestanden hebben die niet; om "
            f"veiligheidsredenen wordt het niet ingelezen. {_CHOOSE}"
        )


def _other_type(element: etree._Element) -> CamtError:
    """The error for XML that is not a camt.054 or camt.053: which type it is, if we can tell."""
    local = _local(element.tag)
    kind = OTHER_MESSAGES.get(local)
    if kind is None:
        match = _ISO_NAMESPACE.match(_namespace(element.tag))
        kind = match.group(1) if match else None
    if kind is None or kind in MESSAGES.values():
        # Unknown, or a camt.054/053 namespace around something else: say what it starts with.
        return CamtError(
            f"Dit XML-bestand is geen camt.054- of camt.053-bestand (het begint met <{local}>). "
            + _CHOOSE
        )
    description = OTHER_DESCRIPTIONS.get(kind, f"een {kind}-bestand")
    return CamtError(
        f"Dit is {description}. Voor terugboekingen is het camt.054- of camt.053-bestand van "
        "de bank nodig."
    )


def _version(element: etree._Element, message_type: str) -> str:
    namespace = _namespace(element.tag)
    match = _ISO_NAMESPACE.match(namespace)
    if match and match.group(1) == message_type:
        return namespace.rsplit(":", 1)[1]
    return message_type


def _amount(element: etree._Element | None) -> Decimal | None:
    if element is None:
        return None
    text = (element.text or "").strip()
    if not _AMOUNT.match(text):
        raise CamtError(
            f"Het bedrag '{text[:40]}' (regel {element.sourceline}) is geen geldig bedrag. "
            + _ASK_BANK
        )
    return Decimal(text)


def _booking_date(entry: etree._Element) -> dt.date | None:
    element = entry.find(BOOKING_DATE)
    if element is None:
        element = entry.find(BOOKING_DATETIME)
    if element is None:
        return None
    text = (element.text or "").strip()
    try:
        if element.tag.endswith("DtTm"):
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                moment = moment.astimezone(AMSTERDAM)
            return moment.date()
        # An xs:date may carry a time zone (2024-03-05+01:00); the day is what counts.
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise CamtError(
            f"De boekingsdatum '{text[:40]}' (regel {element.sourceline}) is geen geldige "
            f"datum. {_ASK_BANK}"
        ) from None


def _is_true(text: str) -> bool:
    return text.lower() in ("true", "1")


def _debit_return_code(element: etree._Element) -> bool:
    """Whether the bank transaction code under `element` (an entry or TxDtls) says that a
    direct debit was undone: an issued direct debit booked as a debit, or a return
    sub-family."""
    code = element.find(BK_TX_CD)
    if code is None:
        return False
    family = _text(code, FAMILY).upper()
    subfamily = _text(code, SUBFAMILY).upper()
    return family == "IDDT" or subfamily in RETURN_SUBFAMILIES


def _reason_code(tx: etree._Element) -> str:
    code = _text(tx, REASON_CODE).upper()
    if not code:
        # A proprietary reason only when it looks like a code (some banks repeat the ISO one).
        proprietary = _text(tx, REASON_PROPRIETARY).upper()
        if 1 <= len(proprietary) <= 4 and proprietary.isalnum():
            code = proprietary
    return code


def _end_to_end_id(tx: etree._Element) -> str:
    value = _text(tx, E2E)
    return "" if value.upper() == "NOTPROVIDED" else value


def _debtor_name(tx: etree._Element) -> str:
    for path in DEBTOR_NAMES:
        name = _text(tx, path)
        if name:
            return name
    return ""


def _mandate(tx: etree._Element) -> str:
    """Refs/MndtId, else the first MndtId elsewhere in the TxDtls (MndtRltdInf) that has one."""
    reference = _text(tx, MANDATE)
    if not reference:
        for element in tx.iterfind(ANY_MANDATE):
            reference = (element.text or "").strip()
            if reference:
                break
    return reference


@dataclass(frozen=True)
class _Tx:
    """What one TxDtls says, read when it ends (its element is dropped right after)."""

    returned: bool  # has return information (RtrInf)
    direction: str  # its own CdtDbtInd, "" when it has none (the entry's counts)
    undoes: bool  # its own bank transaction code says a direct debit was undone
    amount: Decimal | None  # AmtDtls/TxAmt/Amt, else Amt
    instructed: Decimal | None  # AmtDtls/InstdAmt/Amt
    end_to_end_id: str
    reason_code: str
    debtor_name: str
    debtor_iban: str
    mandate_reference: str


def _tx(tx: etree._Element) -> _Tx:
    amount = _amount(tx.find(TX_AMOUNT))
    if amount is None:
        amount = _amount(tx.find(AMT))
    return _Tx(
        returned=tx.find(RETURN_INFO) is not None,
        direction=_text(tx, CDT_DBT).upper(),
        undoes=_debit_return_code(tx),
        amount=amount,
        instructed=_amount(tx.find(INSTRUCTED_AMOUNT)),
        end_to_end_id=_end_to_end_id(tx),
        reason_code=_reason_code(tx),
        debtor_name=_debtor_name(tx),
        debtor_iban=_text(tx, DEBTOR_IBAN).replace(" ", "").upper(),
        mandate_reference=_mandate(tx),
    )


def _entry_items(entry: etree._Element, txs: list[_Tx]) -> list[ReturnedDebit]:
    """The returns in one Ntry, given its TxDtls (see the module's docstring for the rules)."""
    entry_direction = _text(entry, CDT_DBT).upper()
    entry_amount = _amount(entry.find(AMT))
    booking_date = _booking_date(entry)
    entry_undoes = _is_true(_text(entry, RVSL)) or _debit_return_code(entry)
    if not txs:
        if entry_direction == "CRDT" or not entry_undoes:
            return []
        return [ReturnedDebit("", entry_amount, "", "", "", "", booking_date)]
    items = []
    for tx in txs:
        direction = tx.direction or entry_direction
        if not tx.returned and (direction == "CRDT" or not (entry_undoes or tx.undoes)):
            continue
        amount = tx.amount
        if amount is None and len(txs) == 1:
            amount = entry_amount
        if amount is None:
            amount = tx.instructed
        items.append(
            ReturnedDebit(
                end_to_end_id=tx.end_to_end_id,
                amount=amount,
                reason_code=tx.reason_code,
                debtor_name=tx.debtor_name,
                debtor_iban=tx.debtor_iban,
                mandate_reference=tx.mandate_reference,
                booking_date=booking_date,
            )
        )
    return items


def _drop(element: etree._Element) -> None:
    """Free a read element and its read siblings before it: memory stays flat.

    Each TxDtls is dropped as soon as it is read: lxml frees one large subtree in an
    iterparse very slowly (5 s for an entry of 4,000 TxDtls), many small ones fast."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    while element.getprevious() is not None:
        del parent[0]


def parse_returns(data: bytes) -> ReturnReport:
    """The returned debits in a camt.054 or camt.053 file, or a CamtError (nothing partial)."""
    if len(data) > MAX_BYTES:
        raise CamtError(
            "Het bestand is groter dan 50 MB en wordt niet ingelezen. Vraag de bank om de "
            "terugboekingen in kleinere bestanden (bijvoorbeeld per dag)."
        )
    if not data or data.isspace():
        raise CamtError(f"Het bestand is leeg. {_CHOOSE}")

    # Only the elements we read raise events (the filter runs in C): GrpHdr, each TxDtls and
    # each Ntry, at their end. The root is checked at the first of them, or after the loop.
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=(GROUP_HEADER, TX_DETAILS, ENTRY),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    message: etree._Element | None = None
    message_type = version = ""
    message_id = ""
    items: list[ReturnedDebit] = []
    txs: list[_Tx] = []  # those of the current entry
    try:
        for _event, element in events:
            if message is None:
                message = _message(element.getroottree())
                message_type = MESSAGES[_local(message.tag)]
                version = _version(message, message_type)
            local = _local(element.tag)
            if local == "TxDtls":
                txs.append(_tx(element))
                _drop(element)
            elif local == "Ntry":
                items.extend(_entry_items(element, txs))
                txs = []
                _drop(element)
            elif element.getparent() is message:
                message_id = _text(element, MSG_ID)
    except etree.XMLSyntaxError as error:
        if not _looks_like_xml(data):
            raise CamtError(NOT_XML) from None
        raise CamtError(
            f"Het bestand is beschadigd of onvolledig (fout in regel {error.lineno}). " + _ASK_BANK
        ) from None
    if message is None:
        # Well-formed, without a GrpHdr, Ntry or TxDtls: what is it?
        _message(events.root.getroottree())
    if not message_id:
        raise CamtError("In het bestand ontbreekt het berichtkenmerk (GrpHdr/MsgId). " + _ASK_BANK)
    return ReturnReport(message_type, version, message_id, items)
