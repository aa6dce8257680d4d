"""Sample camt.054 and camt.053 files written the way Dutch banks send them (for the parser's
tests and the return imports' tests)."""

import re
from dataclasses import dataclass
from decimal import Decimal

CREDITOR_IBAN = "NL44RABO0123456789"
CREDITOR_ID = "NL98ZZZ302010000000"


@dataclass
class Tx:
    e2e: str
    code: str | None = "AM04"
    amount: str = "12.50"
    name: str = "J. de Vries"
    iban: str = "NL91ABNA0417164300"
    mandate: str = "BIEB-000123"


def bank_code(family: str, subfamily: str, domain: str = "PMNT") -> str:
    return (
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
        f"<SubFmlyCd>{subfamily}</SubFmlyCd></Fmly></Domn>"
        "<Prtry><Cd>N131</Cd><Issr>ABNAMRO</Issr></Prtry></BkTxCd>"
    )


def tx_details(tx: Tx, version: str = "02", returned: bool = True) -> str:
    """One TxDtls of a direct debit, with its return information when `returned`."""
    if version >= "08":
        debtor = f"<Dbtr><Pty><Nm>{tx.name}</Nm></Pty></Dbtr>"
        creditor = "<Cdtr><Pty><Nm>Bibliotheek Zuid</Nm></Pty></Cdtr>"
    else:
        debtor = f"<Dbtr><Nm>{tx.name}</Nm></Dbtr>"
        creditor = "<Cdtr><Nm>Bibliotheek Zuid</Nm></Cdtr>"
    amount = ""
    if version >= "04":
        direction = "DBIT" if returned else "CRDT"
        amount = f'<Amt Ccy="EUR">{tx.amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>'
    return_info = ""
    if returned:
        reason = f"<Rsn><Cd>{tx.code}</Cd></Rsn>" if tx.code is not None else ""
        return_info = (
            "<RtrInf><Orgtr><Id><OrgId><BICOrBEI>INGBNL2A</BICOrBEI></OrgId></Id></Orgtr>"
            f"{reason}<AddtlInf>Terugboeking incasso</AddtlInf></RtrInf>"
        )
    return f"""
          <TxDtls>
            <Refs>
              <MsgId>BIEB-PAIN008-20240301-1</MsgId>
              <PmtInfId>BIEB-PMT-20240301-RCUR</PmtInfId>
              <EndToEndId>{tx.e2e}</EndToEndId>
              <MndtId>{tx.mandate}</MndtId>
            </Refs>
            {amount}
            <AmtDtls>
              <InstdAmt><Amt Ccy="EUR">{tx.amount}</Amt></InstdAmt>
              <TxAmt><Amt Ccy="EUR">{tx.amount}</Amt></TxAmt>
            </AmtDtls>
            {bank_code("IDDT", "UPDD" if returned else "ESDD")}
            <RltdPties>
              {debtor}
              <DbtrAcct><Id><IBAN>{tx.iban}</IBAN></Id></DbtrAcct>
              {creditor}
              <CdtrAcct><Id><IBAN>{CREDITOR_IBAN}</IBAN></Id></CdtrAcct>
            </RltdPties>
            <RltdAgts><DbtrAgt><FinInstnId><BIC>INGBNL2A</BIC></FinInstnId></DbtrAgt></RltdAgts>
            <RmtInf><Ustrd>Contributie bibliotheek 2024</Ustrd></RmtInf>
            {return_info}
          </TxDtls>"""


def entry(
    amount: str,
    direction: str,
    details: str,
    code: str,
    version: str = "02",
    booked: str = "<Dt>2024-03-05</Dt>",
    reversal: bool = False,
) -> str:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version >= "08" else "<Sts>BOOK</Sts>"
    return f"""
      <Ntry>
        <NtryRef>20240305-{direction}-{amount}</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        {"<RvslInd>true</RvslInd>" if reversal else ""}
        {status}
        <BookgDt>{booked}</BookgDt>
        <ValDt><Dt>2024-03-05</Dt></ValDt>
        <AcctSvcrRef>0305123456789012</AcctSvcrRef>
        {code}
        {details}
      </Ntry>"""


def return_entries(txs: list[Tx], version: str = "02", batched: bool = False) -> list[str]:
    """The returns as the bank books them: one debit entry each, or one for the lot."""
    code = bank_code("IDDT", "UPDD")
    if batched:
        total = str(sum(Decimal(tx.amount) for tx in txs))
        details = "".join(tx_details(tx, version) for tx in txs)
        batch = f"<Btch><NbOfTxs>{len(txs)}</NbOfTxs></Btch>"
        return [entry(total, "DBIT", f"<NtryDtls>{batch}{details}</NtryDtls>", code, version)]
    return [
        entry(tx.amount, "DBIT", f"<NtryDtls>{tx_details(tx, version)}</NtryDtls>", code, version)
        for tx in txs
    ]


def collection_entry(txs: list[Tx], version: str = "02") -> str:
    """The collection itself: one credit entry with the batch's debits, not returns."""
    total = str(sum(Decimal(tx.amount) for tx in txs))
    details = "".join(tx_details(tx, version, returned=False) for tx in txs)
    batch = f"<Btch><PmtInfId>BIEB-PMT-20240301-RCUR</PmtInfId><NbOfTxs>{len(txs)}</NbOfTxs></Btch>"
    return entry(
        total, "CRDT", f"<NtryDtls>{batch}{details}</NtryDtls>", bank_code("IDDT", "ESDD"), version
    )


def document(
    entries: list[str],
    kind: str = "054",
    version: str = "02",
    style: str = "default",
    msg_id: str | None = "CAMT054-20240305-000001",
) -> bytes:
    """A whole camt.054 (or .053) file around `entries`, with the namespace in `style`:
    "default" (xmlns=, as ING and ABN AMRO send it), "prefixed" (ns2:) or "none"."""
    group_header = "<GrpHdr>"
    if msg_id is not None:
        group_header += f"<MsgId>{msg_id}</MsgId>"
    group_header += "<CreDtTm>2024-03-05T07:15:02.123+01:00</CreDtTm></GrpHdr>"
    account = (
        f"<Acct><Id><IBAN>{CREDITOR_IBAN}</IBAN></Id><Ccy>EUR</Ccy>"
        "<Svcr><FinInstnId><BIC>RABONL2U</BIC></FinInstnId></Svcr></Acct>"
    )
    if kind == "053":
        root, report = "BkToCstmrStmt", "Stmt"
        balances = """
        <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-04</Dt></Dt></Bal>
        <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">987.50</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-05</Dt></Dt></Bal>"""
    else:
        root, report, balances = "BkToCstmrDbtCdtNtfctn", "Ntfctn", ""
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.{version}"
    body = f"""<Document>
  <{root}>
    {group_header}
    <{report}>
      <Id>{kind}-20240305-1</Id>
      <ElctrncSeqNb>64</ElctrncSeqNb>
      <CreDtTm>2024-03-05T07:15:02.123+01:00</CreDtTm>
      {account}{balances}{"".join(entries)}
    </{report}>
  </{root}>
</Document>
"""
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    if style == "default":
        body = body.replace("<Document>", f'<Document xmlns="{namespace}" {xsi}>', 1)
    elif style == "prefixed":
        body = re.sub(r"<(/?)([A-Za-z])", r"<\1ns2:\2", body)
        body = body.replace("<ns2:Document>", f'<ns2:Document xmlns:ns2="{namespace}">', 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
