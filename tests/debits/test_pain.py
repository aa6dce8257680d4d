"""pain.008.001.02 files: grouped by collection date and sequence type, split at the maximum,
totals right, amendments in place, texts in the SEPA character set, and every file valid
against the XSD (checked here with a schema loaded by the test itself)."""

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache

import pytest
import sepaxml
from lxml import etree

from bieb.debits import pain
from bieb.debits.pain import Creditor, DebitLine, Pain008File, PainError, pain008_files

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
CREDITOR = Creditor(
    name="Bibliotheek Eemland",
    iban="NL91ABNA0417164300",
    bic="ABNANL2A",
    creditor_id="NL69ZZZ123456780000",
)
CREATED = datetime(2025, 1, 20, 9, 30, 15)
FEB = date(2025, 2, 1)
MAR = date(2025, 3, 1)


@cache
def xsd() -> etree.XMLSchema:
    path = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")
    return etree.XMLSchema(etree.parse(path))


def line(n: int, **changes: object) -> DebitLine:
    debit = DebitLine(
        end_to_end_id=f"BIEB-{n}",
        amount=Decimal("12.50"),
        debtor_name=f"Klant {n}",
        iban="NL20INGB0001234567",
        bic="INGBNL2A",
        mandate_reference=f"M-{n}",
        mandate_signed_on=date(2024, 5, 1),
        sequence_type="RCUR",
        collection_date=FEB,
        description="Contributie 2025",
    )
    return replace(debit, **changes)  # type: ignore[arg-type]


def files(debits: Iterable[DebitLine], max_per_file: int = 100) -> list[Pain008File]:
    return list(
        pain008_files(
            creditor=CREDITOR,
            debits=debits,
            max_per_file=max_per_file,
            message_id_prefix="BIEB-7",
            created_at=CREATED,
        )
    )


def parsed(file: Pain008File) -> etree._Element:
    """The file's document, after checking it against the XSD independently."""
    root = etree.fromstring(file.xml)
    xsd().assertValid(root)
    return root


def text(root: etree._Element, path: str) -> str:
    found = root.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def test_every_file_validates_and_groups_by_date_and_sequence_type() -> None:
    debits = [
        line(1, sequence_type="FRST"),
        line(2, sequence_type="FRST", bic=""),
        line(3),
        line(4, amount=Decimal("3.05")),
        line(5, collection_date=MAR, sequence_type="FRST"),
        line(6, collection_date=MAR),
    ]
    produced = files(debits)
    assert [(f.collection_date, f.sequence_type, f.count) for f in produced] == [
        (FEB, "FRST", 2),
        (FEB, "RCUR", 2),
        (MAR, "FRST", 1),
        (MAR, "RCUR", 1),
    ]
    for file in produced:
        root = parsed(file)
        assert text(root, ".//p:PmtInf/p:PmtTpInf/p:SeqTp") == file.sequence_type
        assert text(root, ".//p:PmtInf/p:ReqdColltnDt") == file.collection_date.isoformat()
        assert len(root.findall(".//p:PmtInf", NS)) == 1
    # No BIC: the debtor agent is NOTPROVIDED; with one, the BIC.
    first = parsed(produced[0])
    agents = first.findall(".//p:DrctDbtTxInf/p:DbtrAgt/p:FinInstnId", NS)
    assert [a.findtext("p:BIC", namespaces=NS) for a in agents] == ["INGBNL2A", None]
    assert agents[1].findtext("p:Othr/p:Id", namespaces=NS) == "NOTPROVIDED"


def test_split_at_max_per_file_with_totals_and_message_ids() -> None:
    amounts = ["1.00", "2.50", "3.25", "4.00", "10.10"]
    produced = files([line(n, amount=Decimal(a)) for n, a in enumerate(amounts)], max_per_file=2)
    assert [f.count for f in produced] == [2, 2, 1]
    assert [f.total for f in produced] == [Decimal("3.50"), Decimal("7.25"), Decimal("10.10")]
    assert [f.message_id for f in produced] == ["BIEB-7-1", "BIEB-7-2", "BIEB-7-3"]
    for file in produced:
        root = parsed(file)
        for level in ("p:GrpHdr", "p:PmtInf"):
            assert text(root, f"p:CstmrDrctDbtInitn/{level}/p:NbOfTxs") == str(file.count)
            assert Decimal(text(root, f"p:CstmrDrctDbtInitn/{level}/p:CtrlSum")) == file.total
        amounts_in_file = [
            Decimal(a.text or "") for a in root.findall(".//p:DrctDbtTxInf/p:InstdAmt", NS)
        ]
        assert sum(amounts_in_file) == file.total
        assert len(amounts_in_file) == file.count
        assert text(root, "p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId") == file.message_id
        assert text(root, ".//p:PmtInf/p:PmtInfId") == file.message_id
        assert text(root, "p:CstmrDrctDbtInitn/p:GrpHdr/p:CreDtTm") == "2025-01-20T09:30:15"
    # The debits in the order given.
    e2e = [text(parsed(f), ".//p:EndToEndId") for f in produced]
    assert e2e == ["BIEB-0", "BIEB-2", "BIEB-4"]


