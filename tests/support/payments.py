"""Payments as the code of an earlier schema stored them."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import StoredEvent

from adapters.eventstore.codec import CodecOptions, build_mapper


def as_stored_v1(event: Any, *added: str) -> Any:
    """``event`` read back from the state its v1 class stored: without the fields v2
    ``added`` (default: `Payment.Created`'s ``request_id``) and without ``class_version``."""
    mapper = build_mapper(CodecOptions())
    stored = mapper.to_stored_event(event)
    state = json.loads(stored.state)
    for name in (*(added or ("request_id",)), "class_version"):
        del state[name]
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    return mapper.to_domain_event(v1)
