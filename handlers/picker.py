"""Chooses the next tip, question or ask-back item so that nothing repeats until the
whole pool for the user's mode and role has been seen."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bot.db.models import User
from bot.db.repositories import ServedItemRepository
from content.loader import Library
from content.schema import Question, Tip


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


def _shuffle_key(user_id: int, item_id: str) -> bytes:
    # A stable per-user order: users see the pool in different orders, and the same user
    # gets the same order after a restart.
    return hashlib.sha256(f"{user_id}:{item_id}".encode()).digest()


def pick_next(items: Sequence[T], last_served: dict[str, datetime], user_id: int) -> T | None:
    if not items:
        return None
    never_seen = [item for item in items if item.id not in last_served]
    if never_seen:
        return min(never_seen, key=lambda item: _shuffle_key(user_id, item.id))
    return min(items, key=lambda item: (last_served[item.id], _shuffle_key(user_id, item.id)))


async def next_tip(served: ServedItemRepository, library: Library, user: User) -> Tip | None:
    """The user's next tip for their mode and role (not yet recorded as served)."""
    pool = [tip for tip in library.tips if tip.fits(user.mode, user.role)]
    return pick_next(pool, await served.last_served(user.id, "tip"), user.id)


async def next_question(
    served: ServedItemRepository, library: Library, user: User, mode: str
) -> Question | None:
    """The user's next practice question for a round and their role."""
    pool = [q for q in library.questions if q.fits(mode, user.role, user.level)]
    return pick_next(pool, await served.last_served(user.id, "question"), user.id)
