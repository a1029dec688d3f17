"""Free text made safe for bank apps: no diacritics, no punctuation bank apps refuse.

The rule, applied in this order to a name, city or purpose before it goes into a payload:

1. Decompose to NFKD, so precomposed ``ủ`` and ``u`` + combining marks look the same,
   and compatibility forms (full-width digits, the ``fi`` ligature) become plain ones.
2. Map ``đ``/``Đ`` to ``d``/``D``: the stroke is not a combining mark and survives NFKD.
3. Drop every combining mark (the Vietnamese tone and vowel marks).
4. Replace every remaining character other than ASCII letters, digits, space, hyphen
   and full stop with a space: several bank apps refuse other punctuation and symbols
   (``& # % @ / "`` ...) in the transfer note, and a space keeps word boundaries readable
   (``HD/2024/07`` becomes ``HD 2024 07``). Hyphen and full stop are kept because
   addresses and references use them (``Q.1``, ``go-vietqr``) and bank apps accept them.
5. Collapse runs of spaces to one and trim both ends.
6. Cut to the field's limit and trim again, so a cut never leaves a trailing space.

Case is kept. A text that ends up empty means "no field" (``None``).
"""

from __future__ import annotations

import re
import unicodedata

_STROKE_D = str.maketrans({"đ": "d", "Đ": "D"})
_NOT_SAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def clean_text(text: str, limit: int) -> str | None:
    """Applies the module rule to ``text`` and cuts it to ``limit`` characters."""
    assert limit > 0, "a field limit is always positive"
    decomposed = unicodedata.normalize("NFKD", text).translate(_STROKE_D)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = _NOT_SAFE.sub(" ", bare).strip()
    cut = spaced[:limit].rstrip()
    return cut or None
