"""Writing events into a store whose schema predates the current code, the way the code
of that time did (client-side chain hashing), to prove that migrations keep them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.eventstore.chain import extend_chain
from adapters.eventstore.codec import CodecOptions, build_mapper, encode_events
from adapters.eventstore.postgres import split_store_url
from domain.ports import ChainHead


async def append_by_sql(store_url: str, events: Sequence[Any]) -> None:
    """PostgreSQL only: schema 1 has no `citysettle_append` yet."""
    rows = encode_events(build_mapper(CodecOptions()), events)
    dsn, schema = split_store_url(store_url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema or "public"})
    try:
        async with conn.transaction():
            head_row = await conn.fetchrow("SELECT position, hash FROM chain_head WHERE id = 1 FOR UPDATE")
            planned, _, head = extend_chain(ChainHead(head_row["position"], bytes(head_row["hash"])), [rows])
            await conn.executemany(
                "INSERT INTO events (position, stream_id, version, topic, state, hash) VALUES ($1, $2, $3, $4, $5, $6)",
                [(p.position, p.row.stream_id, p.row.version, p.row.topic, p.row.state, p.hash) for p in planned],
            )
            await conn.execute("UPDATE chain_head SET position = $1, hash = $2 WHERE id = 1", head.position, head.hash)
    finally:
        await conn.close()
