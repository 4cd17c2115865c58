"""aiogram handlers: Telegram updates become `Inbound`, the coach's replies go back out
through the shared sender. Only private chats are served."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    ChatMemberUpdated,
    Message,
    TelegramObject,
    Update,
    User,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChatBlocked
from bot.channels.chat_lock import ChatLocks
from bot.channels.flood import FloodGuard, Verdict
from bot.channels.inflight import InFlight
from bot.channels.telegram.sender import TelegramSender
from bot.clock import Clock
from bot.db.repositories import ProcessedUpdateRepository, UserRepository
from handlers.router import Coach
from handlers.types import Inbound, Reply
from scheduler.store import queue_replies, reactivate

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# The commands shown in Telegram's menu, in this order; descriptions live in messages.yaml.
MENU_COMMANDS = (
    "start",
    "mode",
    "tips",
    "latihan",
    "interview",
    "jadwal",
    "batal",
    "tanya_balik",
    "peran",
    "pengingat",
    "zona",
    "jeda",
    "lanjut",
    "bantuan",
)


def _name(user: User | None) -> str:
    return user.full_name if user is not None else ""


class TelegramChannel:
    def __init__(
        self,
        coach: Coach,
        sender: TelegramSender,
        sessions: async_sessionmaker[AsyncSession],
        flood: FloodGuard,
        inflight: InFlight,
        clock: Clock,
    ) -> None:
        self._coach = coach
        self._sender = sender
        self._sessions = sessions
        self._flood = flood
        self._inflight = inflight
        self._clock = clock
        self._chats = ChatLocks()

    async def first_time(self, update_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            return await ProcessedUpdateRepository(session).first_time(
                CHANNEL, str(update_id), self._clock()
            )

    async def skip_redelivered(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outer middleware: Telegram redelivers a webhook it thinks failed, and the same
        update must not be answered twice."""
        if isinstance(update, Update) and not await self.first_time(update.update_id):
            log.info("telegram update %s was already handled", update.update_id)
            return None
        return await handler(update, data)

    def router(self) -> Router:
        router = Router(name="coach")
        router.message.register(self.on_message)
        router.callback_query.register(self.on_callback)
        router.my_chat_member.register(self.on_chat_member)
        return router

    def menu(self) -> list[BotCommand]:
        say = self._coach.library.messages.render
        return [BotCommand(command=name, description=say(f"cmd_{name}")) for name in MENU_COMMANDS]

    async def set_blocked(self, chat_id: str, blocked: bool = True) -> None:
        async with self._sessions() as session, session.begin():
            user = await UserRepository(session).find(CHANNEL, chat_id)
            if user is None:
                return
            if blocked:
                user.blocked = True
            else:
                await reactivate(session, user, self._clock())
        log.info("telegram chat %s marked %s", chat_id, "blocked" if blocked else "reachable")

    def _flooded(self, chat_id: str) -> Verdict:
        return self._flood.check(f"{CHANNEL}:{chat_id}")

    async def on_message(self, message: Message) -> None:
        if message.chat.type != ChatType.PRIVATE:
            return
        chat_id = str(message.chat.id)
        async with self._inflight.track():
            # Judged on arrival, not after waiting for the chat's earlier messages.
            verdict = self._flooded(chat_id)
            if verdict is Verdict.DROP:
                return
            if verdict is Verdict.WARN:
                note = self._coach.library.messages.render("flood_note")
                await self._deliver(chat_id, [Reply(note)])
                return
            inbound = Inbound(
                CHANNEL,
                chat_id,
                text=message.text or "",
                display_name=_name(message.from_user),
                has_media=message.text is None,
            )
            async with self._chats.hold(chat_id):
                await self._deliver(chat_id, await self._coach.handle(inbound))

    async def on_callback(self, query: CallbackQuery) -> None:
        message = query.message if isinstance(query.message, Message) else None
        if message is not None and message.chat.type != ChatType.PRIVATE:
            return
        chat_id = str(message.chat.id if message is not None else query.from_user.id)
        async with self._inflight.track():
            try:
                # Answer first: it stops the spinner on the user's button right away.
                await query.answer()
            except TelegramAPIError:
                log.warning("could not answer a callback query in chat %s", chat_id)
            if self._flooded(chat_id) is not Verdict.ALLOW:
                return
            inbound = Inbound(
                CHANNEL, chat_id, payload=query.data or "", display_name=_name(query.from_user)
            )
            async with self._chats.hold(chat_id):
                replies = await self._coach.handle(inbound)
                await self._deliver(chat_id, replies, message.message_id if message else None)

    async def on_chat_member(self, update: ChatMemberUpdated) -> None:
        if update.chat.type != ChatType.PRIVATE:
            return
        blocked = update.new_chat_member.status == "kicked"
        await self.set_blocked(str(update.chat.id), blocked)

    async def _deliver(
        self, chat_id: str, replies: list[Reply], edit_message_id: int | None = None
    ) -> None:
        for index, reply in enumerate(replies):
            try:
                if index == 0 and reply.edit and edit_message_id is not None:
                    try:
                        if await self._sender.edit(chat_id, edit_message_id, reply):
                            continue
                    except TelegramBadRequest:
                        # Too old to edit, or unchanged: a fresh message reads just as well.
                        pass
                await self._sender.send(chat_id, reply)
            except ChatBlocked:
                return
            except (TelegramServerError, TelegramNetworkError, TelegramRetryAfter) as error:
                log.warning(
                    "telegram chat %s: reply queued after %s", chat_id, type(error).__name__
                )
                await self._queue(chat_id, replies[index:])
                return
            except TelegramAPIError as error:
                log.error("sending to telegram chat %s failed: %s", chat_id, type(error).__name__)
                return

    async def _queue(self, chat_id: str, replies: list[Reply]) -> None:
        async with self._sessions() as session, session.begin():
            user = await UserRepository(session).find(CHANNEL, chat_id)
            if user is not None:
                await queue_replies(session, user.id, replies, self._clock())
