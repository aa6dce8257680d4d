"""Reading returned direct debits from camt.054 and camt.053 files (bieb.debits.camt).

The sample files are written here the way Dutch banks send them: a default namespace with
xsi (ING, ABN AMRO), a prefixed one, or none; returns one entry each or batched in one debit
entry (Rabobank); the collections themselves as a batched credit.
"""

import datetime as dt
import time
from decimal import Decimal

import pytest

from bieb.debits.camt import (
    MAX_BYTES,
    REASONS,
    CamtError,
    ReturnedDebit,
    ReturnReport,
    parse_returns,
    reason_text,
)
from tests.debits.camt_files import (
    Tx,
    bank_code,
    collection_entry,
    document,
    entry,
    return_entries,
    tx_details,
)

THREE = [
    Tx("BIEB-2024-000101", "AM04", "12.50", "J. de Vries", "NL91ABNA0417164300", "BIEB-000101"),
    Tx("BIEB-2024-000102", "MD06", "27.00", "Fatima el Amrani", "NL20INGB0001234567", "M-102"),
    Tx("BIEB-2024-000103", "AC04", "8.75", "Ümit Çelik", "NL39RABO0300065264", "BIEB-000103"),
]


def expected(tx: Tx, booked: dt.date = dt.date(2024, 3, 5)) -> ReturnedDebit:
    return ReturnedDebit(
        end_to_end_id=tx.e2e,
        amount=Decimal(tx.amount),
        reason_code=tx.code or "",
        debtor_name=tx.name,
        debtor_iban=tx.iban,
        mandate_reference=tx.mandate,
        booking_date=booked,
    )


def error_of(data: bytes) -> str:
    with pytest.raises(CamtError) as caught:
        parse_returns(data)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- what is read


def test_camt054_returns_one_entry_each() -> None:
    report = parse_returns(document(return_entries(THREE)))
    assert report == ReturnReport(
        message_type="camt.054",
        version="camt.054.001.02",
        message_id="CAMT054-20240305-000001",
        items=[expected(tx) for tx in THREE],
    )
    assert all(isinstance(item.amount, Decimal) for item in report.items)
    assert report.items[1].amount == Decimal("27.00")


def test_camt054_returns_batched_in_one_debit_entry() -> None:
    report = parse_returns(document(return_entries(THREE, batched=True)))
    assert report.items == [expected(tx) for tx in THREE]


def test_credits_are_skipped() -> None:
    collected = [
        Tx("BIEB-2024-000201", None, "12.50"),
        Tx("BIEB-2024-000202", None, "15.00"),
        Tx("BIEB-2024-000203", None, "20.00"),
    ]
    data = document([collection_entry(collected), *return_entries(THREE[:1])])
    report = parse_returns(data)
    assert [item.end_to_end_id for item in report.items] == ["BIEB-2024-000101"]


def test_credits_are_skipped_in_version_08_too() -> None:
    collected = [Tx("BIEB-2024-000201", None, "12.50")]
    data = document(
        [collection_entry(collected, "08"), *return_entries(THREE[:1], "08")], version="08"
    )
    assert [item.end_to_end_id for item in parse_returns(data).items] == ["BIEB-2024-000101"]


def test_a_valid_file_without_returns_gives_no_items() -> None:
    data = document([collection_entry([Tx("BIEB-2024-000201", None)])])
    report = parse_returns(data)
    assert report.items == []
    assert report.message_id == "CAMT054-20240305-000001"
    assert parse_returns(document([])).items == []


def test_entry_level_return_without_transaction_details() -> None:
    details = "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch></NtryDtls>"
    data = document([entry("40.25", "DBIT", details, bank_code("IDDT", "UPDD"))])
    assert parse_returns(data).items == [
        ReturnedDebit("", Decimal("40.25"), "", "", "", "", dt.date(2024, 3, 5))
    ]


def test_entry_level_return_without_entry_details() -> None:
    data = document([entry("40.25", "DBIT", "", bank_code("IDDT", "UPDD"))])
    assert [item.amount for item in parse_returns(data).items] == [Decimal("40.25")]


