"""Writes deliveries rows. The dedupe key makes every write safe to repeat."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Interview, User
from bot.db.schedule import PENDING, SENDING, SENT, DeliveryRepository, InterviewRepository
from content.loader import Library
from handlers.types import Button, Reply
from scheduler.plan import PlannedStep, build_plan, daily_slot
from scheduler.timing import at_local, local

# A late answer still helps until the next morning; after that it would only confuse.
REPLY_VALIDITY = timedelta(hours=12)


def delivery_row(
    *,
    user_id: int,
    kind: str,
    dedupe_key: str,
    due_at: datetime,
    expires_at: datetime,
    now: datetime,
    item_id: str = "",
    interview_id: int | None = None,
    payload: str = "",
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "interview_id": interview_id,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "item_id": item_id,
        "payload": payload,
        "due_at": due_at,
        "expires_at": expires_at,
        "status": PENDING,
        "attempts": 0,
        "last_error": "",
        "created_at": now,
    }


async def schedule_interview(
    session: AsyncSession, library: Library, interview: Interview, user: User, now: datetime
) -> list[PlannedStep]:
    """Plans the interview's steps. Run again (after a new daily time or zone), steps
    that already have a row keep it, and a day that already got a step gets no more."""
    deliveries = DeliveryRepository(session)
    key = {step.id: f"prep:{interview.id}:{step.id}" for step in library.plan}
    existing = await deliveries.with_keys(list(key.values()))
    done = {row.dedupe_key for row in existing}
    planned = build_plan(
        [step for step in library.plan if key[step.id] not in done],
        mode=interview.mode,
        starts_at=interview.starts_at,
        timezone=user.timezone,
        daily_time=user.daily_time,
        now=now,
        closed_days=frozenset(
            local(row.due_at, user.timezone).date()
            for row in existing
            if row.status in (PENDING, SENDING, SENT)
        ),
    )
    rows = [
        delivery_row(
            user_id=user.id,
            interview_id=interview.id,
            kind="plan",
            dedupe_key=key[p.step.id],
            item_id=p.step.id,
            due_at=p.due_at,
            expires_at=p.expires_at,
            now=now,
        )
        for p in planned
    ]
    await deliveries.add_if_absent(rows)
    return planned


async def reactivate(session: AsyncSession, user: User, now: datetime) -> None:
    """The user is reachable again (an unblock, or /start): their coming messages that
    were cancelled while the chat was unreachable are back on schedule."""
    user.blocked = False
    await DeliveryRepository(session).reopen_unreachable(user.id, now)


async def reschedule_plans(
    session: AsyncSession, library: Library, user: User, now: datetime
) -> None:
    """After a new daily time or zone, the coming plan steps of each upcoming interview
    move to it. When the new time has already passed today, today's daily-time steps
    keep their old time instead: moved, they would have no slot left and be dropped."""
    today = local(now, user.timezone).date()
    keep_today = daily_slot(today, user.daily_time, user.timezone) <= now
    tomorrow = at_local(today + timedelta(days=1), time(0, 0), user.timezone)
    daily_steps = {step.id for step in library.plan if step.days_before is not None}
    deliveries = DeliveryRepository(session)
    for interview in await InterviewRepository(session).upcoming(user.id, now):
        moved = [
            row.dedupe_key
            for row in await deliveries.pending_for(user.id, interview.id)
            if row.status == PENDING
            and row.due_at > now
            and not (keep_today and row.due_at < tomorrow and row.item_id in daily_steps)
        ]
        await deliveries.delete_pending_keys(moved)
        await schedule_interview(session, library, interview, user, now)


def encode_reply(reply: Reply) -> str:
    return json.dumps(
        {"text": reply.text, "buttons": [[b.label, b.payload] for b in reply.buttons]},
        ensure_ascii=False,
    )


def decode_reply(payload: str) -> Reply:
    data = json.loads(payload)
    buttons = tuple(Button(label, value) for label, value in data["buttons"])
    return Reply(data["text"], buttons)


async def hold_replies(
    session: AsyncSession, user_id: int, replies: list[Reply], now: datetime, lease: timedelta
) -> list[int]:
    """The outbox: replies written with the update that caused them, already claimed for
    the live send. If that send never happens (a crash), the lease runs out and the
    dispatcher sends them, with an apology for the delay. Returns the row ids, in order."""
    rows = []
    for reply in replies:
        row = delivery_row(
            user_id=user_id,
            kind="reply",
            dedupe_key=f"reply:{user_id}:{uuid4().hex}",
            due_at=now,
            expires_at=now + REPLY_VALIDITY,
            now=now,
            payload=encode_reply(reply),
        )
        rows.append({**row, "status": SENDING, "attempts": 1, "lease_until": now + lease})
    return await DeliveryRepository(session).add_returning_ids(rows)


async def postpone_replies(
    session: AsyncSession, user_id: int, ids: list[int], at: datetime, reason: str
) -> None:
    """Replies the channel could not send now go out with the dispatcher's retries, so a
    Telegram outage delays an answer instead of losing it. Replies still waiting from
    before go out with these, in order, not after them."""
    deliveries = DeliveryRepository(session)
    await deliveries.retry_later(ids, at, reason)
    await deliveries.retry_waiting_replies(user_id, at)
