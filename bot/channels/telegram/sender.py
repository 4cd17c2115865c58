"""Every outgoing Telegram call goes through here: one process-wide rate limit, a
per-chat limit, a shared pause when Telegram answers 429, and blocked-user handling.
The scheduler reuses the same sender, so daily messages and replies share the budget."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message
from aiolimiter import AsyncLimiter

from bot.channels.base import ChatBlocked, RetryLater
from bot.channels.telegram.render import render
from handlers.types import Reply

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRY_AFTER_ATTEMPTS = 5
MAX_TRANSIENT_RETRIES = 3
TRANSIENT_BACKOFF_SECONDS = 0.5
MAX_TRACKED_CHATS = 10_000


OnBlocked = Callable[[str], Awaitable[None]]


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        on_blocked: OnBlocked,
        messages_per_second: float = 25,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
    ) -> None:
        self._bot = bot
        self._on_blocked = on_blocked
        self._global = AsyncLimiter(messages_per_second, 1)
        self._per_chat_rate = per_chat_per_second
        self._per_chat_burst = per_chat_burst
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._resume = asyncio.Event()
        self._resume.set()

    def _chat_limiter(self, chat_id: str) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(
            self._per_chat_burst, self._per_chat_burst / self._per_chat_rate
        )
        self._chats[chat_id] = limiter
        if len(self._chats) > MAX_TRACKED_CHATS:
            self._chats.popitem(last=False)
        return limiter

    async def _pause_all(self, seconds: float) -> None:
        if not self._resume.is_set():
            return
        self._resume.clear()
        log.warning("telegram asked to slow down; pausing all sends for %.0f s", seconds)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._resume.set()

    async def call(
        self,
        chat_id: str,
        make_call: Callable[[], Awaitable[T]],
        transient_retries: int = MAX_TRANSIENT_RETRIES,
    ) -> T:
        """Runs one API call for a chat under the limits. A 429 pauses every send and is
        retried; a 5xx or a network error is retried a few times, briefly, because a
        reply that is given up on is lost to the user."""
        rate_limited = transient = 0
        while True:
            await self._resume.wait()
            async with self._global, self._chat_limiter(chat_id):
                try:
                    return await make_call()
                except TelegramRetryAfter as error:
                    rate_limited += 1
                    if rate_limited == MAX_RETRY_AFTER_ATTEMPTS:
                        raise
                    pause: float | None = error.retry_after
                except (TelegramServerError, TelegramNetworkError):
                    transient += 1
                    if transient > transient_retries:
                        raise
                    pause = None
                except TelegramForbiddenError:
                    await self._on_blocked(chat_id)
                    raise ChatBlocked(chat_id) from None
            if pause is not None:
                await self._pause_all(pause)
            else:
                await asyncio.sleep(TRANSIENT_BACKOFF_SECONDS * 2 ** (transient - 1))

    async def send(
        self, chat_id: str, reply: Reply, first_part_retries: int = MAX_TRANSIENT_RETRIES
    ) -> list[Message]:
        """Sends a reply, in several messages when it is long. Once a part is out, the
        rest gets the quick retries whatever the caller asked: giving up half-way would
        make the caller resend the parts the user already has."""
        sent: list[Message] = []
        for text, markup in render(reply):
            retries = MAX_TRANSIENT_RETRIES if sent else first_part_retries
            sent.append(await self._send_chunk(chat_id, text, markup, retries))
        return sent

    async def _send_chunk(
        self,
        chat_id: str,
        text: str,
        markup: InlineKeyboardMarkup | None,
        transient_retries: int,
    ) -> Message:
        return await self.call(
            chat_id,
            lambda: self._bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup),
            transient_retries,
        )

    async def edit(self, chat_id: str, message_id: int, reply: Reply) -> bool:
        """Replaces a message's text and keyboard; False when the reply doesn't fit in one
        message, so the caller sends it instead."""
        chunks = render(reply)
        if len(chunks) != 1:
            return False
        text, markup = chunks[0]
        await self.call(
            chat_id,
            lambda: self._bot.edit_message_text(
                chat_id=int(chat_id), message_id=message_id, text=text, reply_markup=markup
            ),
        )
        return True

    async def deliver(self, chat_id: str, reply: Reply) -> None:
        """The scheduler's way out (`OutboundChannel`). No quick retries before the first
        part: the dispatcher has its own back-off, and waiting on one user would stall
        the batch."""
        try:
            await self.send(chat_id, reply, first_part_retries=0)
        except TelegramRetryAfter as error:
            raise RetryLater(error.retry_after) from None