def test_camt053_statement() -> None:
    transfer_out = entry(
        "150.00",
        "DBIT",
        "<NtryDtls><TxDtls><Refs><EndToEndId>INV-2024-77</EndToEndId></Refs>"
        "<RltdPties><Cdtr><Nm>Boekhandel</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>",
        bank_code("ICDT", "ESCT"),
    )
    own_direct_debit = entry(
        "45.00",
        "DBIT",
        "<NtryDtls><TxDtls><Refs><EndToEndId>ENERGIE-03</EndToEndId>"
        "<MndtId>ENERGIE-1</MndtId></Refs></TxDtls></NtryDtls>",
        bank_code("RDDT", "ESDD"),
    )
    transfer_in = entry(
        "30.00",
        "CRDT",
        "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs></TxDtls></NtryDtls>",
        bank_code("RCDT", "ESCT"),
    )
    fee = entry("2.50", "DBIT", "", bank_code("CHRG", "OTHR", domain="ACMT"))
    data = document(
        [
            transfer_out,
            *return_entries(THREE[:2]),
            own_direct_debit,
            transfer_in,
            fee,
            collection_entry([Tx("BIEB-2024-000201", None)]),
        ],
        kind="053",
        msg_id="RABO-053-20240305",
    )
    report = parse_returns(data)
    assert (report.message_type, report.version) == ("camt.053", "camt.053.001.02")
    assert report.message_id == "RABO-053-20240305"
    assert report.items == [expected(tx) for tx in THREE[:2]]


def test_version_08() -> None:
    data = document(return_entries(THREE, "08", batched=True), version="08")
    report = parse_returns(data)
    assert report.version == "camt.054.001.08"
    assert report.items == [expected(tx) for tx in THREE]
    statement = parse_returns(document(return_entries(THREE, "08"), kind="053", version="08"))
    assert statement.version == "camt.053.001.08"
    assert statement.items == [expected(tx) for tx in THREE]


@pytest.mark.parametrize("version", ["03", "04", "05", "06", "07"])
def test_versions_in_between(version: str) -> None:
    report = parse_returns(document(return_entries(THREE, version), version=version))
    assert report.version == f"camt.054.001.{version}"
    assert report.items == [expected(tx) for tx in THREE]


def test_prefixed_namespace_and_none() -> None:
    prefixed = parse_returns(document(return_entries(THREE), style="prefixed"))
    assert prefixed.version == "camt.054.001.02"
    assert prefixed.items == [expected(tx) for tx in THREE]
    bare = parse_returns(document(return_entries(THREE), style="none"))
    assert (bare.message_type, bare.version) == ("camt.054", "camt.054")
    assert bare.items == [expected(tx) for tx in THREE]


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-16"])
def test_other_encodings(encoding: str) -> None:
    text = document(return_entries(THREE)).decode()
    text = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').replace("\n", "\r\n")
    report = parse_returns(text.encode(encoding))
    assert report.items == [expected(tx) for tx in THREE]
    assert report.items[2].debtor_name == "Ümit Çelik"


def test_not_provided_end_to_end_id_and_no_reason() -> None:
    data = document(return_entries([Tx("NOTPROVIDED", None)]))
    [item] = parse_returns(data).items
    assert (item.end_to_end_id, item.reason_code) == ("", "")


def test_a_debit_marked_as_reversal_is_a_return() -> None:
    tx = "<NtryDtls><TxDtls><Refs><EndToEndId>BIEB-9</EndToEndId></Refs></TxDtls></NtryDtls>"
    data = document([entry("9.00", "DBIT", tx, "", reversal=True)])
    [item] = parse_returns(data).items
    assert (item.end_to_end_id, item.amount) == ("BIEB-9", Decimal("9.00"))
    # A credit marked as reversal undoes a debit of the library: not a returned collection.
    assert parse_returns(document([entry("9.00", "CRDT", tx, "", reversal=True)])).items == []


def test_return_information_counts_even_under_a_credit() -> None:
    """A bank may list the refused debits of a batch inside the batch's (net) credit."""
    details = tx_details(THREE[0]) + tx_details(Tx("BIEB-OK", None), returned=False)
    data = document([entry("12.50", "CRDT", f"<NtryDtls>{details}</NtryDtls>", "")])
    assert [item.end_to_end_id for item in parse_returns(data).items] == ["BIEB-2024-000101"]


