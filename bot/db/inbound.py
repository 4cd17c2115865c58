"""The inbound journal's SQL: record an update before it is acknowledged, claim it in the
transaction that handles it, find what a crash left unfinished."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import Delivery, InboundUpdate
from bot.db.schedule import OPEN_STATUSES

PENDING, DONE, UNREADABLE = "pending", "done", "unreadable"

# The table itself, for the claim every update runs: on it, not the mapped class, the
# statement skips the ORM's bulk machinery.
JOURNAL = cast(Table, InboundUpdate.__table__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One update as the platform delivered it, with what the journal needs to know."""

    platform_id: str
    payload: str  # the raw body (JSON text), kept byte for byte
    chat_id: str = ""
    kind: str = ""
    sent_at: float | None = None  # when the user sent it (Unix time), if the platform says
    from_user: bool = True  # False for a platform's own report (a delivery status)
    # What tells a redelivery from a new update with the same id; by default the
    # payload's digest. WhatsApp's ids are never reused, so there it is "".
    key: str | None = None


def canonical_json(value: dict[str, Any]) -> str:
    """One spelling of a platform's JSON whatever whitespace and key order it came with,
    so a redelivery has the same payload (and digest). ASCII: a lone surrogate (a broken
    emoji) stays an escape that every database takes, instead of wedging the journal."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


class InboundRepository:
    def __init__(self, session: AsyncSession, channel: str, bot_id: str) -> None:
        self._session = session
        self._channel = channel
        self._bot_id = bot_id

    def _pending(self) -> tuple[ColumnElement[bool], ...]:
        """This bot's updates not handled yet."""
        return (
            InboundUpdate.channel == self._channel,
            InboundUpdate.bot_id == self._bot_id,
            InboundUpdate.status == PENDING,
        )

    async def record(self, arrivals: Sequence[Arrival], now: datetime) -> list[InboundUpdate]:
        """Writes the arrivals; returns the new rows in arrival order. A redelivery (same
        id, same payload) is not written again."""
        if not arrivals:
            return []
        rows = [
            {
                "channel": self._channel,
                "bot_id": self._bot_id,
                "platform_id": arrival.platform_id,
                "digest": digest(arrival.payload) if arrival.key is None else arrival.key,
                "chat_id": arrival.chat_id[:64],
                "kind": arrival.kind[:32],
                "payload": arrival.payload,
                "status": PENDING,
                "created_at": now,
            }
            for arrival in arrivals
        ]
        statement = (
            upsert_insert(self._session, InboundUpdate)
            .on_conflict_do_nothing(index_elements=["channel", "bot_id", "platform_id", "digest"])
            .returning(InboundUpdate)
        )
        new: list[InboundUpdate] = []
        # One row per statement: a multi-row INSERT … RETURNING does not promise the order.
        for row in rows:
            created = (await self._session.scalars(statement, [row])).one_or_none()
            if created is not None:
                new.append(created)
        return new

    async def take_turn(self, row: InboundUpdate) -> bool:
        """Holds the row's chat for the caller's transaction, across every process on
        the database, and says whether it is this row's turn: False while an earlier
        update of the chat is still pending (another instance has it, or left it). On
        SQLite the transaction's write lock already makes it one at a time, and one
        process keeps a chat in journal order."""
        if not row.chat_id or self._session.get_bind().dialect.name != "postgresql":
            return True
        chat = f"{row.channel}:{row.bot_id}:{row.chat_id}".encode()
        key = int.from_bytes(hashlib.sha256(chat).digest()[:8], "big", signed=True)
        await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        earlier = await self._session.scalar(
            select(InboundUpdate.id)
            .where(
                *self._pending(), InboundUpdate.chat_id == row.chat_id, InboundUpdate.id < row.id
            )
            .limit(1)
        )
        return earlier is None

    async def claim(self, row_id: int, now: datetime, status: str = DONE) -> bool:
        """Marks the row handled, inside the caller's transaction; False when it already
        was (another process got there first), and then the caller must roll back."""
        result = await self._session.execute(
            update(JOURNAL)
            .where(JOURNAL.c.id == row_id, JOURNAL.c.status == PENDING)
            .values(status=status, handled_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unfinished(self, before: datetime | None = None) -> list[InboundUpdate]:
        """Pending rows, oldest first; only those journalled before `before`, if given."""
        query = select(InboundUpdate).where(*self._pending())
        if before is not None:
            query = query.where(InboundUpdate.created_at < before)
        return list(await self._session.scalars(query.order_by(InboundUpdate.id)))

    async def pending_among(self, arrivals: Sequence[Arrival]) -> list[InboundUpdate]:
        """The arrivals that are already in the journal and still pending."""
        keys = {
            (arrival.platform_id, digest(arrival.payload) if arrival.key is None else arrival.key)
            for arrival in arrivals
        }
        rows = await self._session.scalars(
            select(InboundUpdate)
            .where(
                *self._pending(),
                InboundUpdate.platform_id.in_([platform_id for platform_id, _ in keys]),
            )
            .order_by(InboundUpdate.id)
        )
        return [row for row in rows if (row.platform_id, row.digest) in keys]

    async def oldest_pending(self) -> datetime | None:
        return await self._session.scalar(
            select(InboundUpdate.created_at)
            .where(*self._pending())
            .order_by(InboundUpdate.id)
            .limit(1)
        )


async def forget_handled_before(session: AsyncSession, moment: datetime) -> None:
    """Platforms redeliver within a day; a week of handled updates is plenty. Their
    replies in the outbox go too: they hold what the user was told."""
    await session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.status != PENDING, InboundUpdate.created_at < moment
        )
    )
    await session.execute(
        delete(Delivery).where(
            Delivery.kind == "reply",
            Delivery.status.not_in(OPEN_STATUSES),
            Delivery.created_at < moment,
        )
    )
