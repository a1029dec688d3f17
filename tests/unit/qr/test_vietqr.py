from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr.emv import with_crc
from qr.errors import ChecksumMismatch, InvalidField, MalformedPayload, PayloadError, QRError
from qr.vietqr import AMOUNT_MAX_VND, Initiation, Service, VietQR, build, decode, encode
from tests.unit.qr.strategies import fixture_lines, vietqr_fields

DYNAMIC, STATIC = Initiation.DYNAMIC, Initiation.STATIC

# Expected fields of each public sample, and the build() inputs that must reproduce it.
SAMPLES: dict[str, tuple[VietQR, VietQR]] = {
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704"
    "54061200005802VN62170813ung ho lu lut6304C15C": (
        VietQR("970415", "0011001932418", initiation=DYNAMIC, amount_vnd=120000, purpose="ung ho lu lut"),
        build("970415", "0011001932418", amount_vnd=120000, purpose="ủng hộ lũ lụt"),
    ),
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704"
    "5405100005802VN62150811Chuyen tien630453E6": (
        VietQR("970416", "257678859", initiation=DYNAMIC, amount_vnd=10000, purpose="Chuyen tien"),
        build("970416", "257678859", amount_vnd=10000, purpose="Chuyển tiền"),
    ),
    "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F": (
        VietQR("970416", "257678859", initiation=STATIC),
        build("970416", "257678859"),
    ),
    "00020101021138580010A000000727012800069704070114190304136010180208QRIBFTTA53037045802VN63040283": (
        VietQR("970407", "19030413601018", initiation=STATIC),
        build("970407", "19030413601018"),
    ),
    "00020101021238490010A000000727011900069704160105135790208QRIBFTTA530370454061200005802VN63049A71": (
        VietQR("970416", "13579", initiation=DYNAMIC, amount_vnd=120000),
        build("970416", "13579", amount_vnd=120000),
    ),
    "00020101021238490010A000000727011900069704320105193720208QRIBFTTA5303704"
    "54061520005802VN62200816gen by go-vietqr63040ED4": (
        VietQR("970432", "19372", initiation=DYNAMIC, amount_vnd=152000, purpose="gen by go-vietqr"),
        build("970432", "19372", amount_vnd=152000, purpose="gen by go-vietqr"),
    ),
}

# Each deliberately broken public payload and the error class it must raise.
INVALID: dict[int, type[PayloadError]] = {
    0: ChecksumMismatch,  # wrong CRC
    1: InvalidField,  # lower-case CRC
    2: InvalidField,  # CRC not hex
    3: MalformedPayload,  # CRC value missing
    4: ChecksumMismatch,  # BIN changed, CRC copied
    5: MalformedPayload,  # account removed, lengths not updated
}


def test_every_public_sample_has_expectations() -> None:
    assert sorted(row[0] for row in fixture_lines("vietqr_public_samples.txt")) == sorted(SAMPLES)


@pytest.mark.parametrize("payload", SAMPLES)
def test_public_sample_decodes_to_expected_fields(payload: str) -> None:
    assert decode(payload) == SAMPLES[payload][0]


@pytest.mark.parametrize("payload", SAMPLES)
def test_public_sample_reencodes_byte_for_byte(payload: str) -> None:
    assert encode(decode(payload)) == payload


@pytest.mark.parametrize("payload", SAMPLES)
def test_building_from_the_same_inputs_reproduces_the_sample(payload: str) -> None:
    assert encode(SAMPLES[payload][1]) == payload


@pytest.mark.parametrize("index", range(len(INVALID)))
def test_public_invalid_payload_is_rejected(index: int) -> None:
    rows = fixture_lines("vietqr_public_invalid.txt")
    assert len(rows) == len(INVALID)
    with pytest.raises(INVALID[index]):
        decode(rows[index][0])


@given(vietqr_fields())
def test_decode_inverts_encode(fields: VietQR) -> None:
    assert decode(encode(fields)) == fields


@given(vietqr_fields(), st.data())
def test_any_single_character_change_is_detected(fields: VietQR, data: st.DataObject) -> None:
    payload = encode(fields)
    index = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    replacement = data.draw(st.characters().filter(lambda char: char != payload[index]))
    changed = payload[:index] + replacement + payload[index + 1 :]
    with pytest.raises(QRError):
        decode(changed)


def test_a_lone_surrogate_in_a_payload_is_a_qr_error() -> None:
    payload = encode(VietQR(bank_bin="970436", account="0011004455667"))
    with pytest.raises(QRError):
        decode(payload[:4] + "\ud800" + payload[5:])


def _payload(*objects: str) -> str:
    return with_crc("".join(objects))


_HEAD = "000201" + "010212"
_ACCOUNT = "38490010A000000727011900069704160105135790208QRIBFTTA"
_TAIL = "5303704" + "5802VN"


