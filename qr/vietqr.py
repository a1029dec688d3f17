"""VietQR: the NAPAS 247 profile of the EMVCo merchant-presented QR payload.

What we write, tags in ascending order, optional ones only when set::

    00 "01"                      payload format indicator
    01 "11" static | "12" dynamic point of initiation
    38 { 00 "A000000727"          NAPAS GUID
         01 { 00 acquirer BIN (6 digits)
              01 account (<= 19 letters/digits) or card number (<= 19 digits) }
         02 "QRIBFTTA" to account | "QRIBFTTC" to card }
    52 MCC (4 digits)            optional
    53 "704"                     VND
    54 amount_vnd                optional, whole dong, 1..13 digits, no leading zero
    58 "VN"
    59 name (<= 25), 60 city (<= 15)          optional
    62 { 01 bill, 05 reference, 07 terminal, 08 purpose }  optional, each <= 25,
                                                            template <= 99
    63 CRC-16/CCITT-FALSE, 4 upper-case hex digits

``VietQR`` holds a field set that is valid as it stands: text fields are printable
ASCII within their limits, so ``decode(encode(x)) == x`` for every instance and public
samples re-encode byte for byte. ``build`` is the entry for new codes: it cleans free
text (name, city, purpose) with the rule in ``qr.text`` -- NFKD, ``đ`` to ``d``, drop
combining marks, every character other than ASCII letters, digits, ``-`` and ``.``
becomes a space, collapse spaces, cut to the field limit -- because bank apps reject
diacritics and most punctuation in those fields. Bill, reference and terminal labels
are identifiers, so they are never rewritten: an invalid one is an error.

``decode`` checks structure, nested lengths and the CRC before any field rule, and
rejects tags this profile does not define, so that what it accepts re-encodes exactly.
Every error names its tag (``qr.errors``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from qr.emv import MAX_PAYLOAD_CHARS, MAX_VALUE_CHARS, check_crc, parse, tlv, with_crc
from qr.errors import InvalidField, MalformedPayload
from qr.text import clean_text


class Initiation(StrEnum):
    STATIC = "11"
    DYNAMIC = "12"


class Service(StrEnum):
    TO_ACCOUNT = "QRIBFTTA"
    TO_CARD = "QRIBFTTC"


NAPAS_GUID = "A000000727"
NAME_MAX_CHARS = 25
CITY_MAX_CHARS = 15
ADDITIONAL_MAX_CHARS = 25
AMOUNT_MAX_VND = 10**13 - 1  # tag 54 holds at most 13 characters

_E = TypeVar("_E", bound=StrEnum)
_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,19}")
_CARD = re.compile(r"[0-9]{1,19}")
_MCC = re.compile(r"[0-9]{4}")
_AMOUNT = re.compile(r"[1-9][0-9]{0,12}")
_ROOT_TAGS = frozenset({"00", "01", "38", "52", "53", "54", "58", "59", "60", "62", "63"})
# (sub-tag, attribute) of the additional data template, in the order they are written.
_ADDITIONAL = (("01", "bill"), ("05", "reference"), ("07", "terminal"), ("08", "purpose"))


@dataclass(frozen=True, slots=True)
class VietQR:
    """A valid VietQR field set; construction raises ``InvalidField`` naming the tag."""

    bank_bin: str
    account: str
    service: Service = Service.TO_ACCOUNT
    initiation: Initiation = Initiation.STATIC
    amount_vnd: int | None = None
    mcc: str | None = None
    name: str | None = None
    city: str | None = None
    bill: str | None = None
    reference: str | None = None
    terminal: str | None = None
    purpose: str | None = None

    def __post_init__(self) -> None:
        _validate(self)


def build(
    bank_bin: str,
    account: str,
    *,
    amount_vnd: int | None = None,
    card: bool = False,
    mcc: str | None = None,
    name: str | None = None,
    city: str | None = None,
    bill: str | None = None,
    reference: str | None = None,
    terminal: str | None = None,
    purpose: str | None = None,
) -> VietQR:
    """Fields for a new code, free text cleaned per ``qr.text``.

    A code carrying an amount, bill number or reference belongs to one payment, so it is
    dynamic ("12"); otherwise it can be printed and reused, so it is static ("11").
    """
    specific = amount_vnd is not None or bill is not None or reference is not None
    return VietQR(
        bank_bin=bank_bin,
        account=account,
        service=Service.TO_CARD if card else Service.TO_ACCOUNT,
        initiation=Initiation.DYNAMIC if specific else Initiation.STATIC,
        amount_vnd=amount_vnd,
        mcc=mcc,
        name=None if name is None else clean_text(name, NAME_MAX_CHARS),
        city=None if city is None else clean_text(city, CITY_MAX_CHARS),
        bill=bill,
        reference=reference,
        terminal=terminal,
        purpose=None if purpose is None else clean_text(purpose, ADDITIONAL_MAX_CHARS),
    )


def encode(fields: VietQR) -> str:
    """The payload string for ``fields`` (already validated at construction)."""
    provider = tlv("00", fields.bank_bin) + tlv("01", fields.account)
    account_info = tlv("00", NAPAS_GUID) + tlv("01", provider) + tlv("02", fields.service)
    parts = [tlv("00", "01"), tlv("01", fields.initiation), tlv("38", account_info)]
    if fields.mcc is not None:
        parts.append(tlv("52", fields.mcc))
    parts.append(tlv("53", "704"))
    if fields.amount_vnd is not None:
        parts.append(tlv("54", str(fields.amount_vnd)))
    parts.append(tlv("58", "VN"))
    if fields.name is not None:
        parts.append(tlv("59", fields.name))
    if fields.city is not None:
        parts.append(tlv("60", fields.city))
    additional = _additional_template(fields)
    if additional:
        parts.append(tlv("62", additional))
    return with_crc("".join(parts))


def decode(payload: str) -> VietQR:
    """Typed fields of ``payload``; raises a ``PayloadError`` subclass naming the tag."""
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise MalformedPayload("", f"longer than {MAX_PAYLOAD_CHARS} characters")
    fields = parse(payload)
    check_crc(payload, fields)
    if next(iter(fields)) != "00":
        raise MalformedPayload("00", "must be the first data object")
    for tag in fields:
        if tag not in _ROOT_TAGS:
            raise InvalidField(tag, "not part of the VietQR profile")
    _expect_constant(fields, "00", "01")
    _expect_constant(fields, "53", "704")
    _expect_constant(fields, "58", "VN")
    bank_bin, account, service = _decode_account(_required(fields, "38"))
    additional = _decode_additional(fields.get("62"))
    return VietQR(
        bank_bin=bank_bin,
        account=account,
        service=service,
        initiation=_member(Initiation, _required(fields, "01"), "01"),
        amount_vnd=_decode_amount(fields.get("54")),
        mcc=fields.get("52"),
        name=fields.get("59"),
        city=fields.get("60"),
        **additional,
    )


def _additional_template(fields: VietQR) -> str:
    return "".join(
        tlv(sub_tag, value) for sub_tag, attribute in _ADDITIONAL if (value := getattr(fields, attribute)) is not None
    )


def _required(fields: dict[str, str], tag: str) -> str:
    value = fields.get(tag)
    if value is None:
        raise MalformedPayload(tag, "missing")
    return value


def _expect_constant(fields: dict[str, str], tag: str, expected: str) -> None:
    value = _required(fields, tag)
    if value != expected:
        raise InvalidField(tag, f"must be {expected!r}, got {value!r}")


def _member(kind: type[_E], value: str, tag: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = " or ".join(repr(member.value) for member in kind)
        raise InvalidField(tag, f"must be {allowed}, got {value!r}") from None


def _decode_account(value: str) -> tuple[str, str, Service]:
    info = parse(value, "38.")
    for sub_tag in info:
        if sub_tag not in {"00", "01", "02"}:
            raise InvalidField(f"38.{sub_tag}", "not part of the VietQR profile")
    guid = info.get("00")
    if guid != NAPAS_GUID:
        raise InvalidField("38.00", f"GUID must be {NAPAS_GUID!r}, got {guid!r}")
    provider_text = info.get("01")
    if provider_text is None:
        raise MalformedPayload("38.01", "missing")
    provider = parse(provider_text, "38.01.")
    for sub_tag in provider:
        if sub_tag not in {"00", "01"}:
            raise InvalidField(f"38.01.{sub_tag}", "not part of the VietQR profile")
    bank_bin, account = provider.get("00"), provider.get("01")
    if bank_bin is None or account is None:
        raise MalformedPayload("38.01.00" if bank_bin is None else "38.01.01", "missing")
    service_text = info.get("02")
    if service_text is None:
        raise MalformedPayload("38.02", "missing")
    return bank_bin, account, _member(Service, service_text, "38.02")


def _decode_additional(value: str | None) -> dict[str, str]:
    if value is None:
        return {}
    template = parse(value, "62.")
    by_tag = dict(_ADDITIONAL)
    for sub_tag in template:
        if sub_tag not in by_tag:
            raise InvalidField(f"62.{sub_tag}", "not part of the VietQR profile")
    return {by_tag[sub_tag]: sub_value for sub_tag, sub_value in template.items()}


def _decode_amount(value: str | None) -> int | None:
    if value is None:
        return None
    if not _AMOUNT.fullmatch(value):
        raise InvalidField("54", f"must be whole dong without leading zeros, got {value!r}")
    return int(value)


def _check_text(tag: str, value: str | None, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise InvalidField(tag, f"must be 1..{limit} characters, got {value!r}")
    if not value.isascii() or not value.isprintable():
        raise InvalidField(tag, f"must be printable ASCII, got {value!r}")


def _validate(fields: VietQR) -> None:
    if not isinstance(fields.bank_bin, str) or not _BIN.fullmatch(fields.bank_bin):
        raise InvalidField("38.01.00", f"acquirer BIN must be 6 digits, got {fields.bank_bin!r}")
    if not isinstance(fields.service, Service):
        raise InvalidField("38.02", f"must be a Service, got {fields.service!r}")
    if not isinstance(fields.initiation, Initiation):
        raise InvalidField("01", f"must be an Initiation, got {fields.initiation!r}")
    card = fields.service is Service.TO_CARD
    pattern = _CARD if card else _ACCOUNT
    if not isinstance(fields.account, str) or not pattern.fullmatch(fields.account):
        rule = "1..19 digits (card number)" if card else "1..19 letters or digits (account)"
        raise InvalidField("38.01.01", f"must be {rule}, got {fields.account!r}")
    amount = fields.amount_vnd
    if amount is not None and (type(amount) is not int or not 0 < amount <= AMOUNT_MAX_VND):
        raise InvalidField("54", f"amount_vnd must be an int in 1..{AMOUNT_MAX_VND}, got {amount}")
    if fields.mcc is not None and not (isinstance(fields.mcc, str) and _MCC.fullmatch(fields.mcc)):
        raise InvalidField("52", f"MCC must be 4 digits, got {fields.mcc!r}")
    _check_text("59", fields.name, NAME_MAX_CHARS)
    _check_text("60", fields.city, CITY_MAX_CHARS)
    for sub_tag, attribute in _ADDITIONAL:
        _check_text(f"62.{sub_tag}", getattr(fields, attribute), ADDITIONAL_MAX_CHARS)
    template_chars = len(_additional_template(fields))
    if template_chars > MAX_VALUE_CHARS:
        raise InvalidField("62", f"template is {template_chars} characters, limit {MAX_VALUE_CHARS}")
