"""Every language has every string the others have, and nothing is left empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.web.language import LANGUAGES, STRINGS, words


def _keys(table: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in table.items():
        path = f"{prefix}{name}"
        keys |= _keys(value, f"{path}.") if isinstance(value, Mapping) else {path}
    return keys


def _values(table: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for value in table.values():
        out.extend(_values(value) if isinstance(value, Mapping) else [value])
    return out


def test_every_language_has_the_same_keys() -> None:
    vietnamese = _keys(words("vi"))
    assert vietnamese, f"strings in {STRINGS / 'vi'}"
    for language in LANGUAGES:
        assert _keys(words(language)) == vietnamese, language


def test_no_string_is_empty() -> None:
    for language in LANGUAGES:
        for value in _values(words(language)):
            assert isinstance(value, str), value
            assert value.strip(), language


def test_vietnamese_strings_are_written_with_their_diacritics() -> None:
    assert words("vi")["common"]["language_names"]["vi"] == "Tiếng Việt"
    assert "ộ" in words("vi")["common"]["skip_to_content"]
