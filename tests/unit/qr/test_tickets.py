from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from qr.base45 import b45decode, b45encode
from qr.ticket_keys import TicketKeyRing, TicketSigner
from qr.tickets import (
    MAX_CODE_CHARS,
    MAX_LEEWAY_S,
    SIGNATURE_BYTES,
    SIGNING_CONTEXT,
    TICKET_PREFIX,
    InvalidTicket,
    RejectionReason,
    Ticket,
    TicketRejected,
    sign_ticket,
    verify_ticket,
)
from tests.unit.qr.strategies import tickets


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


OLD = TicketSigner(1, _key(1))
NEW = TicketSigner(2, _key(2))
RING = TicketKeyRing({1: OLD.public_key, 2: NEW.public_key})
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
TICKET = Ticket(
    ticket_id=UUID("5b6c1d2e-0000-4000-8000-00000000abcd"),
    product="BUS-SINGLE",
    valid_from=START,
    valid_until=START + timedelta(hours=2),
    holder_ref="app:citizen-8812",
)
DURING = START + timedelta(minutes=30)


def _reason(code: str, at: datetime = DURING, ring: TicketKeyRing = RING) -> RejectionReason:
    with pytest.raises(TicketRejected) as caught:
        ring.verify(code, at)
    return caught.value.reason


def _raw(code: str) -> bytes:
    return b45decode(code.removeprefix(TICKET_PREFIX))


def _code(raw: bytes) -> str:
    return TICKET_PREFIX + b45encode(raw)


def test_code_is_qr_alphanumeric_and_compact() -> None:
    code = NEW.sign(TICKET)
    assert code.startswith(TICKET_PREFIX)
    assert set(code) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert len(code) <= MAX_CODE_CHARS


def test_valid_ticket_verifies_with_its_key_id() -> None:
    verified = RING.verify(NEW.sign(TICKET), DURING)
    assert verified.ticket == TICKET
    assert verified.key_id == 2


@given(tickets(), st.sampled_from([OLD, NEW]))
def test_verify_inverts_sign(ticket: Ticket, signer: TicketSigner) -> None:
    verified = RING.verify(signer.sign(ticket), ticket.valid_from)
    assert verified.ticket == ticket
    assert verified.key_id == signer.key_id


@given(st.data())
def test_any_single_character_change_is_rejected(data: st.DataObject) -> None:
    ticket = data.draw(tickets())
    code = NEW.sign(ticket)
    index = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    replacement = data.draw(st.characters().filter(lambda char: char != code[index]))
    with pytest.raises(TicketRejected):
        RING.verify(code[:index] + replacement + code[index + 1 :], ticket.valid_from)


def test_forged_signature_with_a_published_key_id_is_rejected() -> None:
    forger = TicketSigner(2, _key(99))
    assert _reason(forger.sign(TICKET)) is RejectionReason.BAD_SIGNATURE


def test_altered_field_under_the_original_signature_is_rejected() -> None:
    raw = bytearray(_raw(NEW.sign(TICKET)))
    raw[26] ^= 0x01  # low byte of valid_until: a longer ride for free
    assert _reason(_code(bytes(raw))) is RejectionReason.BAD_SIGNATURE


@pytest.mark.parametrize("kept", [0, 1, SIGNATURE_BYTES - 1], ids=["stripped", "1", "63"])
def test_stripped_or_truncated_signature_is_rejected(kept: int) -> None:
    raw = _raw(NEW.sign(TICKET))
    body = raw[:-SIGNATURE_BYTES]
    assert _reason(_code(body + raw[len(body) : len(body) + kept])) is RejectionReason.BAD_SIGNATURE


def test_trailing_bytes_after_the_signature_are_rejected() -> None:
    assert _reason(_code(_raw(NEW.sign(TICKET)) + b"\x00")) is RejectionReason.BAD_SIGNATURE


def test_signature_without_the_ticket_context_is_rejected() -> None:
    # A signature the same key made over the bare bytes (another protocol) must not pass.
    body = _raw(NEW.sign(TICKET))[:-SIGNATURE_BYTES]
    assert _reason(_code(body + _key(2).sign(body))) is RejectionReason.BAD_SIGNATURE


def test_unknown_key_id_is_rejected() -> None:
    stranger = TicketSigner(7, _key(7))
    assert _reason(stranger.sign(TICKET)) is RejectionReason.UNKNOWN_KEY