def test_amount_falls_back_to_the_entry_then_the_instructed_amount() -> None:
    bare = (
        "<TxDtls><Refs><EndToEndId>{}</EndToEndId></Refs>{}"
        "<RtrInf><Rsn><Cd>MS02</Cd></Rsn></RtrInf></TxDtls>"
    )
    one = f"<NtryDtls>{bare.format('A', '')}</NtryDtls>"
    instructed = '<AmtDtls><InstdAmt><Amt Ccy="EUR">3.00</Amt></InstdAmt></AmtDtls>'
    two = f"<NtryDtls>{bare.format('B', instructed)}{bare.format('C', '')}</NtryDtls>"
    data = document([entry("5.00", "DBIT", one, ""), entry("9.00", "DBIT", two, "")])
    assert [(item.end_to_end_id, item.amount) for item in parse_returns(data).items] == [
        ("A", Decimal("5.00")),
        ("B", Decimal("3.00")),
        ("C", None),
    ]


def test_mandate_reference_elsewhere_in_the_transaction() -> None:
    details = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>E</EndToEndId><MndtId> </MndtId></Refs>"
        "<RltdDts><MndtRltdInf><MndtId>BIEB-7</MndtId></MndtRltdInf></RltdDts>"
        "<RtrInf><Rsn><Cd>MD01</Cd></Rsn></RtrInf></TxDtls></NtryDtls>"
    )
    [item] = parse_returns(document([entry("1.00", "DBIT", details, "")])).items
    assert (item.mandate_reference, item.reason_code) == ("BIEB-7", "MD01")


def test_booking_date_from_a_date_and_time() -> None:
    late = "<DtTm>2024-03-04T23:30:00Z</DtTm>"  # 00:30 on 5 March in Amsterdam
    data = document([entry("12.50", "DBIT", "", bank_code("IDDT", "UPDD"), booked=late)])
    assert [item.booking_date for item in parse_returns(data).items] == [dt.date(2024, 3, 5)]
    zoned = "<Dt>2024-03-05+01:00</Dt>"
    data = document([entry("12.50", "DBIT", "", bank_code("IDDT", "UPDD"), booked=zoned)])
    assert [item.booking_date for item in parse_returns(data).items] == [dt.date(2024, 3, 5)]


def test_ten_thousand_returns_parse_quickly() -> None:
    txs = [Tx(f"BIEB-2024-{n:06d}", "AM04", f"{n % 90 + 10}.{n % 100:02d}") for n in range(10_000)]
    data = document(return_entries(txs[:5_000]) + return_entries(txs[5_000:], batched=True))
    start = time.perf_counter()
    report = parse_returns(data)
    elapsed = time.perf_counter() - start
    assert len(report.items) == 10_000
    assert report.items[-1] == expected(txs[-1])
    assert elapsed < 10, f"{elapsed:.2f} s for 10,000 returns"


# --- what is refused, in Dutch, and never a partial result


def test_not_xml() -> None:
    message = "Dit is geen XML-bestand; kies het camt.054- of camt.053-bestand van de bank."
    assert error_of(b":20:STARTUMS\r\n:25:NL44RABO0123456789\r\n:28C:00000\r\n") == message
    assert error_of(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == message
    assert error_of(b'"Datum","Naam","Bedrag"\n') == message


def test_empty_file() -> None:
    assert error_of(b"").startswith("Het bestand is leeg.")
    assert error_of(b" \r\n\t").startswith("Het bestand is leeg.")


def test_file_over_50_mb_is_refused_before_reading() -> None:
    message = error_of(b" " * (MAX_BYTES + 1))
    assert message.startswith("Het bestand is groter dan 50 MB")


def test_pain008_is_named() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">'
        b"<CstmrDrctDbtInitn><GrpHdr><MsgId>BIEB-1</MsgId></GrpHdr></CstmrDrctDbtInitn>"
        b"</Document>"
    )
    assert error_of(data) == (
        "Dit is een pain.008-bestand (een incassobestand voor de bank). Voor terugboekingen is "
        "het camt.054- of camt.053-bestand van de bank nodig."
    )


def test_camt052_is_named() -> None:
    data = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">'
        b"<BkToCstmrAcctRpt><GrpHdr><MsgId>X</MsgId></GrpHdr></BkToCstmrAcctRpt></Document>"
    )
    assert error_of(data).startswith("Dit is een camt.052-bestand (een tussentijds")


def test_other_iso_message_is_named_by_its_namespace() -> None:
    data = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.01">'
        b"<FIToFIPmtCxlReq/></Document>"
    )
    assert error_of(data).startswith("Dit is een camt.056-bestand. Voor terugboekingen is het")


