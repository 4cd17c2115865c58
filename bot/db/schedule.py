"""Repositories for interviews and deliveries: the scheduler's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import Delivery, Interview, User

PENDING, SENDING, SENT, SKIPPED, CANCELLED, FAILED = (
    "pending",
    "sending",
    "sent",
    "skipped",
    "cancelled",
    "failed",
)

OPEN_STATUSES = (PENDING, SENDING)  # rows the dispatcher may still send

# Why a row was cancelled when its chat could not be reached; see reopen_unreachable.
BLOCKED, UNREACHABLE = "blocked", "unreachable"
UNREACHABLE_REASONS = (BLOCKED, UNREACHABLE)

# The table itself, for the statements every reply runs: on it, not the mapped class,
# a statement skips the ORM's bulk machinery, which costs more than the statement.
DELIVERIES = cast(Table, Delivery.__table__)


class InterviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user_id: int, starts_at: datetime, mode: str, now: datetime) -> Interview:
        interview = Interview(user_id=user_id, starts_at=starts_at, mode=mode, created_at=now)
        self._session.add(interview)
        await self._session.flush()
        return interview

    async def upcoming(self, user_id: int, now: datetime) -> list[Interview]:
        """Scheduled interviews that have not started, or ended less than a day ago
        (their debrief may still be pending)."""
        rows = await self._session.scalars(
            select(Interview)
            .where(
                Interview.user_id == user_id,
                Interview.status == "scheduled",
                Interview.starts_at > now - timedelta(days=1),
            )
            .order_by(Interview.starts_at)
        )
        return list(rows)

    async def get(self, user_id: int, interview_id: int) -> Interview | None:
        return await self._session.scalar(
            select(Interview).where(Interview.id == interview_id, Interview.user_id == user_id)
        )

    async def cancel(self, interview: Interview) -> None:
        interview.status = "cancelled"
        await DeliveryRepository(self._session).cancel_pending(
            interview.user_id, interview_id=interview.id
        )


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, rows: Sequence[dict[str, Any]]) -> int:
        """Inserts rows; a row whose dedupe key exists is skipped. Returns how many
        were new."""
        if not rows:
            return 0
        statement = upsert_insert(self._session, Delivery).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        result = await self._session.execute(statement.returning(Delivery.id), list(rows))
        return len(result.all())

    async def keys_due_since(self, since: datetime | None, kind: str) -> set[str]:
        """The dedupe keys of `kind` rows due from `since` on (None: ever), whatever
        their status."""
        query = select(Delivery.dedupe_key).where(Delivery.kind == kind)
        if since is not None:
            query = query.where(Delivery.due_at >= since)
        return set(await self._session.scalars(query))

    async def add_returning_ids(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Inserts new rows (unique keys); returns their ids in the order given."""
        statement = insert(DELIVERIES).returning(DELIVERIES.c.id)
        ids = []
        for row in rows:
            result = await self._session.execute(statement, row)
            ids.append(result.scalar_one())
        return ids

    async def renew_lease(self, ids: Sequence[int], until: datetime) -> bool:
        """Extends the lease of rows still claimed for sending; False when one of them is
        not (the lease ran out and the dispatcher took it, or it was finished)."""
        result = await self._session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(list(ids)), DELIVERIES.c.status == SENDING)
            .values(lease_until=until)
        )
        return getattr(result, "rowcount", 0) == len(ids)

    async def release_sending(self, ids: Sequence[int], at: datetime) -> None:
        """Rows of these still claimed for sending go back to the dispatcher, due at `at`."""
        await self._session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(ids)), Delivery.status == SENDING)
            .values(status=PENDING, next_attempt_at=at, lease_until=None, last_error="shutdown")
        )

    async def with_keys(self, keys: Sequence[str]) -> list[Delivery]:
        if not keys:
            return []
        rows = await self._session.scalars(
            select(Delivery).where(Delivery.dedupe_key.in_(list(keys)))
        )
        return list(rows)

    async def cancel_pending(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        interview_id: int | None = None,
        reason: str = "",
    ) -> None:
        conditions = [Delivery.user_id == user_id, Delivery.status == PENDING]
        if kind is not None:
            conditions.append(Delivery.kind == kind)
        if interview_id is not None:
            conditions.append(Delivery.interview_id == interview_id)
        await self._session.execute(
            update(Delivery).where(*conditions).values(status=CANCELLED, last_error=reason)
        )

    async def reopen_unreachable(self, user_id: int, now: datetime) -> None:
        """A user who comes back after blocking the bot gets their coming messages again:
        rows cancelled because the chat was unreachable, still in the future, and not of
        a cancelled interview."""
        scheduled = select(Interview.id).where(Interview.status == "scheduled")
        await self._session.execute(
            update(Delivery)
            .where(
                Delivery.user_id == user_id,
                Delivery.status == CANCELLED,
                Delivery.last_error.in_(UNREACHABLE_REASONS),
                Delivery.kind != "nudge",  # they were away; coming back is not ignoring us
                Delivery.due_at > now,
                or_(Delivery.interview_id.is_(None), Delivery.interview_id.in_(scheduled)),
            )
            .values(status=PENDING, attempts=0, last_error="", next_attempt_at=None)
        )

    async def delete_pending(self, user_id: int, *, kind: str) -> None:
        """Pending rows of a kind disappear, so the planner can write them again with new
        times under the same dedupe keys."""
        await self._session.execute(
            delete(Delivery).where(
                Delivery.user_id == user_id, Delivery.kind == kind, Delivery.status == PENDING
            )
        )

    async def retry_waiting_replies(self, user_id: int, at: datetime) -> None:
        """Waiting replies that were to be retried later are tried at `at` instead."""
        await self._session.execute(
            update(Delivery)
            .where(
                Delivery.user_id == user_id,
                Delivery.kind == "reply",
                Delivery.status == PENDING,
                Delivery.next_attempt_at > at,
            )
            .values(next_attempt_at=at)
        )

    async def delete_pending_keys(self, keys: Sequence[str]) -> None:
        if keys:
            await self._session.execute(
                delete(Delivery).where(
                    Delivery.dedupe_key.in_(list(keys)), Delivery.status == PENDING
                )
            )

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int, channels: Sequence[str]
    ) -> list[Delivery]:
        """Claims the due rows (and rows whose lease ran out) of up to `limit` users in one
        atomic UPDATE, so two dispatchers never get the same row. A user's due rows are
        claimed together, so they become one message even at a busy minute. Only users
        on `channels`: a process that serves other channels (the terminal chat next to
        the bot) leaves the rest be."""
        reachable = select(User.id).where(User.channel.in_(list(channels)))
        is_due = or_(
            and_(
                Delivery.status == PENDING,
                Delivery.due_at <= now,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            ),
            and_(Delivery.status == SENDING, Delivery.lease_until < now),
        )
        first_due = (
            select(Delivery.user_id, func.min(Delivery.due_at).label("first_due"))
            .where(Delivery.user_id.in_(reachable), is_due)
            .group_by(Delivery.user_id)
            .subquery()
        )
        users = (
            select(first_due.c.user_id)
            .order_by(first_due.c.first_due, first_due.c.user_id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # SQLite runs one writer at a time, so its UPDATE is the whole claim. On
            # PostgreSQL two dispatchers claim at once: each takes a lock on the users'
            # rows first and skips users another one holds, so a user's rows are never
            # split between them and the next users in line are claimed instead. NO KEY
            # UPDATE does not hold up the planner's inserts, which only need KEY SHARE.
            users = (
                select(User.id)
                .join(first_due, first_due.c.user_id == User.id)
                .order_by(first_due.c.first_due, User.id)
                .limit(limit)
                .with_for_update(of=User, skip_locked=True, key_share=True)
            )
        claimed = await self._session.scalars(
            update(Delivery)
            .where(Delivery.user_id.in_(users.scalar_subquery()), is_due)
            .values(status=SENDING, lease_until=now + lease, attempts=Delivery.attempts + 1)
            .returning(Delivery),
            execution_options={"synchronize_session": False},
        )
        return list(claimed)

    async def finish(
        self, ids: Sequence[int], status: str, now: datetime, error: str = "", ref: str = ""
    ) -> None:
        values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": error[:200]}
        if status == SENT:
            values["sent_at"] = now
            values["sent_ref"] = ref[:128]
        await self._session.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(list(ids))).values(values)
        )

    async def record_receipt(self, ref: str, outcome: str, now: datetime) -> None:
        """The platform says message `ref` reached the phone ("delivered") or was read."""
        if not ref or outcome not in ("delivered", "read"):
            return
        rows = update(Delivery).where(Delivery.sent_ref == ref)
        await self._session.execute(
            rows.where(Delivery.delivered_at.is_(None)).values(delivered_at=now)
        )
        if outcome == "read":
            await self._session.execute(rows.where(Delivery.read_at.is_(None)).values(read_at=now))

    async def with_ref(self, ref: str) -> list[Delivery]:
        """The rows sent as the platform's message `ref`."""
        if not ref:
            return []
        return list(await self._session.scalars(select(Delivery).where(Delivery.sent_ref == ref)))

    async def retry_later(self, ids: Sequence[int], at: datetime, error: str) -> None:
        await self._session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(ids)))
            .values(status=PENDING, next_attempt_at=at, lease_until=None, last_error=error[:200])
        )

    async def pending_for(self, user_id: int, interview_id: int) -> list[Delivery]:
        rows = await self._session.scalars(
            select(Delivery)
            .where(
                Delivery.user_id == user_id,
                Delivery.interview_id == interview_id,
                Delivery.status.in_([PENDING, SENDING]),
            )
            .order_by(Delivery.due_at, Delivery.id)
        )
        return list(rows)

    async def ignored_tips(self) -> dict[int, int]:
        """Per user: daily messages sent after the user last wrote to the bot. Users
        with none are left out. One query for everyone, as the planner runs every minute."""
        rows = await self._session.execute(
            select(Delivery.user_id, func.count())
            .join(User, User.id == Delivery.user_id)
            .where(
                Delivery.kind == "tip",
                Delivery.status == SENT,
                Delivery.sent_at > User.last_active_at,
            )
            .group_by(Delivery.user_id)
        )
        return {user_id: int(count) for user_id, count in rows}
