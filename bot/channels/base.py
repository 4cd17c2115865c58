"""What the scheduler needs from a channel: deliver one reply to one chat."""

from __future__ import annotations

from typing import Protocol

from handlers.types import Reply


class ChatBlocked(Exception):
    """The user blocked the bot. The channel has already marked the user blocked."""


class RetryLater(Exception):
    """The platform asked us to slow down; nothing was lost."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class OutboundChannel(Protocol):
    async def deliver(self, chat_id: str, reply: Reply) -> None: ...
