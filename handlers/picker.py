"""Chooses the next tip, question or ask-back item so that nothing repeats until the
whole pool for the user's mode and role has been seen."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar


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
