"""Plates: every reading of one plate gives one canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model.devices import UnreadablePlate, normalise_plate
from domain.model.devices.plates import plate_characters

province = st.integers(min_value=10, max_value=99).map(str)
letter = st.sampled_from("ABCDEFGHKLMNPSTUVXYZ")
car_series = st.lists(letter, min_size=1, max_size=2).map("".join)
moto_series = st.tuples(letter, st.integers(0, 9).map(str)).map("".join)
number = st.integers(min_value=0, max_value=99_999).map(lambda n: f"{n:05d}")
noise = st.sampled_from(["", "", "-", ".", " ", "  "])


@st.composite
def written(draw: st.DrawFn, chars: str) -> str:
    """``chars`` as someone might write or a camera might report them."""
    out = []
    for ch in chars:
        out.append(draw(noise))
        out.append(ch.lower() if draw(st.booleans()) else ch)
    return "".join(out) + draw(noise)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("29A-123.45", "29A-123.45"),
        ("29a12345", "29A-123.45"),
        ("29A 123 45", "29A-123.45"),
        (" 29A-12345 ", "29A-123.45"),
        ("30E-1234", "30E-1234"),
        ("29-B1 123.45", "29B1-123.45"),
        ("59x312345", "59X3-123.45"),
        ("51LD-123.45", "51LD-123.45"),
        ("29Đ-123.45", "29D-123.45"),
        ("ABC 1234", "ABC1234"),
    ],
)
def test_known_readings(raw: str, canonical: str) -> None:
    assert normalise_plate(raw) == canonical


@pytest.mark.parametrize("raw", ["", "---", "29", "A.B", "1234567890ABCDE"])
def test_unreadable_plates_are_refused(raw: str) -> None:
    with pytest.raises(UnreadablePlate):
        normalise_plate(raw)


@given(st.data(), province, car_series | moto_series, number)
def test_any_writing_of_a_vietnamese_plate_gives_one_form(
    data: st.DataObject, prov: str, series: str, digits: str
) -> None:
    chars = prov + series + digits
    canonical = normalise_plate(chars)
    assert normalise_plate(data.draw(written(chars))) == canonical
    assert normalise_plate(canonical) == canonical  # the canonical form is a fixed point
    assert plate_characters(canonical) == chars  # nothing of the plate is lost
    assert canonical.count("-") == 1


@given(st.text(max_size=20))
def test_normalising_is_idempotent_and_ignores_case_and_separators(raw: str) -> None:
    try:
        canonical = normalise_plate(raw)
    except UnreadablePlate:
        return
    assert normalise_plate(canonical) == canonical
    assert normalise_plate(raw.lower()) == canonical
    assert normalise_plate(raw.replace("-", " ").replace(".", "")) == canonical
