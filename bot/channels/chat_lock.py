"""One update at a time per chat. The inbound worker handles updates concurrently; two
quick taps from one user would otherwise race on that user's rows, and replies could
cross."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ChatLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, chat: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[chat] -= 1
            if self._waiting[chat] == 0:
                # Nobody else holds or waits for it: forget it, so memory stays flat.
                del self._waiting[chat], self._locks[chat]

    def __len__(self) -> int:
        return len(self._locks)
