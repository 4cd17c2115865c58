"""Every outgoing Telegram call goes through here: one process-wide rate limit, a
per-chat limit, pauses when Telegram answers 429, quick retries of transient failures,
and blocked-user handling. The scheduler reuses the same sender, so daily messages and
replies share the budget.

What a caller of `call`, `send` or `edit` can get besides a result:

- `ChatBlocked`: the user blocked the bot; `on_blocked` has already run.
- `TransientTelegramError`: Telegram (or a proxy in front of it) failed in a way that
  may pass: a 5xx, an answer that is not the Bot API's JSON (an HTML 502/504 page), a
  network error. The quick retries have run out; try again later. It is a
  `TelegramServerError`, so code that catches that keeps working.
- `TelegramRetryAfter`: Telegram kept answering 429 through every pause.
- any other `TelegramAPIError` (a 400 is logged here with Telegram's description): the
  call is wrong and retrying it will not help.

`deliver` (the scheduler's path) turns `TelegramRetryAfter` into `RetryLater` and lets
the rest through to the dispatcher's back-off.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    LeaveChat,
    Response,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message
from aiolimiter import AsyncLimiter

from bot import metrics
from bot.channels.base import ChatBlocked, RetryLater
from bot.channels.pacing import PRIORITY_NAMES, REPLY, SCHEDULED, Pacer, Reservations
from bot.channels.telegram.render import render
from handlers.types import Reply

log = logging.getLogger(__name__)

# aiogram reads every answer into `Response[<the method's result>]`. pydantic caches
# those generic classes weakly, so after a garbage collection the next call builds the
# model class again (a few ms, about once per 20 updates under load). Held here, each is
# built once.
ANSWER_MODELS = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (SendMessage, EditMessageText, AnswerCallbackQuery, LeaveChat)
)

T = TypeVar("T")
MAX_RETRY_AFTER_ATTEMPTS = 5
MAX_TRANSIENT_RETRIES = 3
TRANSIENT_BACKOFF_SECONDS = 0.5
MAX_TRACKED_CHATS = 10_000
# Telegram does not say whether a 429 is about one chat or the whole bot. One chat
# flooding gets 429s for that chat only; the bot over its global limit gets them for
# whichever chats it sends to, so several chats in a short time means "everyone".
GLOBAL_FLOOD_CHATS = 3
GLOBAL_FLOOD_WINDOW_SECONDS = 1.0
NOT_MODIFIED = "message is not modified"


OnBlocked = Callable[[str], Awaitable[None]]
Transient = TelegramServerError | TelegramNetworkError | ClientDecodeError


class TransientTelegramError(TelegramServerError):
    """A call that failed for a reason that may pass (see the module docstring), after
    the quick retries. `original` is the last failure. Whether Telegram acted on the
    call is unknown, as with any timeout: a 504 can come after the message went out."""

    def __init__(self, original: Transient) -> None:
        method: TelegramMethod[Any] | None
        if isinstance(original, TelegramAPIError):
            method, description = original.method, original.message
        else:
            # Not str(original): that quotes the undecodable body, which may echo the
            # message text back.
            method, description = None, f"undecodable answer ({original.message})"
        # A decode error carries no method; nothing reads `method` off a server error.
        super().__init__(method=method, message=description)  # type: ignore[arg-type]
        self.original = original


@dataclass
class _Chat:
    limiter: AsyncLimiter
    resume_at: float = 0.0  # loop time before which this chat must not send (its 429)


@dataclass
class _RecentFloods:
    """Which chats got a 429 lately, to tell one chat's flood from the bot's."""

    window: float
    seen: deque[tuple[float, str]] = field(default_factory=deque)

    def add(self, now: float, chat_id: str) -> int:
        """Records a 429 and returns how many different chats had one in the window."""
        self.seen.append((now, chat_id))
        while self.seen and self.seen[0][0] < now - self.window:
            self.seen.popleft()
        return len({chat for _, chat in self.seen})


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        on_blocked: OnBlocked,
        messages_per_second: float = 25,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
        paid_broadcast_per_second: float | None = None,
        shared: Callable[[str], Reservations | None] = lambda _budget: None,
    ) -> None:
        """`messages_per_second` is the steady budget replies and scheduled messages
        share, replies first (`pacing.Pacer`). A chat may send `per_chat_burst` messages
        at once (a long reply in parts) and then `per_chat_per_second`.

        With `paid_broadcast_per_second`, scheduled messages go out with Telegram's
        `allow_paid_broadcast` (paid in Stars, past the free 30 a second) at that rate,
        and the free budget is left to replies.

        `shared` gives a budget's reservations across instances (`bot.db.send_budget`),
        by the budget's name."""
        self._bot = bot
        self._on_blocked = on_blocked
        bot_id = str(bot.id)
        self._global = Pacer(messages_per_second, shared(f"telegram:{bot_id}"))
        self._broadcast = (
            Pacer(paid_broadcast_per_second, shared(f"telegram-paid:{bot_id}"))
            if paid_broadcast_per_second is not None
            else None
        )
        self._per_chat_rate = per_chat_per_second
        self._per_chat_burst = per_chat_burst
        self._chats: OrderedDict[str, _Chat] = OrderedDict()
        self._floods = _RecentFloods(GLOBAL_FLOOD_WINDOW_SECONDS)
        self._resume = asyncio.Event()
        self._resume.set()

    def _chat(self, chat_id: str) -> _Chat:
        chat = self._chats.pop(chat_id, None) or _Chat(
            AsyncLimiter(self._per_chat_burst, self._per_chat_burst / self._per_chat_rate)
        )
        self._chats[chat_id] = chat
        if len(self._chats) > MAX_TRACKED_CHATS:
            self._chats.popitem(last=False)
        return chat

    async def _pause_all(self, seconds: float) -> None:
        if not self._resume.is_set():
            return
        self._resume.clear()
        log.warning("telegram asked to slow down; pausing all sends for %.0f s", seconds)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._resume.set()

    async def _slow_down(self, chat_id: str, chat: _Chat, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        chat.resume_at = max(chat.resume_at, now + seconds)
        if self._floods.add(now, chat_id) >= GLOBAL_FLOOD_CHATS:
            await self._pause_all(seconds)
        else:
            log.info("telegram asked chat %s to slow down; pausing it for %.0f s", chat_id, seconds)

    @property
    def scheduled_per_second(self) -> float:
        return self._budget(SCHEDULED).rate

    def _budget(self, priority: int) -> Pacer:
        """Paid broadcasts have a budget of their own; everything else shares the free one."""
        if priority == SCHEDULED and self._broadcast is not None:
            return self._broadcast
        return self._global

    async def _take_turn(self, chat: _Chat, priority: int) -> None:
        """Waits until this chat may send: no pause on it or on everyone, and a token
        from the chat's limiter and a slot from the shared budget."""
        loop = asyncio.get_running_loop()
        while True:
            await self._resume.wait()
            delay = chat.resume_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            # The chat's limiter first: a global token taken and then held while the
            # chat waits out its own limit would be a slot no other chat can use.
            await chat.limiter.acquire()
            waited = await self._budget(priority).acquire(priority)
            metrics.observe_limiter_wait("telegram", PRIORITY_NAMES[priority], waited)
            # A pause may have begun while this call queued for the limiters.
            if self._resume.is_set() and chat.resume_at <= loop.time():
                return

    async def call(
        self,
        chat_id: str,
        make_call: Callable[[], Awaitable[T]],
        transient_retries: int = MAX_TRANSIENT_RETRIES,
        priority: int = REPLY,
    ) -> T:
        """Runs one API call for a chat under the limits. A 429 pauses that chat (or
        everyone, when several chats get one at once) and is retried. A transient
        failure is retried `transient_retries` times, briefly, because a reply that is
        given up on is lost to the user; then `TransientTelegramError`. A 400 is logged
        once, here, and propagates."""
        chat = self._chat(chat_id)
        rate_limited = transient = 0
        while True:
            await self._take_turn(chat, priority)
            try:
                return await make_call()
            except TelegramRetryAfter as error:
                metrics.count_rate_limited("telegram")
                rate_limited += 1
                if rate_limited == MAX_RETRY_AFTER_ATTEMPTS:
                    raise
                await self._slow_down(chat_id, chat, error.retry_after)
                continue
            except TelegramEntityTooLarge:
                raise  # a network error by aiogram's classes, but sending again is no cure
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
                transient += 1
                if transient > transient_retries:
                    raise TransientTelegramError(error) from error
            except TelegramForbiddenError:
                await self._on_blocked(chat_id)
                raise ChatBlocked(chat_id) from None
            except TelegramBadRequest as error:
                # Telegram's description says what was wrong without quoting the text.
                log.warning(
                    "telegram refused %s in chat %s: %s",
                    type(error.method).__name__,
                    chat_id,
                    error.message,
                )
                raise
            await asyncio.sleep(TRANSIENT_BACKOFF_SECONDS * 2 ** (transient - 1))

    async def send(
        self,
        chat_id: str,
        reply: Reply,
        first_part_retries: int = MAX_TRANSIENT_RETRIES,
        priority: int = REPLY,
    ) -> list[Message]:
        """Sends a reply, in several messages when it is long. Once a part is out, the
        rest gets the quick retries whatever the caller asked: giving up half-way would
        make the caller resend the parts the user already has."""
        sent: list[Message] = []
        for text, markup in render(reply):
            retries = MAX_TRANSIENT_RETRIES if sent else first_part_retries
            sent.append(await self._send_chunk(chat_id, text, markup, retries, priority))
        return sent

    async def _send_chunk(
        self,
        chat_id: str,
        text: str,
        markup: InlineKeyboardMarkup | None,
        transient_retries: int,
        priority: int,
    ) -> Message:
        paid = True if self._budget(priority) is self._broadcast else None
        return await self.call(
            chat_id,
            lambda: self._bot.send_message(
                chat_id=int(chat_id), text=text, reply_markup=markup, allow_paid_broadcast=paid
            ),
            transient_retries,
            priority,
        )

    async def edit(self, chat_id: str, message_id: int, reply: Reply) -> bool:
        """Replaces a message's text and keyboard; False when the reply doesn't fit in one
        message, so the caller sends it instead. True also when the message already
        reads that way (Telegram's "message is not modified"): the user sees the reply."""
        chunks = render(reply)
        if len(chunks) != 1:
            return False
        text, markup = chunks[0]

        async def edit_once() -> None:
            try:
                await self._bot.edit_message_text(
                    chat_id=int(chat_id), message_id=message_id, text=text, reply_markup=markup
                )
            except TelegramBadRequest as error:
                # Caught here, not in `call`, so it is neither logged nor raised.
                if NOT_MODIFIED not in error.message:
                    raise

        await self.call(chat_id, edit_once)
        return True

    async def deliver(self, chat_id: str, reply: Reply) -> None:
        """The scheduler's way out (`OutboundChannel`). No quick retries before the first
        part: the dispatcher has its own back-off, and waiting on one user would stall
        the batch. A 429 that outlasts the pauses is `RetryLater`; everything else
        (`TransientTelegramError` included) goes to the dispatcher's generic back-off."""
        try:
            await self.send(chat_id, reply, first_part_retries=0, priority=SCHEDULED)
        except TelegramRetryAfter as error:
            raise RetryLater(error.retry_after) from None
