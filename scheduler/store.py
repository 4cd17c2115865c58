"""Writes deliveries rows. The dedupe key makes every write safe to repeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Interview, User
from bot.db.schedule import PENDING, DeliveryRepository
from content.loader import Library
from scheduler.plan import PlannedStep, build_plan


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
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "interview_id": interview_id,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "item_id": item_id,
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
    planned = build_plan(
        library.plan,
        mode=interview.mode,
        starts_at=interview.starts_at,
        timezone=user.timezone,
        daily_time=user.daily_time,
        now=now,
    )
    rows = [
        delivery_row(
            user_id=user.id,
            interview_id=interview.id,
            kind="plan",
            dedupe_key=f"prep:{interview.id}:{p.step.id}",
            item_id=p.step.id,
            due_at=p.due_at,
            expires_at=p.expires_at,
            now=now,
        )
        for p in planned
    ]
    await DeliveryRepository(session).add_if_absent(rows)
    return planned