def test_other_xml() -> None:
    assert error_of(b"<html><body>Inloggen</body></html>").startswith(
        "Dit XML-bestand is geen camt.054- of camt.053-bestand (het begint met <html>)."
    )
    assert error_of(b"<Document/>").startswith("Dit XML-bestand is geen camt.054-")
    # A camt.054 namespace around something else is not called a camt.054.
    wrong = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><Foo/></Document>'
    assert error_of(wrong).startswith("Dit XML-bestand is geen camt.054- of camt.053-bestand")


def test_missing_message_id() -> None:
    message = "In het bestand ontbreekt het berichtkenmerk (GrpHdr/MsgId)."
    assert error_of(document(return_entries(THREE), msg_id=None)).startswith(message)
    assert error_of(document(return_entries(THREE), msg_id="  ")).startswith(message)
    no_header = document(return_entries(THREE)).replace(b"<GrpHdr>", b"<Hdr>")
    assert error_of(no_header.replace(b"</GrpHdr>", b"</Hdr>")).startswith(message)


@pytest.mark.parametrize("amount", ["12,50", "abc", "", "-5.00", "NaN", "1e3"])
def test_amount_that_is_not_a_number(amount: str) -> None:
    txs = [*THREE[:2], Tx("BIEB-2024-000199", "AM04", amount)]
    message = error_of(document(return_entries(txs)))
    assert message.startswith(f"Het bedrag '{amount}' (regel ")
    assert "is geen geldig bedrag. Het bestand is niet ingelezen" in message


def test_a_bad_amount_in_a_skipped_credit_still_refuses_the_file() -> None:
    details = tx_details(Tx("BIEB-OK", None, "twaalf"), returned=False)
    credit = entry("12.50", "CRDT", f"<NtryDtls>{details}</NtryDtls>", bank_code("IDDT", "ESDD"))
    assert error_of(document([*return_entries(THREE), credit])).startswith("Het bedrag 'twaalf'")


def test_bad_booking_date() -> None:
    data = document([entry("1.00", "DBIT", "", bank_code("IDDT", "UPDD"), booked="<Dt>5-3</Dt>")])
    assert error_of(data).startswith("De boekingsdatum '5-3' (regel ")


def test_truncated_file() -> None:
    data = document(return_entries(THREE))
    message = error_of(data[: len(data) // 2])
    assert message.startswith("Het bestand is beschadigd of onvolledig (fout in regel ")


def test_doctype_with_entities_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [\n'
        b'<!ENTITY lol "lol">\n'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
        b"]>\n"
    )
    body = document(return_entries([Tx("&lol3;")])).split(b"?>\n", 1)[1]
    message = error_of(laughs + body)
    assert message.startswith("Dit bestand bevat een DOCTYPE-declaratie.")
    external = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    )
    body = document(return_entries([Tx("&xxe;")])).split(b"?>\n", 1)[1]
    assert error_of(external + body).startswith("Dit bestand bevat een DOCTYPE-declaratie.")
    public = b'<!DOCTYPE Document SYSTEM "http://example.invalid/camt.dtd">\n'
    assert error_of(public + body.replace(b"&xxe;", b"X")).startswith("Dit bestand bevat")


# --- reasons


def test_reasons_in_dutch() -> None:
    assert REASONS["AM04"] == "onvoldoende saldo"
    assert REASONS["MD06"] == "terugboeking door klant"
    assert REASONS["AC04"] == "rekening opgeheven"
    assert REASONS["MD07"] == "klant overleden"
    assert REASONS["SL01"] == "specifieke dienst van de bank"
    required = (
        "AC01 AC04 AC06 AC13 AG01 AG02 AM04 AM05 BE05 CNOR DNOR FF01 MD01 MD02 MD06 MD07 "
        "MS02 MS03 RC01 RR01 RR02 RR03 RR04 SL01"
    )
    for code in required.split():
        assert REASONS[code]
    assert all(REASONS[f"RR0{n}"].startswith("regelgeving: ") for n in range(1, 5))


def test_reason_text() -> None:
    assert reason_text("AM04") == "AM04 onvoldoende saldo"
    assert reason_text(" md06 ") == "MD06 terugboeking door klant"
    assert reason_text("XY99") == "XY99 (onbekende reden)"
    assert reason_text("") == "geen reden opgegeven"
