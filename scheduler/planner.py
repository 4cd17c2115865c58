"""Writes the daily deliveries for today and tomorrow (in each user's zone), so a restart
or downtime never loses one, and handles the engagement back-off."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.schedule import DeliveryRepository
from scheduler.plan import daily_slot
from scheduler.store import delivery_row
from scheduler.timing import DAILY_GRACE, local

# After this many daily messages in a row with no reply, send one gentle note and then
# only every BACKOFF_EVERY_DAYS days, until the user writes again.
IGNORED_BEFORE_BACKOFF = 3
BACKOFF_EVERY_DAYS = 3


def _on_backoff_schedule(day: date, last_active_day: date) -> bool:
    return (day - last_active_day).days % BACKOFF_EVERY_DAYS == 0


def _next_backoff_slot(user: User, today: date, last_active_day: date, now: datetime) -> datetime:
    for offset in range(BACKOFF_EVERY_DAYS + 1):
        day = today + timedelta(days=offset)
        slot = daily_slot(day, user.daily_time, user.timezone)
        if slot >= now and _on_backoff_schedule(day, last_active_day):
            return slot
    raise AssertionError("every BACKOFF_EVERY_DAYS days has a slot")


async def plan_daily(session: AsyncSession, now: datetime) -> int:
    users = await session.scalars(
        select(User).where(User.paused.is_(False), User.blocked.is_(False))
    )
    deliveries = DeliveryRepository(session)
    ignored = await deliveries.ignored_tips()
    rows: list[dict[str, Any]] = []
    dropped: list[str] = []
    for user in users:
        backing_off = ignored.get(user.id, 0) >= IGNORED_BEFORE_BACKOFF
        today = local(now, user.timezone).date()
        last_active_day = local(user.last_active_at, user.timezone).date()

        for offset in (0, 1):
            day = today + timedelta(days=offset)
            due = daily_slot(day, user.daily_time, user.timezone)
            key = f"tip:{user.id}:{day.isoformat()}"
            if due < now:
                continue  # today's time has passed: tomorrow's row covers the user
            if backing_off and not _on_backoff_schedule(day, last_active_day):
                dropped.append(key)  # it may have been written before the back-off began
                continue
            rows.append(
                delivery_row(
                    user_id=user.id,
                    kind="tip",
                    dedupe_key=key,
                    due_at=due,
                    expires_at=due + DAILY_GRACE,
                    now=now,
                )
            )
        if backing_off:
            # The note rides along with the next message on the slower schedule, so the
            # user never gets it as a ping of its own.
            due = _next_backoff_slot(user, today, last_active_day, now)
            rows.append(
                delivery_row(
                    user_id=user.id,
                    kind="nudge",
                    dedupe_key=f"nudge:{user.id}:{user.last_active_at.isoformat()}",
                    due_at=due,
                    expires_at=due + DAILY_GRACE,
                    now=now,
                )
            )
    await deliveries.delete_pending_keys(dropped)
    return await deliveries.add_if_absent(rows)