def test_rotation_keeps_old_codes_until_the_key_is_dropped() -> None:
    old_code = OLD.sign(TICKET)
    assert RING.verify(old_code, DURING).key_id == 1
    after_rotation = TicketKeyRing({2: NEW.public_key})
    assert _reason(old_code, ring=after_rotation) is RejectionReason.UNKNOWN_KEY
    assert after_rotation.verify(NEW.sign(TICKET), DURING).key_id == 2


def test_validity_window_is_half_open() -> None:
    code = NEW.sign(TICKET)
    assert RING.verify(code, TICKET.valid_from).ticket == TICKET
    last_second = TICKET.valid_until - timedelta(seconds=1)
    assert RING.verify(code, last_second).ticket == TICKET
    early = TICKET.valid_from - timedelta(seconds=1)
    assert _reason(code, at=early) is RejectionReason.NOT_YET_VALID
    assert _reason(code, at=TICKET.valid_until) is RejectionReason.EXPIRED


def test_leeway_widens_the_window_for_drifting_clocks() -> None:
    code = NEW.sign(TICKET)
    late = TICKET.valid_until + timedelta(seconds=59)
    assert RING.verify(code, late, leeway_s=60).ticket == TICKET
    assert _reason(code, at=late + timedelta(seconds=1)) is RejectionReason.EXPIRED
    with pytest.raises(InvalidTicket, match="leeway_s"):
        RING.verify(code, late, leeway_s=MAX_LEEWAY_S + 1)


def test_forged_expired_code_reports_the_signature_not_the_time() -> None:
    forged = TicketSigner(2, _key(99)).sign(TICKET)
    assert _reason(forged, at=TICKET.valid_until + timedelta(days=1)) is (RejectionReason.BAD_SIGNATURE)


def _resigned(raw: bytes) -> str:
    """``raw`` with a good signature, to reach the checks that come after it."""
    body = raw[:-SIGNATURE_BYTES]
    return _code(body + _key(2).sign(SIGNING_CONTEXT + body))


@pytest.mark.parametrize(
    "code",
    [
        "",
        "HC1:ABC",
        TICKET_PREFIX,
        TICKET_PREFIX + "abc",
        TICKET_PREFIX + "A",
        TICKET_PREFIX + "0" * (MAX_CODE_CHARS - len(TICKET_PREFIX) + 1),
        _code(b"\x01\x00\x02"),
        _resigned(b"\x02" + _raw(NEW.sign(TICKET))[1:]),  # unknown format version
        _code(_raw(NEW.sign(TICKET))[:40]),  # cut inside the holder reference
        _resigned(_raw(NEW.sign(TICKET)).replace(b"BUS-SINGLE", b"BUS SINGLE")),
    ],
)
def test_malformed_codes_are_rejected(code: str) -> None:
    assert _reason(code) is RejectionReason.MALFORMED


def test_rejection_carries_a_readable_detail() -> None:
    with pytest.raises(TicketRejected, match=r"^expired: expired at 2026-03-01T08:00:00\+00:00$"):
        RING.verify(NEW.sign(TICKET), TICKET.valid_until)


def test_naive_verification_time_is_a_programming_error() -> None:
    with pytest.raises(InvalidTicket, match=r"^at: "):
        RING.verify(NEW.sign(TICKET), datetime(2026, 3, 1, 7, 0))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"product": ""}, "product"),
        ({"product": "BUS DAY"}, "product"),
        ({"product": "P" * 17}, "product"),
        ({"holder_ref": "h" * 33}, "holder_ref"),
        ({"holder_ref": "Nguyễn"}, "holder_ref"),
        ({"valid_from": datetime(2026, 3, 1, 6, 0)}, "valid_from"),
        ({"valid_from": START + timedelta(microseconds=5)}, "valid_from"),
        ({"valid_from": datetime(1969, 12, 31, tzinfo=UTC)}, "valid_from"),
        ({"valid_until": START}, "valid_until"),
        ({"valid_until": datetime(2106, 3, 1, tzinfo=UTC)}, "valid_until"),
        ({"ticket_id": "5b6c1d2e"}, "ticket_id"),
    ],
)
def test_invalid_tickets_cannot_be_issued(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidTicket) as caught:
        replace(TICKET, **changes)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize("key_id", [-1, 65536, True])
def test_key_id_must_fit_the_code(key_id: int) -> None:
    with pytest.raises(InvalidTicket, match="key_id"):
        sign_ticket(TICKET, key_id, _key(1))


def test_verify_ticket_accepts_any_mapping_of_keys() -> None:
    verified = verify_ticket(OLD.sign(TICKET), {1: OLD.public_key}, DURING)
    assert verified.key_id == 1
