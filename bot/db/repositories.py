"""Repositories: the only place that knows SQL. Handlers call these."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import ConversationState, PracticeAttempt, ServedItem, User

# session.info key: the users a transaction has looked up, by (channel, external id).
KNOWN_USERS = "known_users"
SERVED_ITEMS = cast(Table, ServedItem.__table__)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, channel: str, external_id: str) -> User | None:
        known = self._known().get((channel, external_id))
        if known is not None:
            return known
        user = await self._session.scalar(
            select(User).where(User.channel == channel, User.external_id == external_id)
        )
        if user is not None:
            # Looked up again after the query: it may have begun the transaction.
            self._known()[(channel, external_id)] = user
        return user

    async def get_or_create(
        self, channel: str, external_id: str, display_name: str, now: datetime
    ) -> tuple[User, bool]:
        user = await self.find(channel, external_id)
        if user is not None:
            return user, False
        user = User(
            channel=channel,
            external_id=external_id,
            display_name=display_name,
            created_at=now,
            last_active_at=now,
        )
        self._session.add(user)
        await self._session.flush()
        self._known()[(channel, external_id)] = user
        return user, True

    def _known(self) -> dict[tuple[str, str], User]:
        """The users this transaction has looked up: an update's handling asks for its
        user more than once. Kept per transaction, as a rollback expires or drops them."""
        transaction = self._session.sync_session.get_transaction()
        cached = self._session.info.get(KNOWN_USERS)
        if cached is None or cached[0] is not transaction:
            cached = (transaction, {})
            self._session.info[KNOWN_USERS] = cached
        users: dict[tuple[str, str], User] = cached[1]
        return users


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    name: str
    data: dict[str, Any]
    updated_at: datetime


class ConversationStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> StateSnapshot | None:
        row = await self._session.get(ConversationState, user_id)
        return None if row is None else StateSnapshot(row.state, dict(row.data), row.updated_at)

    async def set(self, user_id: int, name: str, data: dict[str, Any], now: datetime) -> None:
        row = await self._session.get(ConversationState, user_id)
        self._write(row, user_id, name, data, now)
        await self._session.flush()

    def _write(
        self,
        row: ConversationState | None,
        user_id: int,
        name: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        if row is None:
            self._session.add(
                ConversationState(user_id=user_id, state=name, data=data, updated_at=now)
            )
        else:
            row.state, row.data, row.updated_at = name, data, now

    async def get_many(self, user_ids: Collection[int]) -> dict[int, StateSnapshot]:
        rows = await self._session.scalars(
            select(ConversationState).where(ConversationState.user_id.in_(list(user_ids)))
        )
        return {
            row.user_id: StateSnapshot(row.state, dict(row.data), row.updated_at) for row in rows
        }

    async def set_many(
        self, states: Mapping[int, tuple[str, dict[str, Any]]], now: datetime
    ) -> None:
        """Sets (name, data) for each user id, with one read and one flush for them all."""
        if not states:
            return
        rows = {
            row.user_id: row
            for row in await self._session.scalars(
                select(ConversationState).where(ConversationState.user_id.in_(list(states)))
            )
        }
        for user_id, (name, data) in states.items():
            self._write(rows.get(user_id), user_id, name, data, now)
        await self._session.flush()

    async def clear(self, user_id: int) -> None:
        await self._session.execute(
            delete(ConversationState).where(ConversationState.user_id == user_id)
        )


class PracticeAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        user_id: int,
        question_id: str,
        mode: str,
        answer: str,
        score: int,
        feedback_summary: str,
        now: datetime,
    ) -> None:
        self._session.add(
            PracticeAttempt(
                user_id=user_id,
                question_id=question_id,
                mode=mode,
                answer=answer,
                score=score,
                feedback_summary=feedback_summary,
                created_at=now,
            )
        )
        await self._session.flush()

    async def list_for_user(self, user_id: int) -> list[PracticeAttempt]:
        result = await self._session.scalars(
            select(PracticeAttempt)
            .where(PracticeAttempt.user_id == user_id)
            .order_by(PracticeAttempt.created_at, PracticeAttempt.id)
        )
        return list(result)

    async def count_for_user(self, user_id: int) -> int:
        count = await self._session.scalar(
            select(func.count()).where(PracticeAttempt.user_id == user_id)
        )
        return int(count or 0)


class ServedItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def last_served(self, user_id: int, kind: str) -> dict[str, datetime]:
        rows = await self._session.execute(
            select(ServedItem.item_id, ServedItem.served_at).where(
                ServedItem.user_id == user_id, ServedItem.kind == kind
            )
        )
        return {item_id: served_at for item_id, served_at in rows}

    async def record(self, user_id: int, kind: str, item_id: str, now: datetime) -> None:
        await self.record_many([(user_id, kind, item_id)], now)

    async def record_many(self, served: Sequence[tuple[int, str, str]], now: datetime) -> None:
        """Records (user id, kind, item id) as served now, in one statement: a scheduled
        message and a reply serving the same item at the same moment cannot collide on
        the unique key, and a dispatched batch pays for one statement, not one a user."""
        rows = {
            (user_id, item_id): {
                "user_id": user_id,
                "kind": kind,
                "item_id": item_id,
                "served_at": now,
            }
            for user_id, kind, item_id in served
        }
        if not rows:
            return
        statement = upsert_insert(self._session, SERVED_ITEMS)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "item_id"],
                set_={"served_at": statement.excluded.served_at},
            ),
            list(rows.values()),
        )
