"""Payments as the code of an earlier schema stored them."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import StoredEvent

from adapters.eventstore.codec import CodecOptions, build_mapper


def as_stored_v1(created: Any) -> Any:
    """``created`` (a `Payment.Created`) read back from the state the v1 class stored:
    no ``request_id``, no ``class_version``."""
    mapper = build_mapper(CodecOptions())
    stored = mapper.to_stored_event(created)
    state = json.loads(stored.state)
    del state["request_id"], state["class_version"]
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    return mapper.to_domain_event(v1)
