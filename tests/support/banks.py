"""Bank webhooks as each provider sends them, signed the way its documentation says.

The signing here is written from the providers' documents, independently of the
adapters (no adapter code is imported), so a test that passes shows the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

ICT = timezone(timedelta(hours=7))
ACCOUNT_NO = "0011004455667"
BANK_BIN = "970436"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    headers: dict[str, str]
    body: bytes


def vn_time(at: datetime) -> str:
    """How the Vietnamese providers print a time: local, without an offset."""
    return at.astimezone(ICT).strftime("%Y-%m-%d %H:%M:%S")


def payos_data(
    *, amount: Any, description: str, reference: str, at: datetime, account_no: str = ACCOUNT_NO
) -> dict[str, Any]:
    return {
        "orderCode": 123,
        "amount": amount,
        "description": description,
        "accountNumber": account_no,
        "reference": reference,
        "transactionDateTime": vn_time(at),
        "currency": "VND",
        "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
        "code": "00",
        "desc": "success",
        "counterAccountBankId": "970415",
        "counterAccountBankName": None,
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "8888888888",
        "virtualAccountName": None,
        "virtualAccountNumber": "",
    }


def payos_sign(data: dict[str, Any], key: bytes) -> str:
    def js(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # JavaScript's String(200000.0) is "200000"
        return str(value)

    message = "&".join(f"{k}={js(data[k])}" for k in sorted(data))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def payos_request(data: dict[str, Any], key: bytes, *, signature: str | None = None) -> SignedRequest:
    body = {"code": "00", "desc": "success", "success": True, "data": data}
    body["signature"] = payos_sign(data, key) if signature is None else signature
    return SignedRequest({"Content-Type": "application/json"}, json.dumps(body, ensure_ascii=False).encode())


def casso_body(
    *, amount: Any, description: str, reference: str, at: datetime, account_no: str = ACCOUNT_NO
) -> dict[str, Any]:
    return {
        "error": 0,
        "data": {
            "id": 920517,
            "reference": reference,
            "description": description,
            "amount": amount,
            "runningBalance": 25_000_000,
            "transactionDateTime": vn_time(at),
            "accountNumber": account_no,
            "bankName": "BIDV",
            "bankAbbreviation": "BIDV",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }


def casso_request(body: dict[str, Any], key: bytes, signed_at: datetime) -> SignedRequest:
    t = int(signed_at.timestamp() * 1000)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(key, f"{t}.{canonical}".encode(), hashlib.sha512).hexdigest()
    # Casso sends the body as its own serialiser writes it, not necessarily sorted:
    raw = json.dumps(body, ensure_ascii=False, indent=1).encode()
    return SignedRequest({"Content-Type": "application/json", "X-Casso-Signature": f"t={t},v1={v1}"}, raw)


def sepay_body(
    *, amount: Any, content: str, reference: str, at: datetime, account_no: str = ACCOUNT_NO, direction: str = "in"
) -> dict[str, Any]:
    return {
        "id": 92704,
        "gateway": "BIDV",
        "transactionDate": vn_time(at),
        "accountNumber": account_no,
        "code": None,
        "content": content,
        "transferType": direction,
        "transferAmount": amount,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": reference,
        "description": f"BankAPINotify {content}",
    }


def sepay_request(body: dict[str, Any], api_key: str) -> SignedRequest:
    headers = {"Content-Type": "application/json", "Authorization": f"Apikey {api_key}"}
    return SignedRequest(headers, json.dumps(body, ensure_ascii=False).encode())


@dataclass(frozen=True, slots=True)
class CamtCredit:
    amount: str  # as the XML says it, e.g. "200000" or "200000.50"
    reference: str | None
    note: str
    direction: str = "CRDT"


def camt054(credits: list[CamtCredit], *, booked: date, account_no: str = ACCOUNT_NO, currency: str = "VND") -> bytes:
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
    entries = "".join(
        f'<Ntry><Amt Ccy="{currency}">{c.amount}</Amt><CdtDbtInd>{c.direction}</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>"
        + (f"<AcctSvcrRef>{c.reference}</AcctSvcrRef>" if c.reference else "")
        + "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f'<NtryDtls><TxDtls><Amt Ccy="{currency}">{c.amount}</Amt><CdtDbtInd>{c.direction}</CdtDbtInd>'
        "<RltdPties><Dbtr><Pty><Nm>NGUYEN VAN A</Nm></Pty></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{c.note}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for c in credits
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><BkToCstmrDbtCdtNtfctn>'
        "<GrpHdr><MsgId>N-1</MsgId><CreDtTm>2026-11-24T06:00:00+07:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>N-1</Id><Acct><Id><Othr><Id>{account_no}</Id></Othr></Id><Ccy>VND</Ccy></Acct>"
        f"{entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def camt054_request(body: bytes, key: bytes, signed_at: datetime) -> SignedRequest:
    t = int(signed_at.timestamp())
    v1 = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return SignedRequest({"Content-Type": "application/xml", "X-Citysettle-Signature": f"t={t},v1={v1}"}, body)