@pytest.mark.parametrize(
    ("payload", "tag"),
    [
        (_payload("010212", "000201", _ACCOUNT, _TAIL), "00"),
        (_payload("000202", "010212", _ACCOUNT, _TAIL), "00"),
        (_payload(_HEAD, _ACCOUNT, "5303840", "5802VN"), "53"),
        (_payload(_HEAD, _ACCOUNT, "5303704", "5802US"), "58"),
        (_payload("000201", "010213", _ACCOUNT, _TAIL), "01"),
        (_payload("000201", _ACCOUNT, _TAIL), "01"),
        (_payload(_HEAD, _TAIL), "38"),
        (_payload(_HEAD, _ACCOUNT.replace("A000000727", "A000000775"), _TAIL), "38.00"),
        (_payload(_HEAD, _ACCOUNT.replace("QRIBFTTA", "QRPUSHXX"), _TAIL), "38.02"),
        (_payload(_HEAD, _ACCOUNT.replace("0006970416", "0006970A16"), _TAIL), "38.01.00"),
        (_payload(_HEAD, _ACCOUNT.replace("010513579", "0105135_9"), _TAIL), "38.01.01"),
        (_payload(_HEAD, _ACCOUNT.replace("QRIBFTTA", "QRIBFTTC").replace("13579", "1357X"), _TAIL), "38.01.01"),
        (_payload(_HEAD, "38260010A0000007270208QRIBFTTA", _TAIL), "38.01"),
        (_payload(_HEAD, _ACCOUNT, "5303704", "5405012005802VN"), "54"),
        (_payload(_HEAD, _ACCOUNT, "5303704", "54071200.005802VN"), "54"),
        (_payload(_HEAD, _ACCOUNT, "5203ABC", _TAIL), "52"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "5926" + "N" * 26), "59"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "6016" + "C" * 16), "60"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "62070303abc"), "62.03"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "62300826" + "p" * 26), "62.08"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "62060802ăb"), "62.08"),
        (_payload(_HEAD, _ACCOUNT, _TAIL, "2604abcd"), "26"),
    ],
)
def test_decode_errors_name_the_tag(payload: str, tag: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode(payload)
    assert caught.value.tag == tag
    assert str(caught.value).startswith(f"tag {tag}: ")


def test_decode_refuses_payloads_over_512_characters() -> None:
    with pytest.raises(MalformedPayload, match="512"):
        decode("0" * 513)


@pytest.mark.parametrize(
    ("changes", "tag"),
    [
        ({"bank_bin": "97041"}, "38.01.00"),
        ({"bank_bin": "\uff19\uff17\uff10\uff14\uff11\uff15"}, "38.01.00"),  # full-width
        ({"account": ""}, "38.01.01"),
        ({"account": "1" * 20}, "38.01.01"),
        ({"account": "12-34"}, "38.01.01"),
        ({"account": "12AB", "service": Service.TO_CARD}, "38.01.01"),
        ({"amount_vnd": 0}, "54"),
        ({"amount_vnd": -5}, "54"),
        ({"amount_vnd": AMOUNT_MAX_VND + 1}, "54"),
        ({"amount_vnd": True}, "54"),
        ({"mcc": "581"}, "52"),
        ({"name": "N" * 26}, "59"),
        ({"name": ""}, "59"),
        ({"city": "Hà Nội"}, "60"),
        ({"purpose": "line\nbreak"}, "62.08"),
        ({"bill": "B" * 25, "reference": "R" * 25, "terminal": "T" * 25, "purpose": "P" * 25}, "62"),
    ],
)
def test_constructor_rejects_invalid_fields_naming_the_tag(changes: dict[str, object], tag: str) -> None:
    base: dict[str, object] = {"bank_bin": "970415", "account": "0011001932418"}
    with pytest.raises(InvalidField) as caught:
        VietQR(**(base | changes))  # type: ignore[arg-type]
    assert caught.value.tag == tag


def test_build_is_dynamic_only_for_payment_specific_codes() -> None:
    assert build("970415", "1").initiation is STATIC
    assert build("970415", "1", purpose="Ung ho", terminal="T1").initiation is STATIC
    assert build("970415", "1", amount_vnd=5000).initiation is DYNAMIC
    assert build("970415", "1", bill="HS-2024-1").initiation is DYNAMIC
    assert build("970415", "1", reference="R1").initiation is DYNAMIC


def test_build_cleans_and_cuts_free_text() -> None:
    fields = build(
        "970415",
        "1",
        name="Trung tâm Phục vụ hành chính công Đà Nẵng",
        city="Thành phố Hồ Chí Minh",
        purpose="Lệ phí hộ tịch #HS/2024/0007 (bản sao)",
    )
    assert fields.name == "Trung tam Phuc vu hanh ch"
    assert fields.city == "Thanh pho Ho Ch"
    assert fields.purpose == "Le phi ho tich HS 2024 00"
    assert build("970415", "1", purpose=" !!! ").purpose is None


def test_build_selects_card_service() -> None:
    assert build("970415", "4111111111111111", card=True).service is Service.TO_CARD
    with pytest.raises(InvalidField, match="card number"):
        build("970415", "ACC1", card=True)


def test_build_does_not_rewrite_identifiers() -> None:
    with pytest.raises(InvalidField) as caught:
        build("970415", "1", bill="HĐ-01")
    assert caught.value.tag == "62.01"