def test_a_file_is_yielded_before_the_rest_of_the_input_is_read() -> None:
    read = 0

    def debits() -> Iterator[DebitLine]:
        nonlocal read
        for n in range(5):
            read += 1
            yield line(n)

    produced = pain008_files(
        creditor=CREDITOR,
        debits=debits(),
        max_per_file=2,
        message_id_prefix="BIEB-7",
        created_at=CREATED,
    )
    assert next(produced).count == 2
    assert read == 2
    assert [f.count for f in produced] == [2, 1]


def test_creditor_in_the_header_and_payment_information() -> None:
    root = parsed(files([line(1)])[0])
    initiating = "p:CstmrDrctDbtInitn/p:GrpHdr/p:InitgPty"
    assert text(root, f"{initiating}/p:Nm") == "Bibliotheek Eemland"
    assert text(root, f"{initiating}/p:Id/p:OrgId/p:Othr/p:Id") == "NL69ZZZ123456780000"
    batch = "p:CstmrDrctDbtInitn/p:PmtInf"
    assert text(root, f"{batch}/p:CdtrAcct/p:Id/p:IBAN") == "NL91ABNA0417164300"
    assert text(root, f"{batch}/p:CdtrAgt/p:FinInstnId/p:BIC") == "ABNANL2A"
    assert text(root, f"{batch}/p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id") == "NL69ZZZ123456780000"
    assert text(root, f"{batch}/p:PmtTpInf/p:LclInstrm/p:Cd") == "CORE"
    assert root.find(".//p:InstdAmt", NS).get("Ccy") == "EUR"


def mandate_info(root: etree._Element, end_to_end_id: str) -> etree._Element:
    (transaction,) = root.xpath(
        "//p:DrctDbtTxInf[p:PmtId/p:EndToEndId=$id]", namespaces=NS, id=end_to_end_id
    )
    found = transaction.find("p:DrctDbtTx/p:MndtRltdInf", NS)
    assert found is not None
    return found


