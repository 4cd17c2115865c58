"""Writes the daily deliveries for today and tomorrow (in each user's zone), so a restart
or downtime never loses one, and handles the engagement back-off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import cache
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
# The note needs those three messages, one per local day, sent after the user last wrote:
# more than a day of silence (less a zone change's shift). A user who wrote more recently
# cannot have one pending, so their messages need not look for one.
NOTE_NEEDS_SILENCE = timedelta(hours=12)


# Daily rows already written are looked up from this far back: today's and tomorrow's
# rows in every zone are all due after it.
KNOWN_ROWS_SINCE = timedelta(days=2)


def _on_backoff_schedule(day: date, last_active_day: date) -> bool:
    return (day - last_active_day).days % BACKOFF_EVERY_DAYS == 0


def _next_backoff_slot(
    slot: Callable[[date, time, str], datetime],
    daily_time: time,
    timezone: str,
    today: date,
    last_active_day: date,
    now: datetime,
) -> datetime:
    for offset in range(BACKOFF_EVERY_DAYS + 1):
        day = today + timedelta(days=offset)
        moment = slot(day, daily_time, timezone)
        if moment >= now and _on_backoff_schedule(day, last_active_day):
            return moment
    raise AssertionError("every BACKOFF_EVERY_DAYS days has a slot")


async def plan_daily(session: AsyncSession, now: datetime) -> int:
    """One tick: a few reads for everyone (the users, their back-off counts, the keys
    already written) and an insert of only what is missing, so a minute in which
    nothing changed writes nothing. Columns, not ORM objects: at 100,000 users building
    the objects cost more than the queries."""
    users = await session.execute(
        select(User.id, User.timezone, User.daily_time, User.last_active_at).where(
            User.paused.is_(False), User.blocked.is_(False)
        )
    )
    deliveries = DeliveryRepository(session)
    ignored = await deliveries.ignored_tips()
    # A back-off note's key is the user's last message, which may be long ago.
    known = await deliveries.keys_due_since(now - KNOWN_ROWS_SINCE, "tip")
    known |= await deliveries.keys_due_since(None, "nudge")
    slot = cache(daily_slot)
    today_in = cache(lambda timezone: local(now, timezone).date())
    rows: list[dict[str, Any]] = []
    dropped: list[str] = []

    def add(user_id: int, kind: str, key: str, due: datetime) -> None:
        if key not in known:
            rows.append(
                delivery_row(
                    user_id=user_id,
                    kind=kind,
                    dedupe_key=key,
                    due_at=due,
                    expires_at=due + DAILY_GRACE,
                    now=now,
                )
            )

    for user_id, timezone, daily_time, last_active_at in users:
        backing_off = ignored.get(user_id, 0) >= IGNORED_BEFORE_BACKOFF
        today = today_in(timezone)
        last_active_day = local(last_active_at, timezone).date() if backing_off else today
        for offset in (0, 1):
            day = today + timedelta(days=offset)
            due = slot(day, daily_time, timezone)
            key = f"tip:{user_id}:{day.isoformat()}"
            if due < now:
                continue  # today's time has passed: tomorrow's row covers the user
            if backing_off and not _on_backoff_schedule(day, last_active_day):
                if key in known:
                    dropped.append(key)  # written before the back-off began
                continue
            add(user_id, "tip", key, due)
        if backing_off:
            # The note rides along with the next message on the slower schedule, so the
            # user never gets it as a ping of its own.
            due = _next_backoff_slot(slot, daily_time, timezone, today, last_active_day, now)
            add(user_id, "nudge", f"nudge:{user_id}:{last_active_at.isoformat()}", due)
    await deliveries.delete_pending_keys(dropped)
    return await deliveries.add_if_absent(rows)
