"""Field types shared by the resource modules' bodies (their JSON Schema comes with them)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from domain.model.money import MAX_VND

Vnd = Annotated[int, msgspec.Meta(ge=0, le=MAX_VND, description="integer đồng")]
PositiveVnd = Annotated[int, msgspec.Meta(ge=1, le=MAX_VND, description="integer đồng, at least 1")]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
AccountPart = Annotated[
    str, msgspec.Meta(pattern=r"^[^:\x00-\x1f\x7f]{1,64}$", description="an id that may name a ledger account (no ':')")
]
