"""What the inbound worker and the scheduler need from a channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from handlers.types import Reply


class ChatBlocked(Exception):
    """The user blocked the bot. The channel has already marked the user blocked."""


class RetryLater(Exception):
    """The platform asked us to slow down; nothing was lost."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class TemporaryFailure(Exception):
    """The platform is failing or unreachable right now (5xx, an HTML error page, a
    network error); the same message can be tried again later."""


class Refused(Exception):
    """The platform refused this message for good (a rejected template, a malformed
    call): trying the same again will not help."""


class OutboundChannel(Protocol):
    # How many scheduled messages a second the channel can take: the dispatcher claims
    # about a second's worth at a time.
    @property
    def scheduled_per_second(self) -> float: ...

    async def deliver(self, chat_id: str, reply: Reply) -> str | None:
        """Sends a message the bot sends on its own (the scheduler's way out). Returns
        the platform's id of the message, when later statuses will refer to it."""


class ReplyChannel(OutboundChannel, Protocol):
    # True: the replies to one update are handed over together, to be merged into as
    # few messages as read naturally; False: one at a time.
    merges_replies: bool

    async def reply(
        self, chat_id: str, replies: Sequence[Reply], edit_target: str | None
    ) -> str | None:
        """Answers the user right away; the first reply may replace `edit_target` (the
        message whose button was tapped) instead of sending a new message. Raises
        `ChatBlocked`, `RetryLater` or `TemporaryFailure` when it could not. Returns the
        platform's id of the (first) message, as `deliver` does."""