def tags(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


def test_amendment_at_the_same_bank_names_the_original_account() -> None:
    # NL20INGB… → NL69INGB…: both ING.
    debits = [line(1), line(2, iban="NL69INGB0123456789", original_iban="NL20INGB0001234567")]
    root = parsed(files(debits)[0])
    info = mandate_info(root, "BIEB-2")
    assert tags(info) == ["MndtId", "DtOfSgntr", "AmdmntInd", "AmdmntInfDtls"]
    assert text(info, "p:AmdmntInd") == "true"
    details = info.find("p:AmdmntInfDtls", NS)
    assert details is not None
    assert tags(details) == ["OrgnlDbtrAcct"]
    assert text(details, "p:OrgnlDbtrAcct/p:Id/p:IBAN") == "NL20INGB0001234567"
    # The debit without an amendment has none.
    assert tags(mandate_info(root, "BIEB-1")) == ["MndtId", "DtOfSgntr"]


def test_amendment_to_another_bank_is_smnda_and_frst() -> None:
    moved = line(
        1,
        iban="NL02ABNA0123456789",
        bic="ABNANL2A",
        original_iban="NL20INGB0001234567",
        sequence_type="FRST",
    )
    root = parsed(files([moved, line(2, sequence_type="FRST")])[0])
    info = mandate_info(root, "BIEB-1")
    assert tags(info) == ["MndtId", "DtOfSgntr", "AmdmntInd", "AmdmntInfDtls"]
    details = info.find("p:AmdmntInfDtls", NS)
    assert details is not None
    assert tags(details) == ["OrgnlDbtrAgt"]
    assert text(details, "p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id") == "SMNDA"
    assert tags(mandate_info(root, "BIEB-2")) == ["MndtId", "DtOfSgntr"]

    with pytest.raises(PainError, match="FRST"):
        files([replace(moved, sequence_type="RCUR")])


def test_amendment_to_the_same_iban_is_refused() -> None:
    with pytest.raises(PainError, match="gelijk"):
        files([line(1, original_iban="NL20 INGB 0001 2345 67")])


def test_dutch_and_foreign_characters_are_transliterated() -> None:
    creditor = replace(CREDITOR, name="Bibliotheek Zuid-Oost & Co")
    debit = line(
        1,
        debtor_name="Ëlla d'Hondt-Öztürk & Łukasz Ærø",
        description="Contributie 2025 \u2013 café €12,50; \u2018ijsje\u2019",
    )
    (file,) = pain008_files(
        creditor=creditor,
        debits=[debit],
        max_per_file=10,
        message_id_prefix="BIEB-7",
        created_at=CREATED,
    )
    root = parsed(file)
    assert text(root, ".//p:Dbtr/p:Nm") == "Ella d'Hondt-Ozturk + Lukasz AEro"
    assert text(root, ".//p:RmtInf/p:Ustrd") == "Contributie 2025 - cafe EUR12,50 'ijsje'"
    assert text(root, ".//p:Cdtr/p:Nm") == "Bibliotheek Zuid-Oost + Co"
    file.xml.decode("ascii")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_to_end_id": "E" * 36}, "langer dan 35"),
        ({"amount": Decimal("0.00")}, "groter zijn dan nul"),
        ({"amount": Decimal("-5.00")}, "groter zijn dan nul"),
        ({"amount": Decimal("1.005")}, "twee decimalen"),
        ({"iban": "NL20INGB0001234568"}, "geen geldige IBAN"),
        ({"bic": "INGB"}, "geen geldige BIC"),
        ({"sequence_type": "OOFF"}, "niet FRST of RCUR"),
        ({"mandate_reference": "M_1"}, "machtigingskenmerk"),
        ({"description": "x" * 141}, "langer dan 140"),
        ({"debtor_name": "@ #"}, "naam"),
        ({"mandate_signed_on": date(2025, 3, 1)}, "na de incassodatum"),
    ],
)
def test_a_wrong_debit_raises_and_no_file_is_offered(
    changes: dict[str, object], message: str
) -> None:
    offered = []
    with pytest.raises(PainError, match=message) as raised:
        for file in pain008_files(
            creditor=CREDITOR,
            debits=[line(1), line(2, **changes)],
            max_per_file=10,
            message_id_prefix="BIEB-7",
            created_at=CREATED,
        ):
            offered.append(file)
    assert offered == []
    assert raised.value.message.startswith(("Incasso", "Het kenmerk"))


def test_debits_out_of_order_are_refused() -> None:
    with pytest.raises(PainError, match="gesorteerd"):
        files([line(1, collection_date=MAR), line(2, collection_date=FEB)])
    with pytest.raises(PainError, match="gesorteerd"):
        files([line(1), line(2, sequence_type="FRST")])


def test_an_end_to_end_id_twice_in_a_file_is_refused() -> None:
    with pytest.raises(PainError, match="twee keer"):
        files([line(1), line(1)])


def test_message_ids_longer_than_35_are_refused() -> None:
    with pytest.raises(PainError, match="voorvoegsel"):
        list(
            pain008_files(
                creditor=CREDITOR,
                debits=[line(1)],
                max_per_file=1,
                message_id_prefix="P" * 34,
                created_at=CREATED,
            )
        )
    # 33 + "-1" fits; 33 + "-10" no longer does.
    produced = pain008_files(
        creditor=CREDITOR,
        debits=(line(n) for n in range(10)),
        max_per_file=1,
        message_id_prefix="P" * 33,
        created_at=CREATED,
    )
    with pytest.raises(PainError, match="korter voorvoegsel"):
        for _ in produced:
            pass


def test_a_document_that_does_not_validate_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(batch: etree._Element, debits: object, message_id: str) -> None:
        etree.SubElement(batch, f"{{{NS['p']}}}Onzin")

    monkeypatch.setattr(pain, "_amend", broken)
    with pytest.raises(PainError) as raised:
        files([line(1)])
    assert raised.value.message.startswith("Het incassobestand BIEB-7-1 voldoet niet")
    assert "Onzin" in raised.value.detail
    assert "Onzin" in str(raised.value)


def test_a_creditor_without_bic_is_refused() -> None:
    with pytest.raises(PainError, match="BIC van de bibliotheek"):
        list(
            pain008_files(
                creditor=replace(CREDITOR, bic=""),
                debits=[line(1)],
                max_per_file=10,
                message_id_prefix="BIEB-7",
                created_at=CREATED,
            )
        )


def test_no_debits_no_files() -> None:
    assert files([]) == []
